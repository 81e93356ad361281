import Foundation
import Testing
import TradesKit
import TradesKitTesting

/// An owed settlement that fails again is put off by a delay that doubles with each failure in a row, so the processor
/// is not asked the same thing every minute for ever, and the escrows it keeps refusing never hold up the others.
@Suite("Retrying owed settlements")
struct SettlementRetryTests {
    struct ProcessorDown: Error {}

    /// Three jobs of one owner, each awarded, started and completed; their payments are held and captured.
    static func completedJobs(_ t: TestMarket, _ world: TestMarket.World, count: Int) async throws -> [Job] {
        var jobs: [Job] = []
        for _ in 0..<count {
            let (job, bids) = try await t.jobWithBids(world)
            _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
            _ = try await t.market.jobs.start(by: world.contractors[0], job.id)
            _ = try await t.market.jobs.complete(by: world.contractors[0], job.id)
            jobs.append(job)
            t.clock.advance(by: 1)
        }
        return jobs
    }

    static func escrow(_ t: TestMarket, _ world: TestMarket.World, _ job: Job) async throws -> Escrow {
        try await t.market.payments.escrow(by: world.admin, job: job.id)
    }

    @Test(
        "a payout the processor keeps refusing is tried after 1, 2, 4 … minutes up to an hour, never holds up the others, and settles once allowed",
        arguments: [StorageKind.sqliteFile, .memory])
    func backoff(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld()
        let jobs = try await Self.completedJobs(t, world, count: 3)
        let refused = try #require(try await Self.escrow(t, world, jobs[0]).paymentReference)
        t.payments.refuseCalls(about: refused, with: ProcessorDown())
        // Every approval stands; each payout fails (the first by refusal, the others once) and is owed a minute later.
        for (index, job) in jobs.enumerated() {
            if index > 0 { t.payments.failNext(with: ProcessorDown()) }
            #expect(try await t.market.jobs.approve(by: world.owner, job.id).status == .closed)
            let escrow = try await Self.escrow(t, world, job)
            #expect(escrow.instruction != nil && escrow.settlementFailures == 1 && escrow.settlementDueAt == t.clock.now().addingTimeInterval(60))
            t.clock.advance(by: 1)
        }

        // One at a time, the longest due first: the refused one fails and goes to the back; the next runs reach the others.
        t.clock.advance(by: 60)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id, limit: 1) == 0)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id, limit: 1) == 1)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id, limit: 1) == 1)
        for job in jobs.dropFirst() {
            let escrow = try await Self.escrow(t, world, job)
            #expect(escrow.status == .released && escrow.instruction == nil && escrow.settlementDueAt == nil && escrow.settlementFailures == 0)
            try PaymentRaceTests.expectProcessorAgrees(t, escrow)
        }

        // The refused one is asked again only when due, each time after twice the wait, up to an hour.
        func attempts() -> Int { t.payments.calls.count { $0.paymentReference == refused } }
        var failures = 2
        for expectedDelay: TimeInterval in [120, 240, 480, 960, 1_920, 3_600, 3_600] {
            let escrow = try await Self.escrow(t, world, jobs[0])
            let delay = try #require(escrow.settlementDueAt).timeIntervalSince(t.clock.now())
            #expect(
                escrow.settlementFailures == failures && (delay * 1_000).rounded() == expectedDelay * 1_000, "after \(failures) failures: \(delay) s")
            let before = attempts()
            t.clock.advance(by: delay - 0.001)
            #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0)
            #expect(attempts() == before, "asked again before it was due")
            t.clock.advance(by: 0.001)
            #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0)
            #expect(attempts() > before, "not asked when due")
            failures += 1
        }

        // The processor takes it again: the next attempt settles it, once.
        t.payments.refuseCalls(about: refused, with: nil)
        t.clock.advance(by: 3_600)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 1)
        let settled = try await Self.escrow(t, world, jobs[0])
        #expect(settled.status == .released && settled.instruction == nil && settled.settlementDueAt == nil && settled.settlementFailures == 0)
        try await HoldCaptureTests.expectBooksAgree(t, world, settled)
        t.clock.advance(by: 86_400)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0)
    }

    @Test(
        "runners at the same time attempt a due settlement as one: a failure is counted once, and none retries what another put off",
        arguments: [StorageKind.sqliteFile, .memory])
    func concurrentRunners(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld()
        let job = try #require(try await Self.completedJobs(t, world, count: 1).first)
        let reference = try #require(try await Self.escrow(t, world, job).paymentReference)
        t.payments.refuseCalls(about: reference, with: ProcessorDown())
        _ = try await t.market.jobs.approve(by: world.owner, job.id)
        t.clock.advance(by: 60)
        let settled = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await t.market.payments.runPendingSettlements(in: world.tenant.id) } }
            return try await group.reduce(0, +)
        }
        #expect(settled == 0)
        let escrow = try await Self.escrow(t, world, job)
        #expect(escrow.settlementFailures == 2 && escrow.settlementDueAt == t.clock.now().addingTimeInterval(120), "\(escrow.settlementFailures)")
    }

    @Test("a new decision starts its instruction afresh: due at once, no failures counted from the one it replaced")
    func newInstructionStartsAfresh() async throws {
        let t = try TestMarket(.memory)
        let (world, job, _) = try await HoldCaptureTests.heldTooLong(t)
        t.payments.failNext(with: ProcessorDown())
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0)
        t.clock.advance(by: 60)
        t.payments.failNext(with: ProcessorDown())
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0)
        var escrow = try await Self.escrow(t, world, job)
        #expect(escrow.instruction == .capture && escrow.settlementFailures == 2)

        // The owner cancels: the refund overtakes the owed capture, and its own first attempt fails.
        t.payments.failNext(with: ProcessorDown())
        #expect(try await t.market.jobs.cancel(by: world.owner, job.id).status == .cancelled)
        escrow = try await Self.escrow(t, world, job)
        #expect(escrow.instruction == .settle(refund: escrow.amount))
        #expect(escrow.settlementFailures == 1 && escrow.settlementDueAt == t.clock.now().addingTimeInterval(60))
        t.clock.advance(by: 60)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 1)
        escrow = try await Self.escrow(t, world, job)
        #expect(escrow.status == .refunded && escrow.refundedAmount == escrow.amount)
        try await HoldCaptureTests.expectBooksAgree(t, world, escrow)
    }

    @Test("the retry delays: a configured first wait, doubled per failure, within the configured and the absolute bounds")
    func delays() {
        let standard = Marketplace.Configuration()
        #expect(
            [0, 1, 2, 3, 7, 8, 100, Int.max].map(standard.settlementRetryDelay(afterFailures:)) == [60, 60, 120, 240, 3_600, 3_600, 3_600, 3_600])
        let custom = Marketplace.Configuration(settlementRetryDelay: 5, settlementRetryMaxDelay: 30)
        #expect([1, 2, 3, 4, 5].map(custom.settlementRetryDelay(afterFailures:)) == [5, 10, 20, 30, 30])
        // A first wait of nothing would retry in a loop, one that is not a number would never come; the bounds hold
        // however the properties are set.
        var extreme = Marketplace.Configuration()
        (extreme.settlementRetryDelay, extreme.settlementRetryMaxDelay) = (0, 1e9)
        #expect([1, 2, 64, Int.max].map(extreme.settlementRetryDelay(afterFailures:)) == [1, 2, 12 * 3_600, 12 * 3_600])
        (extreme.settlementRetryDelay, extreme.settlementRetryMaxDelay) = (.nan, .nan)
        #expect([Int.min, 0, 1, 2].map(extreme.settlementRetryDelay(afterFailures:)) == [1, 1, 1, 1])
        (extreme.settlementRetryDelay, extreme.settlementRetryMaxDelay) = (-.infinity, .infinity)
        #expect([1, 2, 3].map(extreme.settlementRetryDelay(afterFailures:)) == [1, 2, 4])
        // A longest wait below the first is the first.
        let inverted = Marketplace.Configuration(settlementRetryDelay: 600, settlementRetryMaxDelay: 60)
        #expect([1, 9].map(inverted.settlementRetryDelay(afterFailures:)) == [600, 600])
    }
}
