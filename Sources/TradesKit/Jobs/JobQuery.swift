/// A job search: filters, a page size and an opaque cursor. Results are newest first and stable under inserts.
public struct JobQuery: Sendable, Hashable {
    /// Only jobs in these states; `nil` for any state.
    public var statuses: Set<JobStatus>?
    /// Only jobs in this category.
    public var categoryID: CategoryID?
    /// Case-insensitive text that must appear in the title or description.
    public var text: String?
    /// Only jobs within this circle.
    public var near: GeoCircle?
    /// Only jobs posted by this user.
    public var ownerID: UserID?
    /// Only jobs awarded to this contractor.
    public var contractorID: UserID?
    /// Set by core for non-admins: only open jobs, or jobs this user owns or was awarded.
    public var visibleTo: UserID?
    /// Where the previous page ended.
    public var cursor: PageCursor?
    /// The page size, 1…100.
    public var limit: Int

    /// Creates a query.
    public init(
        statuses: Set<JobStatus>? = nil, categoryID: CategoryID? = nil, text: String? = nil, near: GeoCircle? = nil,
        ownerID: UserID? = nil, contractorID: UserID? = nil, visibleTo: UserID? = nil, cursor: PageCursor? = nil, limit: Int = 20
    ) {
        self.statuses = statuses
        self.categoryID = categoryID
        self.text = text
        self.near = near
        self.ownerID = ownerID
        self.contractorID = contractorID
        self.visibleTo = visibleTo
        self.cursor = cursor
        self.limit = limit
    }
}
