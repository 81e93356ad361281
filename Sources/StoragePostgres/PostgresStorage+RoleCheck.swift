import PostgresNIO

extension PostgresStorage {
    /// Checks that the role the storage connects as is held by row-level security: not a superuser, without
    /// `BYPASSRLS`, and neither the owner of a tenant table nor a member of its owner (an owner may turn the policies
    /// off). Provisioning (``PostgresProvisioning/createRoles(as:app:owner:logger:)``) makes such a role; this catches a
    /// deployment that connects with the wrong one, where every tenant's rows would be one query away. Run it at start-up,
    /// before serving.
    ///
    /// - Throws: ``PostgresRoleError`` naming what is wrong; a `StorageError` when the database cannot be reached.
    public func verifyRowLevelSecurityApplies() async throws {
        let logger = database.driverLogger
        let tables = SchemaNames.tenantTables
        let (superuser, bypass, owns) = try await database.transaction(.platform) { connection -> (Bool, Bool, Bool) in
            let rows = try await connection.query(
                """
                SELECT r.rolsuper, r.rolbypassrls,
                       COALESCE((SELECT bool_or(pg_has_role(current_user, c.relowner, 'MEMBER')) FROM pg_class c
                                 WHERE c.oid IN (SELECT to_regclass(t) FROM unnest(\(tables)::text[]) AS t)), false)
                FROM pg_roles r WHERE r.rolname = current_user
                """, logger: logger)
            for try await row in rows.decode((Bool, Bool, Bool).self) { return row }
            return (false, false, false)
        }
        if superuser { throw PostgresRoleError(.superuser) }
        if bypass { throw PostgresRoleError(.bypassesRowLevelSecurity) }
        if owns { throw PostgresRoleError(.ownsTenantTables) }
    }
}

/// Why ``PostgresStorage/verifyRowLevelSecurityApplies()`` refused the storage's role. Its description names the
/// problem and the fix, never the role's name or credentials.
public struct PostgresRoleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The stable string form.
        public let rawValue: String
        /// Creates a code from its string form.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The string form.
        public var description: String { rawValue }

        /// The role is a superuser: no policy applies to it.
        public static let superuser = Code(rawValue: "superuser")
        /// The role has `BYPASSRLS`.
        public static let bypassesRowLevelSecurity = Code(rawValue: "bypasses_row_level_security")
        /// The role owns a tenant table, or is a member of its owner, and may turn its policies off.
        public static let ownsTenantTables = Code(rawValue: "owns_tenant_tables")
    }

    /// The code.
    public let code: Code

    init(_ code: Code) { self.code = code }

    /// A short explanation.
    public var message: String {
        let problem =
            switch code {
            case .superuser: "is a superuser"
            case .bypassesRowLevelSecurity: "has BYPASSRLS"
            default: "owns the tenant tables or is a member of their owner"
            }
        return """
            The storage's PostgreSQL role \(problem), so row-level security would not keep tenants apart. Connect as a \
            login role in \(SchemaNames.appGroupRole) (see PostgresProvisioning.createRoles); the owner role is for migrations only.
            """
    }

    /// The code and the message.
    public var description: String { "PostgresRoleError(\(code)): \(message)" }
}
