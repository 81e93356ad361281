public import Foundation

/// A disagreement about a job, opened by the homeowner or the contractor and resolved by an admin.
public struct Dispute: Sendable, Hashable, Codable, Identifiable {
    /// The dispute's id.
    public let id: DisputeID
    /// The job.
    public let jobID: JobID
    /// Who opened it.
    public let openedBy: UserID
    /// The other party, who may respond.
    public let respondent: UserID
    /// Why it was opened.
    public var reason: String
    /// The respondent's answer.
    public var response: String?
    /// Where it is.
    public var status: DisputeStatus
    /// The job's status before the dispute.
    public let jobStatusBefore: JobStatus
    /// The admin's decision, once resolved.
    public var resolution: DisputeResolution?
    /// When it was opened.
    public let createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a dispute value.
    public init(
        id: DisputeID, jobID: JobID, openedBy: UserID, respondent: UserID, reason: String, response: String? = nil,
        status: DisputeStatus = .awaitingResponse, jobStatusBefore: JobStatus, resolution: DisputeResolution? = nil,
        createdAt: Date, updatedAt: Date? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.jobID = jobID
        self.openedBy = openedBy
        self.respondent = respondent
        self.reason = reason
        self.response = response
        self.status = status
        self.jobStatusBefore = jobStatusBefore
        self.resolution = resolution
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.version = version
    }

    /// The respondent answers: awaiting response → under review.
    public func responding(_ text: String, at now: Date) throws(TradesKitError) -> Dispute {
        guard status == .awaitingResponse else { throw .invalidTransition("This dispute is not awaiting a response") }
        var dispute = self
        dispute.response = text
        dispute.status = .underReview
        dispute.updatedAt = now
        return dispute
    }

    /// An admin decides: awaiting response or under review → resolved.
    public func resolving(_ resolution: DisputeResolution, at now: Date) throws(TradesKitError) -> Dispute {
        guard status != .resolved else { throw .invalidTransition("This dispute is already resolved") }
        var dispute = self
        dispute.resolution = resolution
        dispute.status = .resolved
        dispute.updatedAt = now
        return dispute
    }
}

/// The life of a dispute.
public enum DisputeStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Opened; waiting for the other party.
    case awaitingResponse = "awaiting_response"
    /// Both sides heard; an admin decides.
    case underReview = "under_review"
    /// Decided.
    case resolved
}

/// What an admin decides about the money.
public enum DisputeOutcome: Sendable, Hashable, Codable {
    /// Pay the contractor in full (minus the fee).
    case release
    /// Refund this amount to the homeowner; pay the rest to the contractor.
    case partialRefund(Money)
    /// Refund everything to the homeowner.
    case fullRefund

    /// A stable name: `release`, `partial_refund`, `full_refund`.
    public var name: String {
        switch self {
        case .release: "release"
        case .partialRefund: "partial_refund"
        case .fullRefund: "full_refund"
        }
    }
}

/// An admin's decision.
public struct DisputeResolution: Sendable, Hashable, Codable {
    /// The money outcome.
    public var outcome: DisputeOutcome
    /// The admin's note to both parties.
    public var note: String
    /// The admin.
    public var resolvedBy: UserID
    /// When.
    public var resolvedAt: Date

    /// Creates a resolution.
    public init(outcome: DisputeOutcome, note: String, resolvedBy: UserID, resolvedAt: Date) {
        self.outcome = outcome
        self.note = note
        self.resolvedBy = resolvedBy
        self.resolvedAt = resolvedAt
    }
}
