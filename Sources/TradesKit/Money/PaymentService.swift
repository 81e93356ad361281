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

    /// Ledger transactions of a tenant whose entries do not sum to zero; empty when the ledger is sound.
    public func unbalancedTransactions(by operator: PlatformOperator, in tenant: TenantID) async throws -> [LedgerTransactionID] {
        try await environment.run("payment.check", tenant: tenant) {
            try await environment.storage.tenant(tenant).unbalancedLedgerTransactions()
        }
    }
}

/// The money movements, shared by bids, jobs and disputes. Each calls the processor with an idempotency key derived
/// from the business operation, so a retried operation never moves money twice, then records the escrow change,
/// the ledger postings and the event in the caller's change set.
extension ServiceEnvironment {
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
        let kind: LedgerTransactionKind = contractorShare.amount > 0 ? .release : .refund
        changes.append(
            try ledger(kind, job: escrow.jobID, Ledger.settle(total: escrow.amount, refund: refund, contractor: contractorShare, fee: fee), at: now))
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
