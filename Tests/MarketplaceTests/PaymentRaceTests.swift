import Foundation
import Testing
import TradesKit
import TradesKitTesting

/// A processor that runs a hook before the next call of a kind, then forwards to the recording fake: the hook is how a
/// test makes a concurrent operation land between a service's reads and its payment call, deterministically.
final class InterceptingPayments: PaymentProcessor {
    enum Step: Sendable, Hashable { case authorize, capture, void, refund, transfer }
    typealias Hook = @Sendable () async throws -> Void

    let base: MemoryPaymentProcessor
    private let hooks = Hooks()

    init(base: MemoryPaymentProcessor) { self.base = base }

    /// Runs `hook` once, before the next call of `step`.
    func beforeNext(_ step: Step, _ hook: @escaping Hook) async { await hooks.set(step, hook) }

    func authorize(_ request: PaymentAuthorizationRequest) async throws -> PaymentAuthorization {
        try await hooks.run(.authorize)
        return try await base.authorize(request)
    }

    func capture(paymentReference: String, amount: Money, idempotencyKey: String) async throws {
        try await hooks.run(.capture)
        try await base.capture(paymentReference: paymentReference, amount: amount, idempotencyKey: idempotencyKey)
    }

    func void(paymentReference: String, idempotencyKey: String) async throws {
        try await hooks.run(.void)
        try await base.void(paymentReference: paymentReference, idempotencyKey: idempotencyKey)
    }

    func refund(paymentReference: String, amount: Money, idempotencyKey: String) async throws -> String {
        try await hooks.run(.refund)
        return try await base.refund(paymentReference: paymentReference, amount: amount, idempotencyKey: idempotencyKey)
    }

    func transfer(_ request: PaymentTransferRequest) async throws -> String {
        try await hooks.run(.transfer)
        return try await base.transfer(request)
    }

    private actor Hooks {
        private var pending: [Step: Hook] = [:]
        func set(_ step: Step, _ hook: @escaping Hook) { pending[step] = hook }
        func run(_ step: Step) async throws {
            guard let hook = pending.removeValue(forKey: step) else { return }
            try await hook()
        }
    }
}

@Suite("Payments against concurrent decisions")
struct PaymentRaceTests {
    static func market(_ kind: StorageKind) throws -> (TestMarket, InterceptingPayments) {
        var intercepting: InterceptingPayments?
        let t = try TestMarket(kind) { base in
            let wrapper = InterceptingPayments(base: base)
            intercepting = wrapper
            return wrapper
        }
        return (t, intercepting!)
    }

    @Test(
        "a second accept of the same bid (a double click) fails, voiding its own authorisation and not the one the first committed",
        arguments: [StorageKind.sqliteFile, .memory])
    func doubleAccept(_ kind: StorageKind) async throws {
        let (t, payments) = try Self.market(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld()
        let (job, bids) = try await t.jobWithBids(world)
        // The first click's accept commits while the second is between its reads and its authorisation.
        await payments.beforeNext(.authorize) { _ = try await t.market.bids.accept(by: world.owner, bids[0].id) }
        do {
            _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
            Issue.record("the second accept went through")
        } catch let error as TradesKitError {
            #expect(error.code == .invalidTransition || error.code == .conflict, "\(error)")
        }
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .held)
        let reference = try #require(escrow.paymentReference)
        let payment = try #require(t.payments.payment(reference: reference))
        #expect(!payment.voided, "the committed hold was voided")
        let voided = t.payments.calls.compactMap { call -> String? in
            if case .void(let voided, _) = call { return voided }
            return nil
        }
        #expect(voided.count == 1 && voided[0] != reference, "the second click's authorisation was not voided: \(voided)")
    }

    /// An awarded job (bid 1 of three, USD 210.00) whose work is complete: the escrow is captured.
    static func completedJob(_ t: TestMarket) async throws -> (TestMarket.World, Job, Principal) {
        let world = try await t.makeWorld()
        let (job, bids) = try await t.jobWithBids(world)
        let winner = world.contractors[1]
        _ = try await t.market.bids.accept(by: world.owner, bids[1].id)
        _ = try await t.market.jobs.start(by: winner, job.id)
        _ = try await t.market.jobs.complete(by: winner, job.id)
        return (world, job, winner)
    }

    /// What the processor did with the job's payment agrees with what the escrow says, and no more left it than came in.
    static func expectProcessorAgrees(_ t: TestMarket, _ escrow: Escrow, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try #require(escrow.paymentReference, sourceLocation: sourceLocation)
        let payment = try #require(t.payments.payment(reference: reference), sourceLocation: sourceLocation)
        #expect(payment.transferred == escrow.releasedAmount.amount, "transferred vs released", sourceLocation: sourceLocation)
        #expect(payment.refunded == escrow.refundedAmount, "refunded", sourceLocation: sourceLocation)
        #expect(payment.transferred + payment.refunded.amount <= escrow.amount.amount, "paid out twice", sourceLocation: sourceLocation)
        let captured = [.captured, .released, .refunded, .partiallyRefunded].contains(escrow.status)
        #expect((payment.captured != nil) == captured, "captured at the processor vs \(escrow.status)", sourceLocation: sourceLocation)
        #expect(payment.voided == (escrow.status == .cancelled), "voided vs \(escrow.status)", sourceLocation: sourceLocation)
    }

    @Test(
        "a dispute opened while an approval's payout is sent is refused: the approval committed first, and the money follows it",
        arguments: [StorageKind.sqliteFile, .memory])
    func approveRacingDispute(_ kind: StorageKind) async throws {
        let (t, payments) = try Self.market(kind)
        defer { t.cleanup() }
        let (world, job, winner) = try await Self.completedJob(t)
        // The contractor opens a dispute at the moment the payout is sent: the approval has committed by then.
        let disputeFailure = SharedBox<(any Error)?>(nil)
        let hookRan = SharedBox(false)
        await payments.beforeNext(.transfer) {
            hookRan.set(true)
            do {
                _ = try await t.market.disputes.open(by: winner, job: job.id, reason: "The owner will not pay")
            } catch {
                disputeFailure.set(error)
            }
        }
        let closed = try await t.market.jobs.approve(by: world.owner, job.id)
        #expect(closed.status == .closed)
        #expect(hookRan.value, "the payout was never sent")
        let refusal = disputeFailure.value as? TradesKitError
        #expect(refusal?.code == .invalidTransition, "the late dispute was not refused as too late: \(String(describing: disputeFailure.value))")
        #expect(try await t.market.disputes.list(by: world.admin).items.isEmpty)
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .released && escrow.instruction == nil && escrow.releasedAmount == Money(18_900, .usd), "\(escrow)")
        try Self.expectProcessorAgrees(t, escrow)
        let ledger = try await t.market.payments.ledger(by: world.admin, job: job.id)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
    }

    @Test(
        "a dispute that commits between an approval's read and its commit wins: the approval is refused, nothing is paid out, a full refund follows")
    func disputeBeatsApprove() async throws {
        let t = try TestMarket(.memory)
        defer { t.cleanup() }
        let (world, job, winner) = try await Self.completedJob(t)
        let storage = try #require(t.storage as? MemoryStorage)
        let opened = SharedBox<Dispute?>(nil)
        storage.beforeNextCommit {
            do {
                opened.set(try await t.market.disputes.open(by: winner, job: job.id, reason: "The owner will not pay"))
            } catch {
                Issue.record("opening the dispute failed: \(error)")
            }
        }
        await expectError(.invalidTransition) { try await t.market.jobs.approve(by: world.owner, job.id) }
        let dispute = try #require(opened.value)
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .disputed)
        // The money stays captured, owed to no one until the dispute is resolved.
        var escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .captured && escrow.instruction == nil, "\(escrow)")
        try Self.expectProcessorAgrees(t, escrow)
        #expect(!t.payments.calls.contains { if case .transfer = $0 { true } else { false } }, "a payout was sent for a disputed job")

        let resolved = try await t.market.disputes.resolve(by: world.admin, dispute.id, outcome: .fullRefund, note: "Refunded")
        #expect(resolved.status == .resolved)
        escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .refunded && escrow.refundedAmount == escrow.amount && escrow.instruction == nil, "\(escrow)")
        #expect(escrow.releasedAmount == .zero(.usd))
        try Self.expectProcessorAgrees(t, escrow)
        let ledger = try await t.market.payments.ledger(by: world.admin, job: job.id)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
        #expect(ledger.contains { $0.kind == .refund } && !ledger.contains { $0.kind == .release }, "\(ledger.map(\.kind))")
    }

    @Test(
        "start racing a cancel: the cancel overtakes the start's capture, which its settlement makes, then refunds in full; nothing is voided",
        arguments: [StorageKind.sqliteFile, .memory])
    func startRacingCancel(_ kind: StorageKind) async throws {
        let (t, payments) = try Self.market(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld()
        let (job, bids) = try await t.jobWithBids(world)
        let winner = world.contractors[0]
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        let cancelled = SharedBox<TradesKitError?>(nil)
        await payments.beforeNext(.capture) {
            do { _ = try await t.market.jobs.cancel(by: world.admin, job.id) } catch { cancelled.set(error as? TradesKitError) }
        }
        let started = try await t.market.jobs.start(by: winner, job.id)
        #expect(started.status == .inProgress)
        #expect(cancelled.value == nil, "\(String(describing: cancelled.value))")
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .cancelled)
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .refunded && escrow.refundedAmount == escrow.amount && escrow.instruction == nil)
        #expect(!t.payments.calls.contains { if case .void = $0 { true } else { false } }, "captured money cannot be voided")
        try Self.expectProcessorAgrees(t, escrow)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0)
        #expect(Ledger.unbalancedTransactions(in: try await t.market.payments.ledger(by: world.admin, job: job.id)).isEmpty)
    }

    @Test(
        "a processor that fails after the decision: the decision stands, the settlement stays owed, the runner finishes it once",
        arguments: [StorageKind.sqliteFile, .memory])
    func owedSettlement(_ kind: StorageKind) async throws {
        let (t, _) = try Self.market(kind)
        defer { t.cleanup() }
        let (world, job, _) = try await Self.completedJob(t)
        t.payments.failNext(with: ProcessorDown())
        let closed = try await t.market.jobs.approve(by: world.owner, job.id)
        #expect(closed.status == .closed)
        var escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .captured && escrow.instruction == .settle(refund: .zero(.usd)))
        try Self.expectProcessorAgrees(t, escrow)

        // The failed attempt put the settlement off by the first retry delay.
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0, "retried before it is due")
        t.clock.advance(by: 60)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 1)
        escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .released && escrow.instruction == nil && escrow.releasedAmount == Money(18_900, .usd))
        try Self.expectProcessorAgrees(t, escrow)
        #expect(try await t.market.payments.runPendingSettlements(in: world.tenant.id) == 0)
        let reference = try #require(escrow.paymentReference)
        #expect(t.payments.payment(reference: reference)?.transfers.count == 1)
        let ledger = try await t.market.payments.ledger(by: world.admin, job: job.id)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
        #expect(Set(ledger.filter { $0.kind == .release }.map(\.transactionID)).count == 1, "one release posted")
    }

    @Test(
        "an authorisation whose answer was lost is found and voided; a retried accept holds the money once",
        arguments: [StorageKind.sqliteFile, .memory])
    func lostAuthorization(_ kind: StorageKind) async throws {
        let (t, _) = try Self.market(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld(contractors: 2)
        let (job, bids) = try await t.jobWithBids(world)
        // The processor places the hold, then the answer is lost (a timeout on the way back).
        t.payments.loseNextAnswer(with: ProcessorDown())
        await expectError(.paymentFailed) { try await t.market.bids.accept(by: world.owner, bids[0].id) }
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .open)
        let orphan = try #require(t.payments.payments.first)
        #expect(t.payments.payments.count == 1 && orphan.voided, "the hold placed by the failed call is released")
        // The same key was asked again (answering the same hold), then voided once.
        let keys = t.payments.calls.map(\.idempotencyKey)
        #expect(keys.filter { $0.hasPrefix("accept:") }.count == 2 && Set(keys.filter { $0.hasPrefix("accept:") }).count == 1, "\(keys)")

        // A call that never reached the processor: asked again, it is made then, and released just the same.
        t.payments.failNext(with: ProcessorDown())
        t.payments.failNext(with: ProcessorDown())
        await expectError(.paymentFailed) { try await t.market.bids.accept(by: world.owner, bids[0].id) }
        #expect(t.payments.payments.count == 1, "nothing reached the processor")

        let acceptance = try await t.market.bids.accept(by: world.owner, bids[0].id)
        let live = t.payments.payments.filter { !$0.voided }
        #expect(live.map(\.reference) == [acceptance.escrow.paymentReference], "one hold, the escrow's")
    }
}

struct ProcessorDown: Error {}

/// A value shared with a hook.
final class SharedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}
