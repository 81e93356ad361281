/// How many users, jobs and disputes a tenant has, by role and status: the admin dashboard's figures, counted by the
/// storage (one grouped query per table) rather than by reading every row.
public struct TenantCounts: Sendable, Hashable {
    /// Users by role; a role without users is absent.
    public var usersByRole: [Role: Int]
    /// Jobs by status; a status without jobs is absent.
    public var jobsByStatus: [JobStatus: Int]
    /// Disputes by status; a status without disputes is absent.
    public var disputesByStatus: [DisputeStatus: Int]

    /// Creates counts.
    public init(usersByRole: [Role: Int] = [:], jobsByStatus: [JobStatus: Int] = [:], disputesByStatus: [DisputeStatus: Int] = [:]) {
        self.usersByRole = usersByRole
        self.jobsByStatus = jobsByStatus
        self.disputesByStatus = disputesByStatus
    }

    /// Disputes not resolved yet (awaiting a response or under review).
    public var openDisputes: Int {
        disputesByStatus.filter { $0.key != .resolved }.values.reduce(0, +)
    }
}
