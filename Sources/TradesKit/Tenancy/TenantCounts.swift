/// How many users, jobs and disputes a tenant has, by role and status: the admin dashboard's figures, counted by the
/// storage (one grouped query per table) rather than by reading every row.
public struct TenantCounts: Sendable, Hashable {
    /// Users by role; a role without users is absent.
    public var usersByRole: [Role: Int]
    /// Jobs by status; a status without jobs is absent.
    public var jobsByStatus: [JobStatus: Int]
    /// Disputes by status; a status without disputes is absent.
    public var disputesByStatus: [DisputeStatus: Int]
    /// Escrows whose ``Escrow/instruction`` the processor still owes (see ``SettlementInstruction``).
    public var owedSettlements: Int
    /// Of ``owedSettlements``, those whose last attempt failed (``Escrow/settlementFailures`` above 0): what an operator
    /// looks at when the processor keeps refusing a payment.
    public var failingSettlements: Int

    /// Creates counts.
    public init(
        usersByRole: [Role: Int] = [:], jobsByStatus: [JobStatus: Int] = [:], disputesByStatus: [DisputeStatus: Int] = [:],
        owedSettlements: Int = 0, failingSettlements: Int = 0
    ) {
        self.usersByRole = usersByRole
        self.jobsByStatus = jobsByStatus
        self.disputesByStatus = disputesByStatus
        self.owedSettlements = owedSettlements
        self.failingSettlements = failingSettlements
    }

    /// Disputes not resolved yet (awaiting a response or under review).
    public var openDisputes: Int {
        disputesByStatus.filter { $0.key != .resolved }.values.reduce(0, +)
    }
}
