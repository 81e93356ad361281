import Foundation
import PostgresNIO
@testable import StoragePostgres
import Testing
import TradesKit

/// Row-level security and the schema rules, attacked with raw SQL over the app role's own connection.
@Suite("Postgres security")
struct PostgresSecurityTests {
    /// Runs `body` in a transaction with `app.tenant_id` set to `tenant` (or nothing), and always rolls back.
    static func inTransaction(_ connection: PostgresConnection, tenant: TenantID?, _ body: (PostgresConnection) async throws -> Void) async throws {
        try await connection.run("BEGIN")
        do {
            if let tenant { try await connection.run("SELECT set_config('app.tenant_id', \(tenant.uuidString), true)") }
            try await body(connection)
            try await connection.run("ROLLBACK")
        } catch {
            try await connection.run("ROLLBACK")
            throw error
        }
    }

    /// The SQLSTATE a statement fails with (nil when it succeeds), in a transaction of its own.
    static func failure(_ connection: PostgresConnection, tenant: TenantID?, _ query: PostgresQuery) async throws -> String? {
        var state: String?
        try await inTransaction(connection, tenant: tenant) { connection in
            do {
                _ = try await connection.run(query).collect()
            } catch let error as PSQLError {
                state = error.serverInfo?[.sqlState] ?? "client:\(error.code)"
                throw error
            }
        }
        return state
    }

    static func tryFailure(_ connection: PostgresConnection, tenant: TenantID?, _ query: PostgresQuery) async throws -> String? {
        do {
            return try await failure(connection, tenant: tenant, query)
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "client:\(error.code)"
        }
    }

    static func count(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> Int {
        try await connection.run(query).collect().count
    }

    static func expectCount(
        _ connection: PostgresConnection, _ query: PostgresQuery, _ expected: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let actual = try await count(connection, query)
        #expect(actual == expected, sourceLocation: sourceLocation)
    }

    static func expectFailure(
        _ connection: PostgresConnection, tenant: TenantID?, _ query: PostgresQuery, _ expected: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let actual = try await tryFailure(connection, tenant: tenant, query)
        #expect(actual == expected, sourceLocation: sourceLocation)
    }

    @Test("With tenant A set, the app role cannot read, update or delete tenant B's rows")
    func crossTenantAttack() async throws {
        let storage = try await PostgresHarness.storage()
        let a = try Fixture()
        let b = try Fixture()
        _ = try await a.insert(into: storage)
        _ = try await b.insert(into: storage)

        try await PostgresHarness.withRawClient(.app) { client in
            try await client.withConnection { connection in
                try await Self.inTransaction(connection, tenant: a.tenant.id) { connection in
                    try await Self.expectCount(connection, "SELECT 1 FROM jobs WHERE id = \(b.job.id.rawValue)", 0)
                    try await Self.expectCount(connection, "SELECT 1 FROM jobs WHERE tenant_id = \(b.tenant.id.rawValue)", 0)
                    try await Self.expectCount(connection, "SELECT 1 FROM users WHERE tenant_id <> \(a.tenant.id.rawValue)", 0)
                    try await Self.expectCount(connection, "SELECT 1 FROM users", 2)
                    try await Self.expectCount(connection, "SELECT 1 FROM tenants", 1)
                    try await Self.expectCount(connection, "UPDATE jobs SET title = 'pwned' WHERE id = \(b.job.id.rawValue) RETURNING 1", 0)
                    try await Self.expectCount(connection, "UPDATE jobs SET title = 'pwned' WHERE true RETURNING 1", 1)
                    try await Self.expectCount(
                        connection, "UPDATE tenants SET display_name = 'pwned' WHERE id = \(b.tenant.id.rawValue) RETURNING 1", 0)
                    // Moving a row of A into B is refused by WITH CHECK.
                }
                try await Self.expectFailure(
                    connection, tenant: a.tenant.id,
                    "UPDATE jobs SET tenant_id = \(b.tenant.id.rawValue) WHERE id = \(a.job.id.rawValue)", "42501")
                try await Self.expectFailure(
                    connection, tenant: a.tenant.id,
                    """
                    INSERT INTO categories (tenant_id, id, slug, name) VALUES (\(b.tenant.id.rawValue), \(UUID()), 'evil', 'Evil')
                    """, "42501")
                // No DELETE is granted on any table.
                try await Self.expectFailure(connection, tenant: a.tenant.id, "DELETE FROM jobs WHERE id = \(b.job.id.rawValue)", "42501")
                try await Self.expectFailure(connection, tenant: a.tenant.id, "DELETE FROM jobs", "42501")
                try await Self.expectFailure(connection, tenant: a.tenant.id, "TRUNCATE jobs", "42501")
                try await Self.expectFailure(connection, tenant: a.tenant.id, "UPDATE ledger_entries SET amount = 0", "42501")
            }
        }
        // B is untouched.
        #expect(try await storage.tenant(b.tenant.id).job(b.job.id) == b.job)
        #expect(try await storage.tenant(b.tenant.id).tenantRecord() == b.tenant)
    }

    @Test("With no tenant set, the app role sees zero rows, every insert fails, and an update reaches no row")
    func noTenantSet() async throws {
        let storage = try await PostgresHarness.storage()
        let a = try Fixture()
        _ = try await a.insert(into: storage)
        try await PostgresHarness.withRawClient(.app) { client in
            try await client.withConnection { connection in
                for table in SchemaNames.tenantTables + ["tenants"] {
                    try await Self.inTransaction(connection, tenant: nil) { connection in
                        try await Self.expectCount(connection, PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table)"), 0)
                    }
                }
                // An empty setting is the same as none.
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('app.tenant_id', '', true)")
                try await Self.expectCount(connection, "SELECT 1 FROM jobs", 0)
                try await connection.run("ROLLBACK")
                try await Self.expectFailure(
                    connection, tenant: nil,
                    """
                    INSERT INTO categories (tenant_id, id, slug, name) VALUES (\(a.tenant.id.rawValue), \(UUID()), 'x', 'X')
                    """, "42501")
                try await Self.expectFailure(
                    connection, tenant: nil,
                    """
                    INSERT INTO tenants (id, slug, display_name, settings, created_at) VALUES (\(UUID()), 'evil', 'Evil', '{}', 0)
                    """, "42501")
                try await Self.expectFailure(connection, tenant: nil, "UPDATE jobs SET title = 'x' RETURNING 1", nil)
                try await Self.inTransaction(connection, tenant: nil) { connection in
                    try await Self.expectCount(connection, "UPDATE jobs SET title = 'x' RETURNING 1", 0)
                }
            }
        }
        #expect(try await storage.tenant(a.tenant.id).job(a.job.id) == a.job)
    }

    @Test("The app role cannot disable RLS, alter tables, or become another role")
    func privilegeEscalation() async throws {
        let environment = try await PostgresHarness.environment()
        let ownerName = environment.owner.username
        try await PostgresHarness.withRawClient(.app) { client in
            try await client.withConnection { connection in
                let rows = try await connection.run(
                    """
                    SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user
                    """
                ).collect()
                for try await (superuser, bypass, createRole, createDB) in try await connection.run(
                    """
                    SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user
                    """
                ).decode((Bool, Bool, Bool, Bool).self) {
                    #expect(!superuser && !bypass && !createRole && !createDB)
                }
                #expect(rows.count == 1)
                try await Self.expectCount(
                    connection, "SELECT 1 FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)", 0)
                for statement in [
                    "ALTER TABLE jobs DISABLE ROW LEVEL SECURITY",
                    "ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY",
                    "ALTER TABLE jobs ADD COLUMN evil integer",
                    "DROP POLICY tenant_isolation ON jobs",
                    "CREATE POLICY evil ON jobs USING (true)",
                    "DROP TABLE jobs",
                    "CREATE TABLE evil (id integer)",
                    "SELECT * FROM tradeskit_migrations",
                    "SET ROLE \(ownerName)",
                    "SET SESSION AUTHORIZATION \(ownerName)",
                    "SET ROLE postgres",
                ] {
                    let state = try await Self.tryFailure(connection, tenant: nil, PostgresQuery(unsafeSQL: statement))
                    // 22023: the role does not exist (a server whose superuser has another name).
                    #expect(state == "42501" || (statement == "SET ROLE postgres" && state == "22023"), "\(statement) → \(state ?? "succeeded")")
                }
                // Turning row security off does not bypass it: queries that RLS would filter fail instead.
                try await connection.run("BEGIN")
                try await connection.run("SET LOCAL row_security = off")
                do {
                    _ = try await connection.run("SELECT 1 FROM jobs").collect()
                    Issue.record("row_security = off let the app role read a table with RLS")
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.sqlState] == "42501")
                }
                try await connection.run("ROLLBACK")
            }
        }
    }

    @Test("The storage refuses a role that row-level security would not hold: superuser, BYPASSRLS, table owner")
    func roleCheck() async throws {
        let environment = try await PostgresHarness.environment()
        func check(_ configuration: PostgresStorage.Configuration, database: String? = nil) async throws -> PostgresRoleError.Code? {
            var configuration = configuration
            configuration.database = database ?? environment.storage.database
            configuration.migrationCredentials = nil
            let storage = PostgresStorage(configuration: configuration, logger: PostgresHarness.logger)
            let username = configuration.username
            return try await PostgresHarness.running(storage) { storage in
                do {
                    try await storage.verifyRowLevelSecurityApplies()
                    return nil
                } catch let error as PostgresRoleError {
                    #expect(!error.description.contains(username), "the role's name is not told")
                    return error.code
                }
            }
        }
        func isSuperuser(_ configuration: PostgresStorage.Configuration) async throws -> Bool {
            try await PostgresStorage.withTemporaryClient(
                configuration.clientConfiguration(as: nil, maximumConnections: 1), logger: PostgresHarness.logger
            ) { client in
                try await client.withConnection { connection in
                    var found = false
                    for try await flag in try await connection.query(
                        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", logger: PostgresHarness.logger
                    )
                    .decode(Bool.self) { found = flag }
                    return found
                }
            }
        }
        // The app role passes; the owner owns the tables. The throwaway cluster's owner is nothing more; the role a
        // TRADESKIT_POSTGRES_URL names may be a superuser as well.
        let sharedServer = (ProcessInfo.processInfo.environment["TRADESKIT_POSTGRES_URL"] ?? "").isEmpty == false
        #expect(try await check(environment.storage) == nil)
        let owner = try await check(environment.owner)
        if sharedServer {
            #expect(owner == .ownsTenantTables || owner == .superuser, "\(String(describing: owner))")
        } else {
            #expect(owner == .ownsTenantTables, "\(String(describing: owner))")
        }

        // A superuser, and a role with BYPASSRLS (in the app group when there is one): only a superuser can make either.
        // The throwaway cluster's superuser is the harness's admin; when TRADESKIT_POSTGRES_URL names a role that is not
        // a superuser, a throwaway cluster of this test's own has one. Either way, both cases run.
        let onHarness = try await isSuperuser(environment.admin)
        let admin = onHarness ? environment.admin : try await PostgresHarness.startCluster().superuser
        let database = onHarness ? environment.storage.database : admin.database
        #expect(try await isSuperuser(admin))
        #expect(try await check(admin, database: database) == .superuser)
        let name = "tk_bypass_" + PostgresHarness.randomSecret().prefix(12)
        let password = PostgresHarness.randomSecret()
        let group = onHarness ? " IN ROLE \(SchemaNames.appGroupRole)" : ""
        _ = try await PostgresStorage.withTemporaryClient(admin.clientConfiguration(as: nil, maximumConnections: 1), logger: PostgresHarness.logger) {
            client in
            try await client.query(
                PostgresQuery(unsafeSQL: "CREATE ROLE \(name) LOGIN BYPASSRLS PASSWORD '\(password)'\(group)"), logger: PostgresHarness.logger)
        }
        var bypass = admin
        bypass.username = String(name)
        bypass.password = password
        let code = try await check(bypass, database: database)
        _ = try await PostgresStorage.withTemporaryClient(admin.clientConfiguration(as: nil, maximumConnections: 1), logger: PostgresHarness.logger) {
            client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP ROLE \(name)"), logger: PostgresHarness.logger)
        }
        #expect(code == .bypassesRowLevelSecurity)
    }

    @Test("Catalog: tenant_id leads every primary key, unique constraint, foreign key and index of tenant tables")
    func citusReadyCatalog() async throws {
        try await PostgresHarness.withRawClient(.owner) { client in
            var violations: [String] = []
            let constraints = try await client.query(
                """
                SELECT c.relname, con.conname, con.contype::text, a.attname::text, fc.relname, fa.attname::text
                FROM pg_constraint con
                JOIN pg_class c ON c.oid = con.conrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
                LEFT JOIN pg_class fc ON fc.oid = con.confrelid
                LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[1]
                WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'x')
                  AND c.relname NOT IN ('tenants', 'tradeskit_migrations')
                """)
            var constraintCount = 0
            for try await (table, name, type, first, referenced, referencedFirst) in constraints.decode(
                (String, String, String, String?, String?, String?).self)
            {
                constraintCount += 1
                if first != "tenant_id" { violations.append("\(table).\(name) (\(type)) starts with \(first ?? "an expression")") }
                if type == "f", !(referencedFirst == "tenant_id" || (referenced == "tenants" && referencedFirst == "id")) {
                    violations.append("\(table).\(name) references \(referenced ?? "?").\(referencedFirst ?? "?") first")
                }
            }
            let indexes = try await client.query(
                """
                SELECT c.relname, i.relname, a.attname::text
                FROM pg_index x
                JOIN pg_class c ON c.oid = x.indrelid
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT IN ('tenants', 'tradeskit_migrations')
                """)
            var indexCount = 0
            for try await (table, index, first) in indexes.decode((String, String, String?).self) {
                indexCount += 1
                if first != "tenant_id" { violations.append("index \(table).\(index) starts with \(first ?? "an expression")") }
            }
            let tables = try await client.query(
                """
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT IN ('tenants', 'tradeskit_migrations')
                  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
                """)
            for try await (table) in tables.decode(String.self) { violations.append("table \(table) has no tenant_id") }
            #expect(violations.isEmpty, "\(violations)")
            #expect(constraintCount > 20)
            #expect(indexCount > 20)
        }
    }

    @Test("Every table has RLS enabled and forced, a policy, and the app role's grants are minimal")
    func rowLevelSecurityEverywhere() async throws {
        try await PostgresHarness.withRawClient(.owner) { client in
            var problems: [String] = []
            var tables: [String] = []
            for try await (table, enabled, forced, policies) in try await client.query(
                """
                SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'tradeskit_migrations'
                """
            ).decode((String, Bool, Bool, Int64).self) {
                tables.append(table)
                if !enabled || !forced || policies == 0 { problems.append("\(table): rls \(enabled), forced \(forced), policies \(policies)") }
                // Turning two-factor authentication off deletes the enrolment, and the purge deletes spent identity records:
                // the only DELETEs the app is granted.
                let deletable: Set = ["two_factor_enrollments", "refresh_tokens", "one_time_tokens", "login_throttles"]
                for privilege in ["DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"] where !(privilege == "DELETE" && deletable.contains(table)) {
                    for try await (granted) in try await client.query(
                        """
                        SELECT has_table_privilege('tradeskit_app', \(table), \(privilege))
                        """
                    ).decode(Bool.self) where granted {
                        problems.append("\(table): app may \(privilege)")
                    }
                }
            }
            for table in ["ledger_entries", "messages", "event_recipients"] {
                for try await (granted) in try await client.query("SELECT has_table_privilege('tradeskit_app', \(table), 'UPDATE')").decode(Bool.self)
                where granted {
                    problems.append("\(table): app may UPDATE")
                }
            }
            for try await (granted) in try await client.query(
                """
                SELECT has_table_privilege('tradeskit_app', 'tradeskit_migrations', 'SELECT')
                """
            ).decode(Bool.self) where granted {
                problems.append("tradeskit_migrations: app may SELECT")
            }
            #expect(Set(tables) == Set(SchemaNames.tenantTables + ["tenants"]))
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test("The app role deletes identity records of the current tenant only")
    func twoFactorDeleteStaysInTenant() async throws {
        let storage = try await PostgresHarness.storage()
        let a = try Fixture()
        let b = try Fixture()
        let storeA = try await a.insert(into: storage)
        let storeB = try await b.insert(into: storage)
        for (store, fixture) in [(storeA, a), (storeB, b)] {
            var changes = ChangeSet()
            changes.append(
                .insertTwoFactor(TwoFactorEnrollment(userID: fixture.homeowner.id, sealedSecret: Data([1, 2, 3]), createdAt: Fixture.now)))
            changes.append(
                .insertRefreshToken(
                    RefreshToken(
                        id: RefreshTokenID(UUID()), familyID: RefreshTokenFamilyID(UUID()),
                        userID: fixture.homeowner.id, tokenHash: OpaqueToken.hash(OpaqueToken.generate()),
                        issuedAt: Fixture.now, expiresAt: Fixture.at(1_000))))
            try await store.commit(changes)
        }
        try await PostgresHarness.withRawClient(.app) { client in
            try await client.withConnection { connection in
                try await Self.inTransaction(connection, tenant: a.tenant.id) { connection in
                    try await Self.expectCount(connection, "SELECT 1 FROM two_factor_enrollments", 1)
                    try await Self.expectCount(connection, "SELECT 1 FROM refresh_tokens", 1)
                    try await Self.expectCount(
                        connection, "DELETE FROM two_factor_enrollments WHERE user_id = \(b.homeowner.id.rawValue) RETURNING 1", 0)
                    try await Self.expectCount(connection, "DELETE FROM two_factor_enrollments RETURNING 1", 1)
                    try await Self.expectCount(
                        connection, "DELETE FROM refresh_tokens WHERE user_id = \(b.homeowner.id.rawValue) RETURNING 1", 0)
                    try await Self.expectCount(connection, "DELETE FROM refresh_tokens RETURNING 1", 1)
                }
                // Without a tenant, nothing is deleted.
                try await Self.inTransaction(connection, tenant: nil) { connection in
                    for table in ["two_factor_enrollments", "refresh_tokens", "one_time_tokens", "login_throttles"] {
                        try await Self.expectCount(connection, PostgresQuery(unsafeSQL: "DELETE FROM \(table) RETURNING 1"), 0)
                    }
                }
                // A stored token must be a hex SHA-256, never a plain token.
                try await Self.expectFailure(
                    connection, tenant: a.tenant.id,
                    """
                    INSERT INTO refresh_tokens (tenant_id, id, family_id, user_id, token_hash, issued_at, expires_at)
                    VALUES (\(a.tenant.id.rawValue), \(UUID()), \(UUID()), \(a.homeowner.id.rawValue), 'plain-token', 0, 1)
                    """, "23514")
            }
        }
        // The deletes were rolled back; tenant B's rows were never reachable.
        #expect(try await storeA.twoFactor(user: a.homeowner.id) != nil)
        #expect(try await storeB.twoFactor(user: b.homeowner.id) != nil)
        #expect(try await storeB.purgeIdentityRecords(tokensExpiredBefore: Fixture.at(0), throttlesIdleSince: Fixture.at(0)) == 0)
    }
}
