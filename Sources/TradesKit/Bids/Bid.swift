public import Foundation

/// A contractor's sealed offer for a job. Only the job's owner, admins and the bidder ever see it.
public struct Bid: Sendable, Hashable, Codable, Identifiable {
    /// The bid's id.
    public let id: BidID
    /// The job bid on.
    public let jobID: JobID
    /// The bidder.
    public let contractorID: UserID
    /// The price, in the job's currency.
    public var amount: Money
    /// The contractor's note to the homeowner.
    public var message: String
    /// Where the bid is in its life.
    public var status: BidStatus
    /// When it was submitted.
    public let createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a bid value.
    public init(
        id: BidID, jobID: JobID, contractorID: UserID, amount: Money, message: String, status: BidStatus = .submitted,
        createdAt: Date, updatedAt: Date? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.jobID = jobID
        self.contractorID = contractorID
        self.amount = amount
        self.message = message
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.version = version
    }

    /// Whether the bid still counts: submitted or accepted. One live bid per contractor per job.
    public var isLive: Bool { status.isLive }

    /// The contractor withdraws: submitted → withdrawn.
    public func withdrawing(at now: Date) throws(TradesKitError) -> Bid {
        try moving(to: .withdrawn, at: now, "Only a submitted bid can be withdrawn")
    }

    /// Accepted together with its job: submitted → accepted.
    public func accepting(at now: Date) throws(TradesKitError) -> Bid {
        try moving(to: .accepted, at: now, "Only a submitted bid can be accepted")
    }

    /// Declined because another bid won or the job was cancelled: submitted → declined.
    public func declining(at now: Date) throws(TradesKitError) -> Bid {
        try moving(to: .declined, at: now, "Only a submitted bid can be declined")
    }

    private func moving(to status: BidStatus, at now: Date, _ message: String) throws(TradesKitError) -> Bid {
        guard self.status == .submitted else { throw .invalidTransition(message) }
        var bid = self
        bid.status = status
        bid.updatedAt = now
        return bid
    }
}

/// The life of a bid.
public enum BidStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for the homeowner.
    case submitted
    /// Withdrawn by the contractor.
    case withdrawn
    /// Accepted: this contractor got the job.
    case accepted
    /// Declined, automatically when another bid was accepted or the job cancelled.
    case declined

    /// Submitted or accepted.
    public var isLive: Bool { self == .submitted || self == .accepted }
}

/// Who is looking at bids. Storage applies it inside the query, so no caller can fetch bids and filter later.
///
/// The rule (DESIGN.md §3): the job's owner and admins see every bid on a job; a contractor sees only their own;
/// anyone else sees none.
public enum BidViewer: Sendable, Hashable {
    /// An admin of the tenant: every bid.
    case admin
    /// A user: bids on jobs they own, and their own bids.
    case user(UserID)

    /// The viewer for a principal.
    public init(_ principal: Principal) {
        self = principal.role == .admin ? .admin : .user(principal.userID)
    }

    /// The same rule as a predicate, for in-memory storages and tests.
    public func canSee(_ bid: Bid, jobOwner: UserID) -> Bool {
        switch self {
        case .admin: true
        case .user(let user): user == jobOwner || user == bid.contractorID
        }
    }
}
