import Foundation
import Hummingbird
import Logging
import HummingbirdTesting
import Testing
import TradesKit
import TradesKitTesting

@testable import ReferenceServer

@Suite("Scheduled work")
struct ScheduledWorkTests {
    struct ProcessorDown: Error {}

    /// Posts a job as the owner, bids 200.00 on it as contractor A and accepts the bid: the job's id.
    static func award(_ api: API, _ world: TestServer.World) async throws -> String {
        let job = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
        let bid = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(20_000))
        #expect(try await api.call(.post, "/v1/bids/\(bid.id)/accept", as: world.owner).status == .ok)
        return job.id
    }

    @Test("The running server finishes a settlement the processor failed when the job was approved")
    func owedSettlement() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let jobID = try await harness.test { api async throws -> String in
            let job = try await Self.award(api, world)
            #expect(try await api.call(.post, "/v1/jobs/\(job)/start", as: world.contractorA)["status"] == "in_progress")
            #expect(try await api.call(.post, "/v1/jobs/\(job)/complete", as: world.contractorA)["status"] == "completed")
            harness.payments.failNext(with: ProcessorDown())
            // The approval stands though the payout failed.
            #expect(try await api.call(.post, "/v1/jobs/\(job)/approve", as: world.owner)["status"] == "closed")
            // The admin's figures show the payout owed, and failing.
            let stats = try await api.call(.get, "/v1/admin/stats", as: world.admin)
            #expect(stats["owedSettlements"] == 1 && stats["failingSettlements"] == 1, "\(stats)")
            return job
        }
        let job = try #require(UUID(uuidString: jobID).map(JobID.init))
        let escrow: @Sendable () async throws -> Escrow = { try await harness.market.payments.escrow(by: world.admin.principal, job: job) }
        #expect(try await escrow().instruction != nil, "the settlement should be owed before the server runs")
        harness.clock.advance(by: 60)  // the first retry delay

        // The same marketplace served with scheduled work.
        var configuration = harness.server.configuration
        configuration.scheduledWorkInterval = .milliseconds(20)
        let server = try await ReferenceServer(marketplace: harness.market, configuration: configuration, clock: harness.clock)
        try await server.makeApplication().test(.live) { _ in
            let deadline = ContinuousClock.now + .seconds(60)
            while try await escrow().instruction != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        }
        let settled = try await escrow()
        #expect(settled.status == .released && settled.instruction == nil, "\(settled.status)")
        let counts = try await harness.market.tenants.counts(by: world.admin.principal)
        #expect(counts.owedSettlements == 0 && counts.failingSettlements == 0)
        #expect(settled.releasedAmount.amount + settled.platformFee.amount == 20_000 && settled.releasedAmount.amount > 0)
    }

    @Test("An admin sees the payouts owed, and carries one out now: refused again it stays owed (402), then it goes through once")
    func adminSettlesNow() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            var jobs: [String] = []
            for _ in 0..<2 {
                let job = try await Self.award(api, world)
                #expect(try await api.call(.post, "/v1/jobs/\(job)/start", as: world.contractorA)["status"] == "in_progress")
                #expect(try await api.call(.post, "/v1/jobs/\(job)/complete", as: world.contractorA)["status"] == "completed")
                harness.payments.failNext(with: ProcessorDown())
                #expect(try await api.call(.post, "/v1/jobs/\(job)/approve", as: world.owner)["status"] == "closed")
                jobs.append(job)
                harness.clock.advance(by: 1)
            }
            // Owed, the soonest due first, with what is owed and how often it failed; for admins only.
            var owed = try await api.call(.get, "/v1/admin/settlements", as: world.admin)
            #expect(owed.items.map { $0["jobId"] } == jobs.map { .string($0) }, "\(owed)")
            #expect(owed.items.allSatisfy { $0["owed"]?["action"] == "settle" && $0["owed"]?["failures"] == 1 && $0["status"] == "captured" })
            #expect(try await api.call(.get, "/v1/admin/settlements?limit=1", as: world.admin).items.count == 1)
            #expect(try await api.call(.get, "/v1/admin/settlements?limit=0", as: world.admin).fieldErrors == ["limit"])
            for caller in [world.owner, world.contractorA] {
                #expect(try await api.call(.get, "/v1/admin/settlements", as: caller).status == .forbidden)
                #expect(try await api.call(.post, "/v1/admin/jobs/\(jobs[0])/settle", as: caller).status == .forbidden)
            }

            // Refused again: 402, and it stays owed, put off further.
            harness.payments.failNext(with: ProcessorDown())
            let refused = try await api.call(.post, "/v1/admin/jobs/\(jobs[0])/settle", as: world.admin)
            #expect(refused.status.code == 402 && refused.problemCode == "payment_failed", "\(refused)")
            owed = try await api.call(.get, "/v1/admin/settlements", as: world.admin)
            #expect(owed.items.map { $0["jobId"] } == [.string(jobs[1]), .string(jobs[0])], "the refused one is due later now: \(owed)")
            #expect(owed.items.last?["owed"]?["failures"] == 2)

            // Carried out: released, nothing owed; again, it answers the escrow as it is and pays nothing more.
            for _ in 0..<2 {
                let settled = try await api.call(.post, "/v1/admin/jobs/\(jobs[0])/settle", as: world.admin)
                #expect(settled.status == .ok && settled["status"] == "released" && settled["owed"] == nil, "\(settled)")
            }
            #expect(harness.payments.payments.filter { !$0.transfers.isEmpty }.count == 1, "paid out once")
            #expect(try await api.call(.get, "/v1/admin/settlements", as: world.admin).items.map { $0["jobId"] } == [.string(jobs[1])])
            let stats = try await api.call(.get, "/v1/admin/stats", as: world.admin)
            #expect(stats["owedSettlements"] == 1 && stats["failingSettlements"] == 1, "\(stats)")
            // A job without a payment is not found.
            let open = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
            #expect(try await api.call(.post, "/v1/admin/jobs/\(open.id)/settle", as: world.admin).status == .notFound)
        }
    }

    @Test("A job whose auto-approval must wait for an owed capture holds up neither the capture nor the other jobs")
    func autoApprovalWaitsForOwedMoney() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let ids = try await harness.test { api async throws -> [String] in
            var ids: [String] = []
            for failing in [true, false] {
                let job = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
                let bid = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(20_000))
                #expect(try await api.call(.post, "/v1/bids/\(bid.id)/accept", as: world.owner).status == .ok)
                // The first job's capture fails when the work starts: the start stands, the capture is owed.
                if failing { harness.payments.failNext(with: ProcessorDown()) }
                #expect(try await api.call(.post, "/v1/jobs/\(job.id)/start", as: world.contractorA)["status"] == "in_progress")
                #expect(try await api.call(.post, "/v1/jobs/\(job.id)/complete", as: world.contractorA)["status"] == "completed")
                ids.append(job.id)
            }
            return ids
        }
        let jobs = try ids.map { try #require(UUID(uuidString: $0).map(JobID.init)) }
        let admin = world.admin.principal
        func escrow(_ job: JobID) async throws -> Escrow { try await harness.market.payments.escrow(by: admin, job: job) }
        #expect(try await escrow(jobs[0]).instruction == .capture)
        harness.clock.advance(by: Double(world.tenant.settings.policies.autoApproveAfterSeconds) + 1)

        let work = ScheduledWork(
            market: harness.market, mode: harness.server.configuration.mode, interval: .seconds(60), logger: Logger(label: "test"))
        // First round: the first job cannot be approved while its capture is owed; the second is approved and paid out,
        // and the owed capture is carried out.
        await work.runOnce()
        #expect(try await harness.market.jobs.get(by: admin, jobs[0]).status == .completed)
        #expect(try await harness.market.jobs.get(by: admin, jobs[1]).status == .closed)
        #expect(try await escrow(jobs[1]).status == .released)
        let captured = try await escrow(jobs[0])
        #expect(captured.status == .captured && captured.instruction == nil, "\(captured.status)")
        // The next round approves the first job too.
        await work.runOnce()
        #expect(try await harness.market.jobs.get(by: admin, jobs[0]).status == .closed)
        #expect(try await escrow(jobs[0]).status == .released)
    }

    @Test("A round of scheduled work captures the money of a job awarded six days ago and not started")
    func holdCapture() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let jobID = try await harness.test { api async throws -> String in try await Self.award(api, world) }
        let job = try #require(UUID(uuidString: jobID).map(JobID.init))
        let admin = world.admin.principal
        let work = ScheduledWork(
            market: harness.market, mode: harness.server.configuration.mode, interval: .seconds(60), logger: Logger(label: "test"))
        harness.clock.advance(by: 6 * 86_400 - 60)
        await work.runOnce()
        #expect(try await harness.market.payments.escrow(by: admin, job: job).status == .held)
        harness.clock.advance(by: 60)
        await work.runOnce()
        #expect(try await harness.market.payments.escrow(by: admin, job: job).status == .captured)
        #expect(try await harness.market.jobs.get(by: admin, job).status == .awarded)
    }

    @Test("The notification loop sends the notices of what happened, once, a bounded number of events per round")
    func notices() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        _ = try await harness.test { api async throws -> String in try await Self.award(api, world) }
        harness.emails.reset()
        var work = NotificationWork(
            notifications: NotificationService(marketplace: harness.market, email: harness.emails), market: harness.market,
            mode: harness.server.configuration.mode, interval: .seconds(5), logger: Logger(label: "test"))
        work.eventsPerRound = 3
        // A round handles at most eventsPerRound events per tenant; the rest wait for the next rounds.
        await work.runOnce()
        let afterFirstRound = harness.emails.sent.count
        for _ in 0..<20 { await work.runOnce() }
        #expect(harness.emails.sent.count > afterFirstRound, "the events after the first three came in later rounds")
        let subjects = harness.emails.sent.map(\.subject)
        #expect(subjects.contains { $0.hasPrefix("New bid on") }, "\(subjects)")
        #expect(subjects.contains { $0.hasPrefix("Your bid on") && $0.hasSuffix("was accepted") }, "\(subjects)")
        let sent = harness.emails.sent.count
        await work.runOnce()
        #expect(harness.emails.sent.count == sent, "each notice is sent once")
    }
}
