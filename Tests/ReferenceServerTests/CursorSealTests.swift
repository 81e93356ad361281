import Foundation
import HTTPTypes
@testable import ReferenceServer
import Testing
import TradesKit
import TradesKitTesting

/// Public reviews hide their time and id; their page cursors must not carry them.
@Suite("Sealed cursors")
struct CursorSealTests {
    let seal = CursorSeal(signingKey: Array("a signing key of at least 32 bytes!".utf8))

    @Test("A sealed cursor opens to its position, says nothing readable, and refuses tampering, other keys and plain cursors")
    func roundTrip() throws {
        let id = UUID()
        let cursor = PageCursor(after: Date(millisecondsSince1970: 1_764_000_123_456), id: id)
        let sealed = try seal.seal(cursor)
        #expect(sealed.range(of: CursorSeal.pattern, options: .regularExpression) != nil, "\(sealed)")
        #expect(seal.open(sealed) == cursor)
        #expect(!sealed.contains("1764000123456") && !sealed.lowercased().contains(id.lowercasedString.prefix(8)))
        #expect(try seal.seal(cursor) != sealed, "a fresh nonce each time")
        // Every position round-trips, the extremes included.
        for milliseconds: Int64 in [0, 1, 999_999_999_999_999] {
            let extreme = PageCursor(after: Date(millisecondsSince1970: milliseconds), id: UUID())
            #expect(seal.open(try seal.seal(extreme))?.id == extreme.id)
        }

        var tampered = Array(sealed)
        tampered[40] = tampered[40] == "A" ? "B" : "A"
        #expect(seal.open(String(tampered)) == nil)
        #expect(CursorSeal(signingKey: Array("another signing key, 32 bytes or more".utf8)).open(sealed) == nil)
        #expect(seal.open(APICursor.string(cursor)) == nil)
        #expect(seal.open(String(sealed.dropLast())) == nil)
        #expect(seal.open(String(repeating: "A", count: 70)) == nil)
    }

    @Test("Reviews about a user page with sealed cursors: each page follows on, and a plain or forged cursor is refused")
    func publicReviewPages() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let m = harness.market
        for title in ["Fix the tap", "Fix the sink", "Fix the bath"] {
            let job = try await m.jobs.post(
                by: world.owner.principal,
                .init(
                    categoryID: world.plumbing, title: title, description: "It drips", location: Fixtures.london,
                    budget: BudgetRange(min: Money(10_000, .usd), max: Money(50_000, .usd))))
            let bid = try await m.bids.submit(by: world.contractorA.principal, on: job.id, .init(amount: Money(20_000, .usd)))
            _ = try await m.bids.accept(by: world.owner.principal, bid.id)
            _ = try await m.jobs.start(by: world.contractorA.principal, job.id)
            _ = try await m.jobs.complete(by: world.contractorA.principal, job.id)
            _ = try await m.jobs.approve(by: world.owner.principal, job.id)
            _ = try await m.reviews.submit(by: world.owner.principal, job: job.id, rating: 5, text: title)
            _ = try await m.reviews.submit(by: world.contractorA.principal, job: job.id, rating: 4, text: "Clear brief")
            harness.clock.advance(by: 60)
        }
        try await harness.test { api async throws in
            let path = "/v1/users/\(world.contractorA.id)/reviews"
            var texts: [String] = []
            var cursor: String?
            repeat {
                let page = try await api.call(
                    .get, path + "?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), as: world.contractorB)
                #expect(page.status == .ok, "\(page)")
                texts += page.items.compactMap { $0["text"]?.stringValue }
                cursor = page["nextCursor"]?.stringValue
                if let cursor { #expect(harness.server.services.cursors.open(cursor) != nil && APICursor.parse(cursor) == nil, "\(cursor)") }
            } while cursor != nil && texts.count < 5
            #expect(texts == ["Fix the bath", "Fix the sink", "Fix the tap"])

            // A plain cursor (which a client could aim anywhere in time) is not one of this list's.
            let plain = "1764000123456_\(UUID().uuidString.lowercased())"
            let refused = try await api.call(.get, path + "?cursor=" + plain, as: world.contractorB)
            #expect(refused.status == .unprocessableContent && refused.fieldErrors == ["cursor"], "\(refused)")
            let forged = try await api.call(.get, path + "?cursor=" + String(repeating: "A", count: 70), as: world.contractorB)
            #expect(forged.status == .unprocessableContent && forged.fieldErrors == ["cursor"], "\(forged)")
        }
    }
}
