public import Foundation

/// A piece of work a homeowner posts for contractors to bid on.
public struct Job: Sendable, Hashable, Codable, Identifiable {
    /// The job's id.
    public let id: JobID
    /// The homeowner who posted it.
    public let ownerID: UserID
    /// The trade category.
    public var categoryID: CategoryID
    /// A short title.
    public var title: String
    /// What needs doing.
    public var description: String
    /// Where the work is.
    public var location: GeoPoint
    /// The homeowner's budget range; both ends in the tenant's currency.
    public var budget: BudgetRange
    /// Where the job is in its life.
    public var status: JobStatus
    /// The accepted bid, once awarded.
    public var acceptedBidID: BidID?
    /// The contractor doing the work, once awarded.
    public var contractorID: UserID?
    /// When it was posted.
    public let createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// When the contractor marked it complete.
    public var completedAt: Date?
    /// When it was closed (approved, auto-approved or dispute resolved).
    public var closedAt: Date?
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a job value.
    public init(
        id: JobID, ownerID: UserID, categoryID: CategoryID, title: String, description: String, location: GeoPoint,
        budget: BudgetRange, status: JobStatus = .open, acceptedBidID: BidID? = nil, contractorID: UserID? = nil,
        createdAt: Date, updatedAt: Date? = nil, completedAt: Date? = nil, closedAt: Date? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.ownerID = ownerID
        self.categoryID = categoryID
        self.title = title
        self.description = description
        self.location = location
        self.budget = budget
        self.status = status
        self.acceptedBidID = acceptedBidID
        self.contractorID = contractorID
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.completedAt = completedAt
        self.closedAt = closedAt
        self.version = version
    }

    /// Whether `user` is the owner or the awarded contractor.
    public func isParty(_ user: UserID) -> Bool { user == ownerID || user == contractorID }

    /// The job as `principal` may see it: who won, and with which bid, is known only to the parties and admins,
    /// so a losing bidder learns nothing about the winning bid.
    public func redacted(for principal: Principal) -> Job {
        guard principal.role != .admin, !isParty(principal.userID) else { return self }
        var job = self
        job.acceptedBidID = nil
        job.contractorID = nil
        return job
    }
}

/// A budget range in one currency.
public struct BudgetRange: Sendable, Hashable, Codable {
    /// The lower end.
    public var min: Money
    /// The upper end.
    public var max: Money

    /// Creates a range.
    public init(min: Money, max: Money) {
        self.min = min
        self.max = max
    }

    func validate(currency: Currency, into validator: inout Validator) {
        validator.positiveAmount(min, currency: currency, field: "budget.min")
        validator.positiveAmount(max, currency: currency, field: "budget.max")
        if min.currency == max.currency, min.amount > max.amount {
            validator.fail("budget", "invalid_range", "min must not exceed max")
        }
    }
}

/// The life of a job (DESIGN.md §4).
public enum JobStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Taking bids.
    case open
    /// A bid was accepted; the money is held.
    case awarded
    /// The contractor started; the money is captured.
    case inProgress = "in_progress"
    /// The contractor finished; waiting for approval.
    case completed
    /// Under dispute, waiting for an admin.
    case disputed
    /// Done: approved, auto-approved or dispute resolved. Reviews open.
    case closed
    /// Cancelled.
    case cancelled
}
