import CoreMetrics
import Foundation

/// Disputes: opened by a party, answered by the other, resolved by an admin with a money outcome.
public struct DisputeService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// Opens a dispute on an awarded, in-progress or completed job (its owner or contractor). A completed job can be
    /// disputed until the tenant's auto-approve window ends: after that its approval is due, whenever the scheduler
    /// gets to it, and a dispute would hold back money the contractor is owed.
    /// - Throws: ``TradesKitError/Code/invalidTransition`` in any other state, or once the window has ended.
    public func open(by principal: Principal, job jobID: JobID, reason: String) async throws -> Dispute {
        var validator = Validator()
        let reason = validator.text(reason, field: "reason", min: 10, max: 5_000)
        try validator.check()
        return try await environment.acting("dispute.open", as: principal, onJob: jobID, reading: [.tenant]) { store, actor, job, read in
            guard job.isParty(actor.id) else { throw TradesKitError.forbidden("Only the homeowner or the awarded contractor can open a dispute") }
            guard let tenant = read.tenant else { throw TradesKitError.notFound("Tenant") }
            let now = environment.now()
            if job.isDueForAutoApproval(at: now, after: tenant.settings.policies.autoApproveAfterSeconds) {
                throw TradesKitError.invalidTransition("The time to dispute this job has ended; it is approved automatically")
            }
            let disputed = try job.disputing(at: now)
            guard let contractorID = job.contractorID else { throw TradesKitError.invalidTransition("The job has no contractor") }
            let respondent = actor.id == job.ownerID ? contractorID : job.ownerID
            let dispute = Dispute(
                id: environment.ids.make(), jobID: job.id, openedBy: actor.id, respondent: respondent, reason: reason,
                jobStatusBefore: job.status, createdAt: now)
            var changes = ChangeSet()
            changes.expectCaller(actor)
            changes.update(disputed)
            changes.append(.insertDispute(dispute))
            try record(dispute, in: &changes, at: now)
            try environment.record(
                JobStatusChanged(
                    jobID: job.id, ownerID: job.ownerID, contractorID: contractorID, from: job.status, to: .disputed,
                    automatic: false), in: &changes, at: now)
            try await store.commit(changes)
            BusinessMetrics.disputesOpened.increment()
            return dispute
        }
    }

    /// The other party answers.
    public func respond(by principal: Principal, _ id: DisputeID, response: String) async throws -> Dispute {
        var validator = Validator()
        let response = validator.text(response, field: "response", max: 5_000)
        try validator.check()
        return try await environment.run("dispute.respond", tenant: principal.tenantID) {
            let store = environment.store(principal)
            let (dispute, actor) = try await visibleDispute(id, principal, store)
            guard dispute.respondent == principal.userID else { throw TradesKitError.forbidden("Only the other party can respond") }
            let now = environment.now()
            var changes = ChangeSet()
            changes.expectCaller(actor)
            let answered = changes.update(try dispute.responding(response, at: now))
            try record(answered, in: &changes, at: now)
            try await store.commit(changes)
            return answered
        }
    }

    /// An admin resolves the dispute: release to the contractor, refund part, or refund all. The job closes. With
    /// `expectedVersion`, the dispute's version the admin decided on, the resolution is refused if the dispute changed
    /// since (the other party's answer arrived, say).
    /// - Throws: ``TradesKitError/Code/conflict`` when the dispute is no longer at `expectedVersion`.
    public func resolve(
        by principal: Principal, _ id: DisputeID, outcome: DisputeOutcome, note: String, expectedVersion: Int64? = nil
    ) async throws -> Dispute {
        var validator = Validator()
        let note = validator.text(note, field: "note", max: 5_000)
        try validator.check()
        let decided = try await environment.acting("dispute.resolve", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can resolve disputes") }
            guard let dispute = try await store.dispute(id), let job = try await store.job(dispute.jobID) else {
                throw TradesKitError.notFound("Dispute")
            }
            try TradesKitError.expect(dispute.version, toBe: expectedVersion, "The dispute")
            guard let escrow = try await store.escrow(job: job.id) else { throw TradesKitError.invalidTransition("The job has no payment") }
            let now = environment.now()
            let resolved = try dispute.resolving(DisputeResolution(outcome: outcome, note: note, resolvedBy: actor.id, resolvedAt: now), at: now)
            let closed = try job.resolvingDispute(at: now)

            let refund: Money
            switch outcome {
            case .release: refund = .zero(escrow.amount.currency)
            case .fullRefund: refund = escrow.amount
            case .partialRefund(let amount):
                var check = Validator()
                check.positiveAmount(amount, currency: escrow.amount.currency, field: "outcome.refund")
                if amount.currency == escrow.amount.currency, amount.amount >= escrow.amount.amount {
                    check.fail("outcome.refund.amount", "out_of_range", "must be less than the payment; use a full refund instead")
                }
                try check.check()
                refund = amount
            }

            var changes = ChangeSet()
            changes.expectCaller(actor)
            switch (escrow.status, outcome) {
            case (.held, .fullRefund) where !escrow.captureBegun, (.authorizationPending, .fullRefund):
                // Nothing was collected: voiding the hold is the full refund.
                try environment.instruct(.void, escrow, at: now, into: &changes)
            case (.held, _), (.captured, _):
                // Held money is captured first, then split.
                try environment.instruct(.settle(refund: refund), escrow, overtakingCapture: true, at: now, into: &changes)
            default:
                throw TradesKitError.invalidTransition("No money is held for this job")
            }
            let committed = changes.update(resolved)
            changes.update(closed)
            try record(committed, in: &changes, at: now)
            try environment.record(
                JobStatusChanged(
                    jobID: job.id, ownerID: job.ownerID, contractorID: job.contractorID, from: job.status, to: closed.status,
                    automatic: false), in: &changes, at: now)
            try await store.commit(changes)
            return committed
        }
        // The resolution stands whether or not the processor answers now (see ``SettlementInstruction``).
        await environment.settleOwed(job: decided.jobID, tenant: principal.tenantID)
        return decided
    }

    /// A dispute: for its parties and admins.
    public func get(by principal: Principal, _ id: DisputeID) async throws -> Dispute {
        try await environment.run("dispute.get", tenant: principal.tenantID) {
            try await visibleDispute(id, principal, environment.store(principal)).0
        }
    }

    /// Disputes newest first: every dispute for an admin (the queue), the caller's own otherwise.
    public func list(by principal: Principal, statuses: Set<DisputeStatus>? = nil, page: PageRequest = PageRequest()) async throws -> Page<Dispute> {
        try await environment.acting("dispute.list", as: principal) { store, actor in
            return try await store.disputes(participant: actor.role == .admin ? nil : actor.id, statuses: statuses, page: page)
        }
    }

    /// The admins' queue: every participant's disputes with these statuses (the unresolved ones when `nil`), newest
    /// first. Admins only.
    public func queue(by principal: Principal, statuses: Set<DisputeStatus>? = nil, page: PageRequest = PageRequest()) async throws -> Page<Dispute> {
        try await environment.acting("dispute.queue", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can see the dispute queue") }
            return try await store.disputes(participant: nil, statuses: statuses ?? [.awaitingResponse, .underReview], page: page)
        }
    }

    /// The dispute, if the caller may see it, and the caller as read.
    private func visibleDispute(_ id: DisputeID, _ principal: Principal, _ store: any TenantStorage) async throws -> (Dispute, User) {
        let actor = try await environment.actor(principal, in: store)
        guard let dispute = try await store.dispute(id), actor.role == .admin || dispute.openedBy == actor.id || dispute.respondent == actor.id else {
            throw TradesKitError.notFound("Dispute")
        }
        return (dispute, actor)
    }

    private func record(_ dispute: Dispute, in changes: inout ChangeSet, at now: Date) throws {
        try environment.record(
            DisputeChanged(
                disputeID: dispute.id, jobID: dispute.jobID, openedBy: dispute.openedBy, respondent: dispute.respondent,
                status: dispute.status, outcome: dispute.resolution?.outcome.name), in: &changes, at: now)
    }
}
