public import Foundation

/// The pure rules of the job state machine. Each returns the changed job or throws
/// ``TradesKitError/Code/invalidTransition``; none touches storage.
extension Job {
    /// Why a job ends up cancelled, which decides what happens to the money.
    public enum CancellationStage: Sendable, Hashable {
        /// Before award: nothing to refund.
        case beforeAward
        /// Awarded, money held: void the hold.
        case afterAward
        /// In progress, money captured: refund in full.
        case inProgress
    }

    /// Applies a content update while the job is open.
    public func updated(title: String?, description: String?, budget: BudgetRange?, at now: Date) throws(TradesKitError) -> Job {
        try require(.open, "A job can only be edited while it is open")
        var job = self
        if let title { job.title = title }
        if let description { job.description = description }
        if let budget { job.budget = budget }
        // An edit that changes nothing is no change: the job keeps its time and, once committed, its version.
        if job != self { job.updatedAt = now }
        return job
    }

    /// Awards the job to `bid`: open → awarded.
    public func accepting(_ bid: Bid, at now: Date) throws(TradesKitError) -> Job {
        try require(.open, "Bids can only be accepted on an open job")
        guard bid.jobID == id, bid.status == .submitted else {
            throw .invalidTransition("Only a live bid on this job can be accepted")
        }
        var job = self
        job.status = .awarded
        job.acceptedBidID = bid.id
        job.contractorID = bid.contractorID
        job.updatedAt = now
        return job
    }

    /// The contractor starts the work: awarded → in progress.
    public func starting(at now: Date) throws(TradesKitError) -> Job {
        try require(.awarded, "Only an awarded job can be started")
        return moved(to: .inProgress, at: now)
    }

    /// The contractor finishes the work: in progress → completed.
    public func completing(at now: Date) throws(TradesKitError) -> Job {
        try require(.inProgress, "Only a job in progress can be completed")
        var job = moved(to: .completed, at: now)
        job.completedAt = now
        return job
    }

    /// The owner approves, or the auto-approve window passed: completed → closed.
    public func approving(at now: Date) throws(TradesKitError) -> Job {
        try require(.completed, "Only a completed job can be approved")
        var job = moved(to: .closed, at: now)
        job.closedAt = now
        return job
    }

    /// Whether the auto-approve window has passed.
    public func isDueForAutoApproval(at now: Date, after seconds: Int64) -> Bool {
        guard status == .completed, let completedAt else { return false }
        return now.timeIntervalSince(completedAt) >= Double(seconds)
    }

    /// Cancels the job, telling the caller which money rule applies.
    public func cancelling(at now: Date) throws(TradesKitError) -> (job: Job, stage: CancellationStage) {
        let stage: CancellationStage
        switch status {
        case .open: stage = .beforeAward
        case .awarded: stage = .afterAward
        case .inProgress: stage = .inProgress
        default: throw .invalidTransition("A \(status.rawValue) job cannot be cancelled")
        }
        return (moved(to: .cancelled, at: now), stage)
    }

    /// A party opens a dispute: awarded, in progress or completed → disputed.
    public func disputing(at now: Date) throws(TradesKitError) -> Job {
        guard [.awarded, .inProgress, .completed].contains(status) else {
            throw .invalidTransition("A dispute can only be opened on an awarded, in-progress or completed job")
        }
        return moved(to: .disputed, at: now)
    }

    /// An admin resolves the dispute: disputed → closed.
    public func resolvingDispute(at now: Date) throws(TradesKitError) -> Job {
        try require(.disputed, "Only a disputed job can be resolved")
        var job = moved(to: .closed, at: now)
        job.closedAt = now
        return job
    }

    private func require(_ expected: JobStatus, _ message: String) throws(TradesKitError) {
        if status != expected { throw .invalidTransition(message) }
    }

    private func moved(to status: JobStatus, at now: Date) -> Job {
        var job = self
        job.status = status
        job.updatedAt = now
        return job
    }
}
