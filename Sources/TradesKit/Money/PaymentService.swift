import CoreMetrics
import Foundation
import Logging

/// Escrow and ledger reads, and the ledger invariant check.
public struct PaymentService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// The escrow of a job: for its owner, its contractor and admins.
    public func escrow(by principal: Principal, job jobID: JobID) async throws -> Escrow {
        try await environment.acting("payment.escrow", as: principal) { store, actor in
            guard let job = try await store.job(jobID), actor.role == .admin || job.isParty(actor.id),
                let escrow = try await store.escrow(job: jobID)
            else { throw TradesKitError.notFound("Payment") }
            return escrow
        }
    }

    /// Ledger entries of one job or of the whole tenant (admin only).
    public func ledger(by principal: Principal, job: JobID? = nil) async throws -> [LedgerEntry] {
        try await environment.acting("payment.ledger", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can read the ledger") }
            return try await store.ledgerEntries(job: job)
        }
    }

    /// The settlements the processor still owes in the caller's tenant (admins only), the soonest due first, at most
    /// `limit` (1…500) of them: what ``Escrow/settlementFailures`` and ``Escrow/settlementDueAt`` tell an operator about
    /// payments the processor keeps refusing. ``TenantService/counts(by:)`` counts them all.
    public func owedSettlements(by principal: Principal, limit: Int = 100) async throws -> [Escrow] {
        try await environment.acting("payment.owed", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can see the payments owed") }
            return try await store.pendingSettlements(dueBy: .distantFuture, limit: min(500, max(1, limit)))
        }
    }

    /// Carries out the settlement a job's escrow owes now, without waiting for its due time (admins only): for an
    /// operator who has fixed what the processor refused (a contractor's account, a card), or wants to know whether it
    /// still refuses. Answers the escrow as it is after the attempt: nothing owed once it went through (or if nothing
    /// was), or owed again if a decision instructed a new movement meanwhile. A failure counts and postpones like any
    /// other (``runPendingSettlements(in:limit:)``), and is thrown.
    /// - Throws: ``TradesKitError/Code/notFound`` for a job without an escrow in the tenant; what the attempt failed
    ///   with: ``TradesKitError/Code/paymentFailed`` when the processor refuses again,
    ///   ``TradesKitError/Code/storageUnavailable``, or ``TradesKitError/Code/invalidTransition`` when the money is not
    ///   where the instruction needs it.
    public func settleNow(by principal: Principal, job jobID: JobID) async throws -> Escrow {
        let owed = try await environment.acting("payment.settle_now", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can settle a payment") }
            guard let escrow = try await store.escrow(job: jobID) else { throw TradesKitError.notFound("Payment") }
            return escrow.instruction != nil
        }
        var failure: (any Error)?
        if owed, case .failed(let error) = await environment.attemptOwed(job: jobID, tenant: principal.tenantID) { failure = error }
        let escrow = try await environment.run("payment.settle_now", tenant: principal.tenantID) {
            try await environment.store(principal).escrow(job: jobID)
        }
        guard let escrow else { throw TradesKitError.notFound("Payment") }
        // What the escrow says decides: a runner may have carried it out while this attempt was refused.
        if escrow.instruction != nil, let failure {
            throw failure as? TradesKitError ?? TradesKitError(.paymentFailed, "The payment processor could not settle the payment")
        }
        return escrow
    }

    /// Carries out the settlements due in a tenant: decisions whose processor calls failed or were cut off (see
    /// ``SettlementInstruction``), at most `limit` of them per run, the longest due first. Run it from a scheduler, as
    /// often as every minute; it is safe to run concurrently and repeatedly. Answers how many settled.
    ///
    /// One that fails again is logged and postponed: it is due again after a delay that doubles with each failure in a
    /// row (``Marketplace/Configuration/settlementRetryDelay``), so escrows the processor keeps refusing are tried less
    /// and less often and never hold up the others. From the fifth failure in a row it is logged as an error, and
    /// `tradeskit_settlement_failures_total` counts every failure.
    public func runPendingSettlements(in tenant: TenantID, limit: Int = 100) async throws -> Int {
        guard limit > 0 else { return 0 }
        let store = environment.storage.tenant(tenant)
        let now = environment.now()
        let pending = try await environment.run("payment.pending", tenant: tenant) {
            try await store.pendingSettlements(dueBy: now, limit: min(500, limit))
        }
        var settled = 0
        for escrow in pending where await environment.settleOwed(job: escrow.jobID, tenant: tenant, dueBy: now) {
            settled += 1
        }
        return settled
    }

    /// Captures the payments of a tenant held for longer than ``Marketplace/Configuration/captureHeldPaymentsAfter``,
    /// oldest first, at most `limit` of them per run: an authorisation lapses after some days (seven for a card at
    /// Stripe), and a job awarded but not started by then would lose its money. Run it from a scheduler; it is safe to
    /// run concurrently and repeatedly. Answers how many were captured.
    ///
    /// The job stays where it is. Its money is collected as starting the work would have collected it (a
    /// ``SettlementInstruction/capture`` committed first, the processor called with the key `capture:<job>`), and goes
    /// where the job's end sends it: released on approval, refunded in full if the job is cancelled, or split by a
    /// dispute. A capture the processor fails stays owed for ``runPendingSettlements(in:limit:)``.
    /// - Throws: ``TradesKitError/Code/storageUnavailable``.
    public func runHoldCaptures(in tenant: TenantID, limit: Int = 100) async throws -> Int {
        guard limit > 0 else { return 0 }
        let store = environment.storage.tenant(tenant)
        let cutoff = environment.now().addingTimeInterval(-environment.captureHeldPaymentsAfter)
        let due = try await environment.run("payment.capture_held", tenant: tenant) {
            try await store.heldEscrows(openedBefore: cutoff, limit: min(500, limit))
        }
        var captured = 0
        for escrow in due {
            do {
                // Version-checked against the escrow as read again here: a cancel or a start that instructed it first wins.
                let instructed = try await environment.run("payment.capture_held", tenant: tenant) {
                    guard let current = try await store.escrow(job: escrow.jobID), current.status == .held, current.instruction == nil else {
                        return false
                    }
                    var changes = ChangeSet()
                    try environment.instruct(.capture, current, at: environment.now(), into: &changes)
                    try await store.commit(changes)
                    return true
                }
                if instructed, await environment.settleOwed(job: escrow.jobID, tenant: tenant) { captured += 1 }
            } catch let error as TradesKitError where error.code != .storageUnavailable {
                environment.logger.warning(
                    "A held payment could not be captured; it will be tried again",
                    metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.job": "\(escrow.jobID)", "tradeskit.error": "\(error.code.rawValue)"])
            }
        }
        return captured
    }

    /// Ledger transactions of a tenant whose entries do not sum to zero; empty when the ledger is sound.
    public func unbalancedTransactions(by operator: PlatformOperator, in tenant: TenantID) async throws -> [LedgerTransactionID] {
        try await environment.run("payment.check", tenant: tenant) {
            try await environment.storage.tenant(tenant).unbalancedLedgerTransactions()
        }
    }
}

/// The money movements, shared by bids, jobs and disputes, in two steps. A decision puts a ``SettlementInstruction`` on
/// the escrow in its own change set (``instruct(_:_:at:into:)``), so it commits with the job's change or not at all;
/// then ``attemptOwed(job:tenant:dueBy:postponing:)`` calls the processor, each call with an idempotency key derived
/// from the job, and commits the escrow change, the ledger postings and the event with the instruction cleared.
extension ServiceEnvironment {
    /// Records where the money is to go with the decision in `changes`.
    ///
    /// One movement at a time, with one exception: a cancel or an admin's resolution of a dispute (`overtakingCapture`)
    /// replaces an owed capture with its settlement, which captures first with the same key. So the way out of a job is
    /// not held up by a capture the processor has not carried out yet (money held too long,
    /// ``PaymentService/runHoldCaptures(in:limit:)``, or a start's); the owner's approval still waits for it.
    /// - Throws: ``TradesKitError/paymentStillOwed`` (``TradesKitError/Code/conflict``) while an earlier instruction is owed;
    ///   ``TradesKitError/Code/invalidTransition`` when the money is not where the instruction needs it.
    func instruct(
        _ instruction: SettlementInstruction, _ escrow: Escrow, overtakingCapture: Bool = false, at now: Date, into changes: inout ChangeSet
    ) throws {
        switch (escrow.instruction, instruction) {
        case (nil, _): break
        case (.capture?, .settle) where overtakingCapture: break
        default: throw TradesKitError.paymentStillOwed
        }
        switch instruction {
        case .capture:
            guard escrow.status == .held, escrow.paymentReference != nil else {
                throw TradesKitError.invalidTransition("The payment is not authorised yet")
            }
        case .settle(let refund):
            guard escrow.status == .held || escrow.status == .captured, escrow.paymentReference != nil else {
                throw TradesKitError.invalidTransition("No money is held for this job")
            }
            guard refund.currency == escrow.amount.currency, refund.amount >= 0, refund.amount <= escrow.amount.amount else {
                throw TradesKitError.invalidTransition("The refund exceeds the payment")
            }
        case .void:
            guard escrow.status == .held || escrow.status == .authorizationPending else {
                throw TradesKitError.invalidTransition("Only uncaptured money can be voided")
            }
        }
        var instructed = escrow
        instructed.instruction = instruction
        instructed.settlementDueAt = now
        instructed.settlementFailures = 0
        instructed.updatedAt = now
        changes.update(instructed)
    }

    /// Carries out the escrow's instruction, if any, and commits the outcome; answers whether nothing is owed now. See
    /// ``attemptOwed(job:tenant:dueBy:postponing:)``.
    @discardableResult
    func settleOwed(job jobID: JobID, tenant: TenantID, dueBy: Date? = nil, postponing: Bool = true) async -> Bool {
        if case .done = await attemptOwed(job: jobID, tenant: tenant, dueBy: dueBy, postponing: postponing) { return true }
        return false
    }

    /// What an attempt at an owed settlement came to.
    enum SettlementAttempt {
        /// Nothing is owed now: carried out by this attempt or another, or nothing was.
        case done
        /// Left for its due time (see `dueBy`).
        case notDue
        /// The attempt failed; the instruction stays owed.
        case failed(any Error)
    }

    /// Carries out the escrow's instruction, if any, and commits the outcome. A failure is logged (without payment
    /// details) and, when `postponing`, postpones the instruction (``postpone(_:tenant:)``) for
    /// ``PaymentService/runPendingSettlements(in:limit:)``: the decision that set it has committed and stands. An
    /// attempt someone is waiting on outside the schedule (a party's decision) passes `postponing: false`: it moves
    /// nothing in the schedule and counts no failure.
    ///
    /// With `dueBy`, an instruction due after it when first read (postponed since the caller listed it, by another
    /// runner) is left for its time: not attempted, and not counted as a failure. A read again after a lost race is not
    /// judged by it: this attempt's processor calls may have gone through already.
    func attemptOwed(job jobID: JobID, tenant: TenantID, dueBy: Date? = nil, postponing: Bool = true) async -> SettlementAttempt {
        let store = storage.tenant(tenant)
        var attempted: Escrow?
        do {
            return try await run("payment.settle", tenant: tenant) {
                let firstRead = attempted == nil
                guard let escrow = try await store.escrow(job: jobID), let instruction = escrow.instruction else { return .done }
                if firstRead, let dueBy, let due = escrow.settlementDueAt, due > dueBy { return .notDue }
                attempted = escrow
                let now = now()
                var changes = ChangeSet()
                var owed = escrow
                owed.instruction = nil
                owed.settlementDueAt = nil
                owed.settlementFailures = 0
                switch instruction {
                case .capture:
                    _ = try await capture(owed, tenant: tenant, at: now, into: &changes)
                case .void:
                    _ = try await void(owed, tenant: tenant, at: now, into: &changes)
                case .settle(let refund):
                    if owed.status == .held { owed = try await capture(owed, tenant: tenant, at: now, into: &changes) }
                    _ = try await settle(owed, refund: refund, tenant: tenant, at: now, into: &changes)
                }
                // Version-checked against the escrow read: a concurrent settlement of the same instruction made the same
                // calls with the same keys; whichever commits first wins, and the other finds nothing owed on its retry.
                try await store.commit(changes)
                return .done
            }
        } catch {
            // Postponed whatever failed, so a failing escrow never stays at the head of the list; the postponement is
            // version-checked against the escrow as last read, and loses to whoever changed it since.
            var failures: Int?
            if postponing, let attempted { failures = await postpone(attempted, tenant: tenant) }
            BusinessMetrics.settlementFailures.increment()
            var metadata: Logger.Metadata = [
                "tradeskit.tenant": "\(tenant)", "tradeskit.job": "\(jobID)",
                "tradeskit.error": "\((error as? TradesKitError)?.code.rawValue ?? "\(type(of: error))")",
            ]
            if let failures { metadata["tradeskit.settlement_failures"] = "\(failures)" }
            logger.log(
                level: (failures ?? 0) >= Self.settlementFailuresBeforeAlert ? .error : .warning, "A settlement is still owed; it will be retried",
                metadata: metadata)
            return .failed(error)
        }
    }

    /// From this many failed attempts in a row, an owed settlement is logged as an error rather than a warning.
    static let settlementFailuresBeforeAlert = 5

    /// Records a failed attempt at the escrow's instruction, as read before the attempt: one more failure in a row, and
    /// due again after ``Marketplace/Configuration/settlementRetryDelay(afterFailures:)``. The escrow's ``Escrow/updatedAt``
    /// stays: where the money is did not change. Answers the failures in a row, or `nil` when they could not be recorded
    /// (a concurrent change won, or the storage failed too), and the instruction stays due as it was.
    func postpone(_ escrow: Escrow, tenant: TenantID) async -> Int? {
        var postponed = escrow
        postponed.settlementFailures = max(0, escrow.settlementFailures) + 1
        postponed.settlementDueAt = now().addingTimeInterval(settlementRetry(postponed.settlementFailures)).truncatedToMilliseconds
        var changes = ChangeSet()
        changes.update(postponed)
        do {
            try await storage.tenant(tenant).commit(changes)
            return postponed.settlementFailures
        } catch {
            return nil
        }
    }

    func capture(_ escrow: Escrow, tenant: TenantID, at now: Date, into changes: inout ChangeSet) async throws -> Escrow {
        guard let reference = escrow.paymentReference, escrow.status == .held else {
            throw TradesKitError.invalidTransition("The payment is not authorised yet")
        }
        try await pay("capture the payment", tenant: tenant) {
            try await payments.capture(paymentReference: reference, amount: escrow.amount, idempotencyKey: "capture:\(escrow.jobID)")
        }
        let captured = try escrow.capturing(at: now)
        changes.append(try ledger(.capture, job: escrow.jobID, Ledger.capture(escrow.amount), at: now))
        try recordPayment(captured, in: &changes, at: now)
        return changes.update(captured)
    }

    /// Refunds `refund` to the homeowner and pays the rest, minus the fee, to the contractor.
    func settle(_ escrow: Escrow, refund: Money, tenant: TenantID, at now: Date, into changes: inout ChangeSet) async throws -> Escrow {
        guard let reference = escrow.paymentReference, escrow.status == .captured else {
            throw TradesKitError.invalidTransition("Only captured money can be released or refunded")
        }
        let gross = try escrow.amount.subtracting(refund)
        guard refund.amount >= 0, gross.amount >= 0 else { throw TradesKitError.invalidTransition("The refund exceeds the payment") }
        let (contractorShare, fee) = try escrow.payout(of: gross)
        if refund.amount > 0 {
            _ = try await pay("refund the payment", tenant: tenant) {
                try await payments.refund(paymentReference: reference, amount: refund, idempotencyKey: "refund:\(escrow.jobID)")
            }
        }
        var transfer: String?
        if contractorShare.amount > 0 {
            let request = PaymentTransferRequest(
                tenantID: tenant, jobID: escrow.jobID, contractorID: escrow.contractorID, paymentReference: reference,
                amount: contractorShare, idempotencyKey: "release:\(escrow.jobID)")
            transfer = try await pay("pay the contractor", tenant: tenant) { try await payments.transfer(request) }
        }
        let settled = try escrow.settling(refund: refund, contractor: contractorShare, fee: fee, transferReference: transfer, at: now)
        // Two transactions for a partial refund, so the ledger tells what went back to the homeowner from what was
        // released, by kind as by account.
        if refund.amount > 0 { changes.append(try ledger(.refund, job: escrow.jobID, Ledger.refund(refund), at: now)) }
        if gross.amount > 0 {
            changes.append(try ledger(.release, job: escrow.jobID, Ledger.release(gross: gross, contractor: contractorShare, fee: fee), at: now))
        }
        try recordPayment(settled, in: &changes, at: now)
        if settled.status == .released { BusinessMetrics.paymentsReleased.increment() }
        return changes.update(settled)
    }

    /// Voids an uncaptured authorisation.
    func void(_ escrow: Escrow, tenant: TenantID, at now: Date, into changes: inout ChangeSet) async throws -> Escrow {
        if let reference = escrow.paymentReference {
            try await pay("void the payment", tenant: tenant) {
                try await payments.void(paymentReference: reference, idempotencyKey: "void:\(escrow.jobID)")
            }
        }
        let voided = try escrow.voiding(at: now)
        if escrow.status == .held {
            changes.append(try ledger(.void, job: escrow.jobID, Ledger.void(escrow.amount), at: now))
        }
        try recordPayment(voided, in: &changes, at: now)
        return changes.update(voided)
    }

    func recordPayment(_ escrow: Escrow, in changes: inout ChangeSet, at now: Date) throws {
        let event = PaymentEvent(
            jobID: escrow.jobID, escrowID: escrow.id, ownerID: escrow.homeownerID, contractorID: escrow.contractorID,
            status: escrow.status, amount: escrow.amount)
        try record(event, in: &changes, at: now)
    }
}
