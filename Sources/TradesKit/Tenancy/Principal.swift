/// Who is calling: a user of one tenant acting in one role. Every tenant-scoped service call takes one,
/// and core decides from it what the call may see and do.
public struct Principal: Sendable, Hashable {
    /// The tenant the caller belongs to; the call can only reach this tenant's data.
    public let tenantID: TenantID
    /// The calling user.
    public let userID: UserID
    /// The role the user acts in.
    public let role: Role

    /// Creates a principal. Embedders construct it from their own authentication.
    public init(tenantID: TenantID, userID: UserID, role: Role) {
        self.tenantID = tenantID
        self.userID = userID
        self.role = role
    }

    var isAdmin: Bool { role == .admin }
}

/// The operator of the whole platform: the only caller that creates and lists tenants.
public struct PlatformOperator: Sendable, Hashable {
    /// A label for audit logs (not personal data), e.g. `cli` or an operator id.
    public let label: String

    /// Creates an operator identity.
    public init(label: String) { self.label = label }
}

/// The role a user has within a tenant.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    /// Posts jobs, accepts bids, approves work.
    case homeowner
    /// Bids on jobs and does the work.
    case contractor
    /// Moderates the tenant: resolves disputes, suspends users, vets contractors.
    case admin
}
