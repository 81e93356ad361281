import Foundation
import Testing
import TradesKit
import TradesKitTesting

@Suite("Concurrent writers")
struct ConcurrencyTests {
    @Test(
        "50 concurrent accepts of different bids on one job: one winner, 49 declined, the ledger balanced",
        arguments: [StorageKind.sqliteFile, .sqliteMemory, .memory])
    func fiftyAccepts(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld(contractors: 50)
        let (job, bids) = try await t.jobWithBids(world)
        #expect(bids.count == 50)

        let outcomes = await withTaskGroup(of: Result<BidService.Acceptance, any Error>.self) { group in
            for bid in bids {
                group.addTask {
                    do { return .success(try await t.market.bids.accept(by: world.owner, bid.id)) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        for case .failure(let error) in outcomes {
            let code = (error as? TradesKitError)?.code
            #expect(code == .invalidTransition || code == .conflict, "unexpected \(error)")
        }
        let winner = try #require(winners.first)
        let stored = try await t.market.bids.list(by: world.owner, job: job.id)
        #expect(stored.filter { $0.status == .accepted }.map(\.id) == [winner.accepted.id])
        #expect(stored.filter { $0.status == .declined }.count == 49)
        #expect(try await t.market.jobs.get(by: world.owner, job.id).acceptedBidID == winner.accepted.id)
        let ledger = try await t.market.payments.ledger(by: world.admin)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
        #expect(ledger.count == 2, "exactly one hold was posted")
        // Every authorisation but the winner's was voided.
        let live = t.payments.payments.filter { !$0.voided }
        #expect(live.map(\.reference) == [try #require(winner.escrow.paymentReference)])
    }

    @Test("concurrent submissions by one contractor on one job leave exactly one live bid", arguments: [StorageKind.sqliteFile, .memory])
    func oneLiveBid(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld(contractors: 1)
        let job = try await t.postJob(world)
        let pro = world.contractors[0]
        let results = await withTaskGroup(of: Result<Bid, any Error>.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do {
                        return .success(try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(Int64(10_000 + index), .usd))))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let placed = results.compactMap { try? $0.get() }
        #expect(placed.count == 1)
        // Every other submission is refused as a conflict (the one live bid per contractor and job), for no other reason.
        for case .failure(let error) in results {
            #expect((error as? TradesKitError)?.code == .conflict, "unexpected \(error)")
        }
        #expect(results.count == 20)
        let live = try await t.market.bids.list(by: world.owner, job: job.id).filter(\.isLive)
        #expect(live.map(\.id) == placed.map(\.id))
    }

    @Test(
        "bids racing an accept are either declined by it or refused: none stays live on an awarded job", arguments: [StorageKind.sqliteFile, .memory])
    func bidsRacingAccept(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld(contractors: 21)
        let job = try await t.postJob(world)
        let first = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(15_000, .usd)))
        enum Outcome: Sendable {
            case accept(Result<BidService.Acceptance, any Error>)
            case submit(Result<Bid, any Error>)
        }
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do { return .accept(.success(try await t.market.bids.accept(by: world.owner, first.id))) } catch { return .accept(.failure(error)) }
            }
            for contractor in world.contractors.dropFirst() {
                group.addTask {
                    do {
                        return .submit(.success(try await t.market.bids.submit(by: contractor, on: job.id, .init(amount: Money(16_000, .usd)))))
                    } catch {
                        return .submit(.failure(error))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var placed: [BidID] = []
        var refused = 0
        for outcome in outcomes {
            switch outcome {
            case .accept(.success):
                break
            case .accept(.failure(let error)):
                Issue.record("the accept failed: \(error)")
            case .submit(.success(let bid)):
                placed.append(bid.id)
            case .submit(.failure(let error)):
                // A bid that arrives after the award no longer sees the job (an awarded job is its parties' and bidders'),
                // finds it no longer open, or lost the race too often; nothing else.
                let code = (error as? TradesKitError)?.code
                #expect(code == .notFound || code == .invalidTransition || code == .conflict, "unexpected \(error)")
                refused += 1
            }
        }
        #expect(placed.count + refused == 20)
        let bids = try await t.market.bids.list(by: world.owner, job: job.id)
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .awarded)
        #expect(bids.filter { $0.status == .submitted }.isEmpty)
        #expect(bids.filter { $0.status == .accepted }.map(\.id) == [first.id])
        // Every bid that landed before the award was declined by it; none landed after.
        #expect(Set(bids.filter { $0.status == .declined }.map(\.id)) == Set(placed) && bids.count == placed.count + 1)
    }
}
