import CoreMetrics
import Foundation
import Logging

/// Posting, finding and moving jobs through their life.
public struct JobService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// What posting a job takes.
    public struct NewJob: Sendable, Hashable {
        /// The trade category.
        public var categoryID: CategoryID
        /// A title, 3–120 characters.
        public var title: String
        /// A description, up to 5000 characters.
        public var description: String
        /// Where the work is.
        public var location: GeoPoint
        /// The budget range, in the tenant's currency.
        public var budget: BudgetRange

        /// Creates the input.
        public init(categoryID: CategoryID, title: String, description: String, location: GeoPoint, budget: BudgetRange) {
            self.categoryID = categoryID
            self.title = title
            self.description = description
            self.location = location
            self.budget = budget
        }
    }

    /// What an owner may change while the job is open.
    public struct Update: Sendable, Hashable {
        /// A new title.
        public var title: String?
        /// A new description.
        public var description: String?
        /// A new budget.
        public var budget: BudgetRange?

        /// Creates the input.
        public init(title: String? = nil, description: String? = nil, budget: BudgetRange? = nil) {
            self.title = title
            self.description = description
            self.budget = budget
        }
    }

    /// Posts a job (homeowners only).
    public func post(by principal: Principal, _ input: NewJob) async throws -> Job {
        guard principal.role == .homeowner else { throw TradesKitError.forbidden("Only homeowners post jobs") }
        let store = environment.store(principal)
        return try await environment.run("job.post", tenant: principal.tenantID) {
            let actor = try await environment.actor(principal, in: store)
            let tenant = try await environment.tenant(of: store)
            var validator = Validator()
            let title = validator.text(input.title, field: "title", min: 3, max: 120)
            let description = validator.text(input.description, field: "description", max: 5_000)
            validator.point(input.location, field: "location")
            input.budget.validate(currency: tenant.settings.currency, into: &validator)
            if try await store.category(input.categoryID) == nil {
                validator.fail("categoryId", "unknown_category", "does not name a category of this marketplace")
            }
            try validator.check()

            let now = environment.now()
            let job = Job(
                id: environment.ids.make(), ownerID: principal.userID, categoryID: input.categoryID, title: title,
                description: description, location: input.location, budget: input.budget, createdAt: now)
            var changes = ChangeSet()
            changes.expectCaller(actor)
            changes.append(.insertJob(job))
            try environment.record(JobPosted(jobID: job.id, ownerID: job.ownerID, categoryID: job.categoryID), in: &changes, at: now)
            try await store.commit(changes)
            BusinessMetrics.jobsPosted.increment()
            return job
        }
    }

    /// A job: open jobs for every member of the tenant; others for their parties, bidders and admins.
    public func get(by principal: Principal, _ id: JobID) async throws -> Job {
        try await environment.acting("job.get", as: principal, onJob: id) { _, _, job in job.redacted(for: principal) }
    }

    /// Searches jobs. Non-admins see open jobs and the jobs they own or were awarded.
    public func search(by principal: Principal, _ query: JobQuery) async throws -> Page<Job> {
        var validator = Validator()
        validator.range(query.limit, 1...100, field: "limit")
        if let text = query.text { validator.text(text, field: "q", max: 100) }
        if let near = query.near {
            validator.point(near.center, field: "near")
            if !near.radiusKm.isFinite || !(0.1...1_000).contains(near.radiusKm) {
                validator.fail("radiusKm", "out_of_range", "must be between 0.1 and 1000")
            }
        }
        try validator.check()
        var query = query
        query.text = query.text?.trimmingCharacters(in: .whitespacesAndNewlines)
        if principal.role != .admin { query.visibleTo = principal.userID }
        return try await environment.acting("job.search", as: principal) { [query] store, _ in
            var page = try await store.jobs(query)
            page.items = page.items.map { $0.redacted(for: principal) }
            return page
        }
    }

    /// Edits an open job (its owner only) that has no live bid. A job keeps the currency it was posted in, even if the
    /// tenant's changes since: its bids are in that currency.
    ///
    /// Once a contractor has bid, the job is what they priced: an edit then fails with
    /// ``TradesKitError/Code/invalidTransition``, and the owner either asks the bidders to withdraw or cancels the job
    /// (which declines the bids and tells each bidder) and posts it again. A bid racing the edit cannot slip in between
    /// its read and its commit: the edit expects the job to have no live bid when it commits, and a bid expects the job's
    /// version as it read it, so one of the two fails and is retried from a fresh read.
    ///
    /// An edit that changes nothing (no field, or each as the job has it) answers the job as it is and writes nothing: its
    /// version stays, so a bid naming it (``NewBid/jobVersion``) is not refused for an edit that changed no word.
    public func update(by principal: Principal, _ id: JobID, _ update: Update) async throws -> Job {
        try await transition("job.update", principal, id, allowed: { job, actor in actor.id == job.ownerID }) { job, store, changes, now in
            var validator = Validator()
            let title = update.title.map { validator.text($0, field: "title", min: 3, max: 120) }
            let description = update.description.map { validator.text($0, field: "description", max: 5_000) }
            update.budget?.validate(currency: job.budget.max.currency, into: &validator)
            try validator.check()
            let updated = try job.updated(title: title, description: description, budget: update.budget, at: now)
            if updated == job { return job }
            guard try await store.bids(job: id, viewer: .admin).allSatisfy({ !$0.isLive }) else {
                throw TradesKitError.invalidTransition(
                    "A job cannot be edited once it has live bids: contractors priced what it said. Cancel it and post it again")
            }
            changes.append(.expectLiveBids(id, []))
            return updated
        }
    }

    /// The awarded contractor starts the work; the held money is captured (see ``SettlementInstruction``), unless it was
    /// captured already because the work started late.
    public func start(by principal: Principal, _ id: JobID) async throws -> Job {
        try await settling(principal, id) {
            try await transition("job.start", principal, id, allowed: { job, actor in actor.id == job.contractorID }) {
                job, store, changes, now in
                let started = try job.starting(at: now)
                guard let escrow = try await store.escrow(job: id) else { throw TradesKitError.invalidTransition("The job has no payment") }
                // Held too long before the work started, the money may be collected already
                // (``PaymentService/runHoldCaptures(in:limit:)``); while that capture is owed, the start waits for it
                // (`conflict`), as any decision waits for an owed movement.
                if !(escrow.status == .captured && escrow.instruction == nil) {
                    try environment.instruct(.capture, escrow, at: now, into: &changes)
                }
                return started
            }
        }
    }

    /// The awarded contractor marks the work complete; the owner's approval window starts.
    public func complete(by principal: Principal, _ id: JobID) async throws -> Job {
        try await transition("job.complete", principal, id, allowed: { job, actor in actor.id == job.contractorID }) { job, _, _, now in
            try job.completing(at: now)
        }
    }

    /// The owner approves the work; the money is released to the contractor, minus the platform fee.
    public func approve(by principal: Principal, _ id: JobID) async throws -> Job {
        try await settling(principal, id) {
            try await transition("job.approve", principal, id, allowed: { job, actor in actor.id == job.ownerID }) {
                job, store, changes, now in
                try await approve(job, store: store, changes: &changes, at: now)
            }
        }
    }

    /// Cancels a job. The owner may cancel before work starts, the awarded contractor before it starts, an admin any time
    /// before completion. Open bids are declined; held money is voided; captured money is refunded in full.
    public func cancel(by principal: Principal, _ id: JobID) async throws -> Job {
        try await settling(principal, id) { try await cancelling(principal, id) }
    }

    private func cancelling(_ principal: Principal, _ id: JobID) async throws -> Job {
        try await transition(
            "job.cancel", principal, id,
            allowed: { job, actor in
                actor.role == .admin || (job.isParty(actor.id) && job.status != .inProgress)
            }
        ) { job, store, changes, now in
            let (cancelled, stage) = try job.cancelling(at: now)
            switch stage {
            case .beforeAward:
                let live = try await store.bids(job: id, viewer: .admin).filter(\.isLive)
                // A bid submitted after this read makes the set fail and retry, so no bid stays live on a cancelled job.
                changes.append(.expectLiveBids(id, Set(live.map(\.id))))
                for bid in live {
                    changes.update(try bid.declining(at: now))
                    try environment.record(BidDeclined(bidID: bid.id, jobID: id, contractorID: bid.contractorID), in: &changes, at: now)
                }
            case .afterAward, .inProgress:
                guard let escrow = try await store.escrow(job: id) else { break }
                let instruction: SettlementInstruction = escrow.captureBegun ? .settle(refund: escrow.amount) : .void
                try environment.instruct(instruction, escrow, overtakingCapture: true, at: now, into: &changes)
            }
            return cancelled
        }
    }

    /// Approves the jobs of `tenant` whose auto-approve window has passed, as the tenant's policy says, oldest completion
    /// first, at most `limit` of them per run. Answers how many. Run it from a scheduler; it is safe to run concurrently
    /// and repeatedly.
    ///
    /// A job that cannot be approved now (a settlement of its money still owed, a race lost too often) is logged and
    /// left for the next run; the run walks on past it, page by page, so jobs that keep failing never hold back the
    /// ones after them. Only a storage failure ends the run early.
    /// - Throws: ``TradesKitError/Code/storageUnavailable``.
    public func runAutoApprovals(in tenantID: TenantID, limit: Int = 100) async throws -> Int {
        guard limit > 0 else { return 0 }
        let store = environment.storage.tenant(tenantID)
        let tenant = try await environment.run("job.auto_approve", tenant: tenantID) { try await environment.tenant(of: store) }
        let now = environment.now()
        let cutoff = now.addingTimeInterval(-Double(tenant.settings.policies.autoApproveAfterSeconds))
        var approved = 0
        var cursor: PageCursor?
        repeat {
            let request = PageRequest(cursor: cursor, limit: limit)
            let due = try await environment.run("job.auto_approve", tenant: tenantID) { try await store.jobsCompleted(before: cutoff, page: request) }
            // Approved jobs leave the set behind the cursor, so walking on skips nothing.
            cursor = due.nextCursor
            for candidate in due.items where approved < limit {
                let done: Bool
                do {
                    done = try await autoApprove(candidate.id, in: store, tenant: tenant, at: now)
                } catch let error as TradesKitError where error.code != .storageUnavailable {
                    environment.logger.warning(
                        "A job due for auto-approval was left for the next run",
                        metadata: [
                            "tradeskit.tenant": "\(tenantID)", "tradeskit.job": "\(candidate.id)", "tradeskit.error_code": "\(error.code.rawValue)",
                        ])
                    continue
                }
                if done {
                    approved += 1
                    await environment.settleOwed(job: candidate.id, tenant: tenantID)
                }
            }
        } while approved < limit && cursor != nil
        return approved
    }

    /// Approves one job if it is still due; whether it did.
    private func autoApprove(_ id: JobID, in store: any TenantStorage, tenant: Tenant, at now: Date) async throws -> Bool {
        try await environment.run("job.auto_approve", tenant: tenant.id) { () -> Bool in
            guard let job = try await store.job(id), job.isDueForAutoApproval(at: now, after: tenant.settings.policies.autoApproveAfterSeconds)
            else { return false }
            var changes = ChangeSet()
            let closed = try await approve(job, store: store, changes: &changes, at: now)
            changes.update(closed)
            try environment.record(
                JobStatusChanged(
                    jobID: job.id, ownerID: job.ownerID, contractorID: job.contractorID, from: job.status,
                    to: closed.status, automatic: true), in: &changes, at: now)
            try await store.commit(changes)
            return true
        }
    }

    private func approve(_ job: Job, store: any TenantStorage, changes: inout ChangeSet, at now: Date) async throws -> Job {
        let closed = try job.approving(at: now)
        guard let escrow = try await store.escrow(job: job.id) else { throw TradesKitError.invalidTransition("The job has no payment") }
        try environment.instruct(.settle(refund: .zero(escrow.amount.currency)), escrow, at: now, into: &changes)
        return closed
    }

    /// Runs a decision that may instruct a payment, then settles it: the job answered is the decision's, which stands
    /// whether or not the processor answers now.
    ///
    /// A decision refused because an earlier movement of the job's money is still owed (``TradesKitError/paymentStillOwed``)
    /// tries that movement first, without waiting for its due time (someone is waiting on it), and is decided again once
    /// it has gone through. That attempt is outside the schedule: if it fails, the movement keeps its due time and its
    /// count of failures, so a party asking again and again neither delays the scheduled retries nor raises alerts.
    private func settling(_ principal: Principal, _ id: JobID, _ decide: () async throws -> Job) async throws -> Job {
        let job: Job
        do {
            job = try await decide()
        } catch let error as TradesKitError where error == .paymentStillOwed {
            guard await environment.settleOwed(job: id, tenant: principal.tenantID, postponing: false) else { throw error }
            job = try await decide()
        }
        await environment.settleOwed(job: job.id, tenant: principal.tenantID)
        return job
    }

    /// The shape every lifecycle step shares: load the visible job, check who may act, decide, record the job change
    /// and a status event, commit; retried from a fresh read on a concurrent change.
    private func transition(
        _ operation: String, _ principal: Principal, _ id: JobID,
        allowed: @Sendable (Job, User) -> Bool,
        decide: (Job, any TenantStorage, inout ChangeSet, Date) async throws -> Job
    ) async throws -> Job {
        try await environment.acting(operation, as: principal, onJob: id) { store, actor, job in
            guard allowed(job, actor) else { throw TradesKitError.forbidden("You may not do this to this job") }
            let now = environment.now()
            var changes = ChangeSet()
            changes.expectCaller(actor)
            let callerCheck = changes.changes
            let changed = try await decide(job, store, &changes, now)
            // A decision that changes nothing and records nothing beside the caller check (an edit repeating what the
            // job says) writes nothing.
            if changed == job, changes.changes == callerCheck { return job }
            let committed = changes.update(changed)
            if changed.status != job.status {
                try environment.record(
                    JobStatusChanged(
                        jobID: job.id, ownerID: job.ownerID, contractorID: changed.contractorID, from: job.status,
                        to: changed.status, automatic: false), in: &changes, at: now)
            }
            try await store.commit(changes)
            return committed
        }
    }
}
