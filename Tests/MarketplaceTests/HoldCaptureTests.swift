import Foundation
import Testing
import TradesKit
import TradesKitTesting

/// An authorisation lapses after some days (seven for a card at Stripe); the money of a job awarded but not started by
/// then is captured first.
@Suite("Capturing held payments before their authorisation lapses")
struct HoldCaptureTests {
    static let age: TimeInterval = 6 * 86_400

    /// A job awarded to the second contractor, its money held.
    static func awardedJob(_ t: TestMarket) async throws -> (TestMarket.World, Job, Principal) {
        let world = try await t.makeWorld()
        let (job, bids) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids[1].id)
        return (world, job, world.contractors[1])
    }

    /// ``awardedJob(_:)``, its money held for the configured age: due for capture.
    static func heldTooLong(_ t: TestMarket) async throws -> (TestMarket.World, Job, Principal) {
        let awarded = try await awardedJob(t)
        t.clock.advance(by: age)
        return awarded
    }

    /// The processor agrees with the escrow, and the job's ledger balances.
    static func expectBooksAgree(_ t: TestMarket, _ world: TestMarket.World, _ escrow: Escrow) async throws {
        try PaymentRaceTests.expectProcessorAgrees(t, escrow)
        #expect(Ledger.unbalancedTransactions(in: try await t.market.payments.ledger(by: world.admin, job: escrow.jobID)).isEmpty)
    }

    static func captures(_ t: TestMarket) -> [String] {
        t.payments.calls.compactMap { if case .capture(_, _, let key) = $0 { key } else { nil } }
    }

    @Test(
        "held past the configured age (not a millisecond before), the money is captured once; starting then captures nothing more",
        arguments: StorageKind.allCases)
    func captureBeforeStart(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let (world, job, winner) = try await Self.awardedJob(t)
        t.clock.advance(by: Self.age - 0.001)
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0)
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id).status == .held)

        t.clock.advance(by: 0.001)
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 1)
        var escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .captured && escrow.instruction == nil)
        #expect(Self.captures(t) == ["capture:\(job.id)"])
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .awarded, "the job stays where it is")
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0, "captured once")

        // The work starts late: nothing more to collect. Approval pays the contractor as usual.
        _ = try await t.market.jobs.start(by: winner, job.id)
        _ = try await t.market.jobs.complete(by: winner, job.id)
        _ = try await t.market.jobs.approve(by: world.owner, job.id)
        escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .released && escrow.releasedAmount == Money(18_900, .usd) && escrow.platformFee == Money(2_100, .usd))
        #expect(Self.captures(t) == ["capture:\(job.id)"], "starting captured nothing more")
        try PaymentRaceTests.expectProcessorAgrees(t, escrow)
        let ledger = try await t.market.payments.ledger(by: world.admin, job: job.id)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
        #expect(ledger.filter { $0.kind == .capture }.count == 2, "one capture posted (two lines)")
    }

    @Test("a job cancelled after its money was captured early refunds it in full", arguments: [StorageKind.sqliteMemory, .memory])
    func cancelAfterEarlyCapture(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let (world, job, _) = try await Self.heldTooLong(t)
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 1)
        #expect(try await t.market.jobs.cancel(by: world.owner, job.id).status == .cancelled)
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .refunded && escrow.refundedAmount == escrow.amount && escrow.releasedAmount.amount == 0)
        try await Self.expectBooksAgree(t, world, escrow)
    }

    @Test(
        "a capture the processor refuses stays owed: a start tries it and waits, the runner finishes it once when due, then the start goes on"
    )
    func refusedCapture() async throws {
        let t = try TestMarket(.memory)
        let (world, job, winner) = try await Self.heldTooLong(t)
        let reference = try #require(try await t.market.payments.escrow(by: world.owner, job: job.id).paymentReference)
        t.payments.refuseCalls(about: reference, with: ProcessorDown())
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0)
        var escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .held && escrow.instruction == .capture)
        // The failed capture is due again a minute later (the first retry delay).
        #expect(escrow.settlementFailures == 1 && escrow.settlementDueAt == t.clock.now().addingTimeInterval(60))
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0, "an owed capture is the settlements' to finish")

        // The money may not be collectable: the start tries the capture at once, and the work does not start while
        // it fails. That attempt is outside the schedule: the capture keeps its due time and its count of failures.
        for _ in 0..<2 { await expectError(.conflict) { try await t.market.jobs.start(by: winner, job.id) } }
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .awarded)
        #expect(Self.captures(t).count == 3, "the runner's capture and the two starts'")
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id) == escrow)
        t.payments.refuseCalls(about: reference, with: nil)
        t.clock.advance(by: 60 - 0.001)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0, "retried before it is due")
        t.clock.advance(by: 0.001)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 1)
        #expect(try await t.market.jobs.start(by: winner, job.id).status == .inProgress)
        escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .captured && escrow.instruction == nil && escrow.settlementDueAt == nil && escrow.settlementFailures == 0)
        #expect(Self.captures(t).allSatisfy { $0 == "capture:\(job.id)" } && t.payments.payments.compactMap(\.captured).count == 1)
        try PaymentRaceTests.expectProcessorAgrees(t, escrow)
    }

    @Test("a start waiting on an owed capture that the processor takes now goes through at once, capturing once")
    func startCarriesOutOwedCapture() async throws {
        let t = try TestMarket(.memory)
        let (world, job, winner) = try await Self.heldTooLong(t)
        t.payments.failNext(with: ProcessorDown())
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0)
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id).instruction == .capture)
        #expect(try await t.market.jobs.start(by: winner, job.id).status == .inProgress, "the start waited for the capture's due time")
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .captured && escrow.instruction == nil && escrow.settlementFailures == 0)
        #expect(t.payments.payments.compactMap(\.captured).count == 1)
        try await Self.expectBooksAgree(t, world, escrow)
    }

    @Test(
        "a cancel or a dispute's full refund overtakes a capture still owed: the money is captured then refunded, never voided",
        arguments: [false, true])
    func owedCaptureOvertaken(byDispute: Bool) async throws {
        let t = try TestMarket(.memory)
        let (world, job, winner) = try await Self.heldTooLong(t)
        // The capture reaches the processor, and its answer is lost: the escrow still says held, with the capture owed.
        t.payments.loseNextAnswer(with: ProcessorDown())
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0)
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id).instruction == .capture)
        if byDispute {
            let dispute = try await t.market.disputes.open(by: winner, job: job.id, reason: "The owner never let me in.")
            _ = try await t.market.disputes.resolve(by: world.admin, dispute.id, outcome: .fullRefund, note: "Refund it all.")
        } else {
            #expect(try await t.market.jobs.cancel(by: world.owner, job.id).status == .cancelled)
        }
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .refunded && escrow.refundedAmount == escrow.amount && escrow.instruction == nil)
        #expect(!t.payments.calls.contains { if case .void = $0 { true } else { false } }, "captured money cannot be voided")
        #expect(Set(Self.captures(t)) == ["capture:\(job.id)"], "the settlement captured with the same key")
        try await Self.expectBooksAgree(t, world, escrow)
    }

    @Test("a dispute over a job whose money was captured early splits it as decided")
    func disputeAfterEarlyCapture() async throws {
        let t = try TestMarket(.memory)
        let (world, job, _) = try await Self.heldTooLong(t)
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 1)
        let dispute = try await t.market.disputes.open(by: world.owner, job: job.id, reason: "Nobody came for a week.")
        _ = try await t.market.disputes.resolve(by: world.admin, dispute.id, outcome: .partialRefund(Money(5_000, .usd)), note: "Split.")
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .partiallyRefunded && escrow.refundedAmount == Money(5_000, .usd))
        #expect(escrow.releasedAmount.amount + escrow.platformFee.amount == escrow.amount.amount - 5_000)
        try await Self.expectBooksAgree(t, world, escrow)
    }

    @Test("jobs started in time, cancelled or still open are not captured early")
    func onlyHeldPayments() async throws {
        let t = try TestMarket(.memory)
        let (world, started, winner) = try await Self.awardedJob(t)
        _ = try await t.market.jobs.start(by: winner, started.id)
        let (cancelled, bids) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        _ = try await t.market.jobs.cancel(by: world.owner, cancelled.id)
        _ = try await t.jobWithBids(world)
        let before = Self.captures(t)
        t.clock.advance(by: 30 * 86_400)
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 0)
        #expect(Self.captures(t) == before)
    }

    @Test("the age is the marketplace's to configure")
    func configuredAge() async throws {
        let t = try TestMarket(.memory, configuration: Marketplace.Configuration(captureHeldPaymentsAfter: 3_600))
        let (world, job, _) = try await Self.awardedJob(t)
        t.clock.advance(by: 3_600)
        #expect(try await t.market.payments.runHoldCaptures(in: world.tenant.id) == 1)
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id).status == .captured)
    }
}
