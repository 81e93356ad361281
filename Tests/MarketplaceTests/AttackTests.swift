import Foundation
import TestSupport
import Testing
import TradesKit
import TradesKitTesting

@Suite("Attacks: tenant isolation and blind bids")
struct AttackTests {
    /// Two tenants in one storage; tenant B has a job in every interesting state.
    struct Battlefield {
        let t: TestMarket
        let a: TestMarket.World
        let b: TestMarket.World
        let bOpenJob: Job
        let bAwardedJob: Job
        let bClosedJob: Job
        let bBid: Bid
        let bDispute: Dispute
    }

    static func battlefield(_ kind: StorageKind) async throws -> Battlefield {
        let t = try TestMarket(kind)
        let a = try await t.makeWorld(slug: "tenant-a")
        let b = try await t.makeWorld(slug: "tenant-b")
        let (open, openBids) = try await t.jobWithBids(b)
        let (awarded, awardedBids) = try await t.jobWithBids(b)
        _ = try await t.market.bids.accept(by: b.owner, awardedBids[0].id)
        _ = try await t.market.messages.post(by: b.owner, job: awarded.id, body: "Tenant B's private thread")
        let (closed, closedBids) = try await t.jobWithBids(b)
        _ = try await t.market.bids.accept(by: b.owner, closedBids[1].id)
        _ = try await t.market.jobs.start(by: b.contractors[1], closed.id)
        _ = try await t.market.jobs.complete(by: b.contractors[1], closed.id)
        _ = try await t.market.jobs.approve(by: b.owner, closed.id)
        _ = try await t.market.reviews.submit(by: b.owner, job: closed.id, rating: 3, text: "B review")
        let dispute = try await t.market.disputes.open(by: b.owner, job: awarded.id, reason: "Tenant B's dispute reason")
        return Battlefield(t: t, a: a, b: b, bOpenJob: open, bAwardedJob: awarded, bClosedJob: closed, bBid: openBids[0], bDispute: dispute)
    }

    @Test(
        "tenant A's principals reach none of tenant B's ids: every read and write is not found (forbidden where the role may never call it)",
        arguments: [StorageKind.sqliteFile, .memory])
    func crossTenant(_ kind: StorageKind) async throws {
        let f = try await Self.battlefield(kind)
        defer { f.t.cleanup() }
        let m = f.t.market
        let before = try await snapshot(f)
        let bUser = f.b.contractors[0].userID
        let money = Money(20_000, .usd)

        let ghostJob = JobID(UUID()), ghostBid = BidID(UUID()), ghostDispute = DisputeID(UUID()), ghostUser = UserID(UUID())
        for principal in [f.a.owner, f.a.contractors[0], f.a.admin] {
            // Each probe runs with tenant B's real id and with an id that exists nowhere: the two must be indistinguishable.
            let probes: [Probe] = [
                Probe("job.get", f.bOpenJob.id, ghostJob) { try await m.jobs.get(by: principal, $0) },
                Probe("job.update", f.bOpenJob.id, ghostJob) { try await m.jobs.update(by: principal, $0, .init(title: "Hijacked")) },
                Probe("job.cancel", f.bOpenJob.id, ghostJob) { try await m.jobs.cancel(by: principal, $0) },
                Probe("job.start", f.bAwardedJob.id, ghostJob) { try await m.jobs.start(by: principal, $0) },
                Probe("job.complete", f.bAwardedJob.id, ghostJob) { try await m.jobs.complete(by: principal, $0) },
                Probe("job.approve", f.bAwardedJob.id, ghostJob) { try await m.jobs.approve(by: principal, $0) },
                Probe("bid.list", f.bOpenJob.id, ghostJob) { try await m.bids.list(by: principal, job: $0) },
                Probe("bid.submit", f.bOpenJob.id, ghostJob) { try await m.bids.submit(by: principal, on: $0, .init(amount: money)) },
                Probe("bid.get", f.bBid.id, ghostBid) { try await m.bids.get(by: principal, $0) },
                Probe("bid.withdraw", f.bBid.id, ghostBid) { try await m.bids.withdraw(by: principal, $0) },
                Probe("bid.accept", f.bBid.id, ghostBid) { try await m.bids.accept(by: principal, $0) },
                Probe("dispute.get", f.bDispute.id, ghostDispute) { try await m.disputes.get(by: principal, $0) },
                Probe("dispute.respond", f.bDispute.id, ghostDispute) { try await m.disputes.respond(by: principal, $0, response: "Not mine") },
                Probe("dispute.resolve", f.bDispute.id, ghostDispute) {
                    try await m.disputes.resolve(by: principal, $0, outcome: .fullRefund, note: "x")
                },
                Probe("dispute.open", f.bAwardedJob.id, ghostJob) {
                    try await m.disputes.open(by: principal, job: $0, reason: "Cross-tenant dispute attempt")
                },
                Probe("review.submit", f.bClosedJob.id, ghostJob) { try await m.reviews.submit(by: principal, job: $0, rating: 1, text: "x") },
                Probe("review.job", f.bClosedJob.id, ghostJob) { try await m.reviews.forJob(by: principal, job: $0) },
                Probe("message.post", f.bAwardedJob.id, ghostJob) { try await m.messages.post(by: principal, job: $0, body: "hi") },
                Probe("message.list", f.bAwardedJob.id, ghostJob) { try await m.messages.list(by: principal, job: $0) },
                Probe("payment.escrow", f.bAwardedJob.id, ghostJob) { try await m.payments.escrow(by: principal, job: $0) },
                Probe("user.get", bUser, ghostUser) { try await m.users.get(by: principal, $0) },
                Probe("user.update", bUser, ghostUser) { try await m.users.update(by: principal, $0, .init(displayName: "Hijacked")) },
                Probe("user.public", bUser, ghostUser) { try await m.users.publicProfile(by: principal, $0) },
                Probe("contractor.profile", bUser, ghostUser) { try await m.contractors.profile(by: principal, $0) },
                Probe("user.suspend", bUser, ghostUser) { try await m.users.setSuspended(by: principal, $0, suspended: true) },
                Probe("contractor.vetting", bUser, ghostUser) { try await m.contractors.setVetting(by: principal, $0, .rejected) },
                Probe("review.about", bUser, ghostUser) { try await m.reviews.about(by: principal, user: $0).items.map(\.rating) },
            ]
            for probe in probes {
                let (real, ghost) = await probe.run()
                #expect(real == ghost, "\(probe.name) by \(principal.role): tenant B's id answered \(real), a missing id \(ghost)")
                // Not found, but for a call the principal's role may never make, refused before any id is looked up.
                let expected = Self.roleGated[probe.name].map { $0 == principal.role ? "not_found" : "forbidden" } ?? "not_found"
                #expect(real == expected, "\(probe.name) by \(principal.role) on tenant B's id: \(real)")
            }
            // Listings of tenant A never include tenant B's rows.
            let jobs = try await m.jobs.search(by: principal, JobQuery(limit: 100))
            #expect(jobs.items.allSatisfy { ![f.bOpenJob.id, f.bAwardedJob.id, f.bClosedJob.id].contains($0.id) })
            let disputes = try await m.disputes.list(by: principal)
            #expect(!disputes.items.contains { $0.id == f.bDispute.id })
            let feed = try await m.events.feed(by: principal, page: PageRequest(limit: 100))
            let bIDs = [f.bOpenJob.id.uuidString, f.bAwardedJob.id.uuidString, f.bBid.id.uuidString]
            #expect(feed.items.allSatisfy { event in bIDs.allSatisfy { !String(decoding: event.payload, as: UTF8.self).contains($0) } })
        }
        // A principal that names tenant B but carries tenant A's user is refused.
        let forged = Principal(tenantID: f.b.tenant.id, userID: f.a.admin.userID, role: .admin)
        await expectError(.forbidden) { try await m.users.list(by: forged) }
        await expectError(.forbidden) { try await m.jobs.cancel(by: forged, f.bOpenJob.id) }
        #expect(try await snapshot(f) == before, "tenant B's data is unchanged")
    }

    /// The probes only one role may call: any other is refused as forbidden, whatever the id.
    static let roleGated: [String: Role] = [
        "bid.submit": .contractor, "dispute.resolve": .admin, "user.suspend": .admin, "contractor.vetting": .admin,
    ]

    /// One call made twice: with a real id of the other tenant and with an id that exists nowhere.
    struct Probe {
        let name: String
        let run: () async -> (String, String)

        init<ID: Sendable>(_ name: String, _ real: ID, _ ghost: ID, _ call: @escaping (ID) async throws -> Any) {
            self.name = name
            self.run = {
                func outcome(_ id: ID) async -> String {
                    do {
                        let value = try await call(id)
                        // Listings answer empty for both; anything else that succeeds is a leak.
                        if let items = value as? [ReviewID], items.isEmpty { return "empty" }
                        return "success"
                    } catch let error as TradesKitError {
                        return error.code.rawValue
                    } catch {
                        return "\(type(of: error))"
                    }
                }
                return (await outcome(real), await outcome(ghost))
            }
        }
    }

    /// Everything of tenant B as its admin sees it, as text.
    func snapshot(_ f: Battlefield) async throws -> String {
        let m = f.t.market
        var parts: [String] = []
        for job in [f.bOpenJob, f.bAwardedJob, f.bClosedJob] {
            parts.append("\(try await m.jobs.get(by: f.b.admin, job.id))")
            parts.append("\(try await m.bids.list(by: f.b.admin, job: job.id))")
        }
        parts.append("\(try await m.users.list(by: f.b.admin, page: PageRequest(limit: 100)).items)")
        // Vetting and profiles (the vetting probe), and every review (the review probe).
        for contractor in f.b.contractors {
            parts.append("\(try await m.contractors.profile(by: f.b.admin, contractor.userID))")
            parts.append("\(try await m.reviews.about(by: f.b.admin, user: contractor.userID, page: PageRequest(limit: 100)).items)")
        }
        parts.append("\(try await m.reviews.about(by: f.b.admin, user: f.b.owner.userID, page: PageRequest(limit: 100)).items)")
        for job in [f.bAwardedJob, f.bClosedJob] {
            parts.append("\(try await m.reviews.forJob(by: f.b.admin, job: job.id))")
            parts.append("\(try await m.payments.escrow(by: f.b.admin, job: job.id))")
        }
        parts.append("\(try await m.disputes.get(by: f.b.admin, f.bDispute.id))")
        parts.append("\(try await m.disputes.list(by: f.b.admin).items)")
        parts.append("\(try await m.payments.ledger(by: f.b.admin))")
        parts.append("\(try await m.messages.list(by: f.b.admin, job: f.bAwardedJob.id).items)")
        parts.append("\(try await m.events.feed(by: f.b.admin, page: PageRequest(limit: 100)).items)")
        return parts.joined(separator: "\n")
    }

    @Test("a contractor never learns another contractor's bid, by any call", arguments: [StorageKind.sqliteFile, .memory])
    func blindBids(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld(contractors: 3)
        let m = t.market
        let job = try await t.postJob(world, title: "Replace the boiler")
        let amounts: [Int64] = [31_337, 42_424, 37_373]
        var bids: [Bid] = []
        for (contractor, amount) in zip(world.contractors, amounts) {
            bids.append(try await m.bids.submit(by: contractor, on: job.id, .init(amount: Money(amount, .usd), message: "Secret note \(amount)")))
        }
        // While the job is open, each bidder lists only their own bid on it.
        for (index, contractor) in world.contractors.enumerated() {
            #expect(try await m.bids.list(by: contractor, job: job.id).map(\.id) == [bids[index].id])
        }
        _ = try await m.bids.accept(by: world.owner, bids[1].id)
        _ = try await m.messages.post(by: world.owner, job: job.id, body: "Thread with the winner")

        for (index, contractor) in world.contractors.enumerated() {
            let secretAmounts = amounts.enumerated().filter { $0.offset != index }.map { "\($0.element)" }
            let secretIDs = bids.enumerated().filter { $0.offset != index }.map(\.element.id.uuidString)
            var seen: [String] = []
            let encoder = JSONEncoder()
            func see(_ value: some Encodable) throws { seen.append(String(decoding: try encoder.encode(value), as: UTF8.self)) }

            if index == 1 {
                let listed = try await m.bids.list(by: contractor, job: job.id)
                #expect(listed.map(\.id) == [bids[index].id], "the winner lists only their own bid")
                try see(listed)
                try see(try await m.jobs.get(by: contractor, job.id))
            } else {
                // Once awarded, the job is the parties' business: a losing bidder sees neither it nor its bids.
                await expectError(.notFound) { try await m.bids.list(by: contractor, job: job.id) }
                await expectError(.notFound) { try await m.jobs.get(by: contractor, job.id) }
            }
            for (other, bid) in bids.enumerated() where other != index {
                await expectError(.notFound) { try await m.bids.get(by: contractor, bid.id) }
            }
            try see(try await m.bids.get(by: contractor, bids[index].id))
            try see(try await m.bids.mine(by: contractor).items)
            try see(try await m.jobs.search(by: contractor, JobQuery(text: "boiler", limit: 100)).items)
            try see(try await m.jobs.search(by: contractor, JobQuery(near: GeoCircle(center: TestMarket.home, radiusKm: 50), limit: 100)).items)
            for event in try await m.events.feed(by: contractor, page: PageRequest(limit: 100)).items {
                seen.append(event.type + String(decoding: event.payload, as: UTF8.self))
            }
            if index == 1 {
                try see(try await m.messages.list(by: contractor, job: job.id).items)
                try see(try await m.payments.escrow(by: contractor, job: job.id))
            } else {
                await expectError(.notFound) { try await m.messages.list(by: contractor, job: job.id) }
                await expectError(.notFound) { try await m.payments.escrow(by: contractor, job: job.id) }
            }
            let everything = seen.joined(separator: "\n")
            for secret in secretIDs {
                #expect(!everything.contains(secret), "contractor \(index) learned \(secret)")
            }
            // Amounts are looked for outside the ids, whose random hex digits may spell one.
            for secret in secretAmounts {
                #expect(!everything.withoutUUIDs.contains(secret), "contractor \(index) learned \(secret)")
            }
        }
        // The owner and the admin see every bid.
        #expect(try await m.bids.list(by: world.owner, job: job.id).count == 3)
        #expect(try await m.bids.list(by: world.admin, job: job.id).count == 3)
        await expectError(.notFound) { try await m.bids.list(by: world.otherOwner, job: job.id) }
    }

    @Test("a suspended user can do nothing; suspension is admin-only")
    func suspension() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let job = try await t.postJob(world)
        await expectError(.forbidden) { try await t.market.users.setSuspended(by: world.owner, world.contractors[0].userID, suspended: true) }
        _ = try await t.market.users.setSuspended(by: world.admin, world.contractors[0].userID, suspended: true)
        await expectError(.suspended) { try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd))) }
        await expectError(.suspended) { try await t.market.jobs.search(by: world.contractors[0], JobQuery()) }
        _ = try await t.market.users.setSuspended(by: world.admin, world.contractors[0].userID, suspended: false)
        _ = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd)))
    }
}
