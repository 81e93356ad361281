/// Who is calling: a user of one tenant acting in one role. Every tenant-scoped service call takes one,
/// and core decides from it what the call may see and do.
public struct Principal: Sendable, Hashable {
    /// The tenant the caller belongs to; the call can only reach this tenant's data.
    public let tenantID: TenantID
    /// The calling user.
    public let userID: UserID
    /// The role the user acts in.
    public let role: Role
    /// The ``User/sessionGeneration`` the caller's credential was issued in. When set, a call is refused as
    /// ``TradesKitError/Code/unauthenticated`` once the user's generation has moved on (after a logout, a password reset,
    /// a reused refresh token or a suspension), so a credential that outlives its session stops working at once. `nil`
    /// leaves session checks to the embedder's own authentication.
    public let sessionGeneration: Int64?

    /// Creates a principal. Embedders construct it from their own authentication.
    public init(tenantID: TenantID, userID: UserID, role: Role, sessionGeneration: Int64? = nil) {
        self.tenantID = tenantID
        self.userID = userID
        self.role = role
        self.sessionGeneration = sessionGeneration
    }

    /// The principal of `user` in its role and current session generation, e.g. for a credential issued at sign-in.
    public init(tenantID: TenantID, user: User) {
        self.init(tenantID: tenantID, userID: user.id, role: user.role, sessionGeneration: user.sessionGeneration)
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
