public import Logging
import PostgresNIO

/// Creates the roles and the database the storage expects, as an administrator (a superuser, or a role with CREATEROLE
/// and CREATEDB). Used by the test harness and by operators setting up a new server; not needed at run time.
///
/// The roles:
/// - `tradeskit_app`, a NOLOGIN group role holding the app's privileges (the migrations grant to it);
/// - the app login role, a member of `tradeskit_app`: NOSUPERUSER, NOBYPASSRLS, NOCREATEDB, NOCREATEROLE, owner of nothing;
/// - the owner login role, which owns the database and its tables and runs the migrations: NOSUPERUSER, NOBYPASSRLS
///   (tables use FORCE ROW LEVEL SECURITY, so even the owner sees tenant rows only with `app.tenant_id` set).
public enum PostgresProvisioning {
    /// Creates the `tradeskit_app` group role, the app login role and, when given, the owner login role; existing roles get
    /// the given password and attributes. Role names must be plain lower-case identifiers.
    public static func createRoles(
        as admin: PostgresStorage.Configuration, app: PostgresStorage.Configuration.Credentials,
        owner: PostgresStorage.Configuration.Credentials?, logger: Logger
    ) async throws {
        for name in [app.username] + (owner.map { [$0.username] } ?? []) { try requirePlainIdentifier(name) }
        try await PostgresStorage.withTemporaryClient(admin.clientConfiguration(as: nil, maximumConnections: 1), logger: logger) { client in
            do {
                let restricted = "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"
                if try await !roleExists(SchemaNames.appGroupRole, client) {
                    try await execute("SELECT format('CREATE ROLE %I NOLOGIN \(unescaped: restricted)', \(SchemaNames.appGroupRole))", client)
                }
                if let owner {
                    let verb = try await roleExists(owner.username, client) ? "ALTER" : "CREATE"
                    try await execute(
                        """
                        SELECT format('\(unescaped: verb) ROLE %I LOGIN PASSWORD %L \(unescaped: restricted)', \(owner.username), \(owner.password))
                        """, client)
                }
                let verb = try await roleExists(app.username, client) ? "ALTER" : "CREATE"
                try await execute(
                    """
                    SELECT format('\(unescaped: verb) ROLE %I LOGIN PASSWORD %L INHERIT \(unescaped: restricted)', \(app.username), \(app.password))
                    """, client)
                try await execute("SELECT format('GRANT %I TO %I', \(SchemaNames.appGroupRole), \(app.username))", client)
            } catch {
                throw Database.map(error)
            }
        }
    }

    /// Creates a database owned by `owner` unless it exists, and lets only the owner and `tradeskit_app` connect to it.
    public static func createDatabase(as admin: PostgresStorage.Configuration, name: String, owner: String, logger: Logger) async throws {
        try requirePlainIdentifier(name)
        try requirePlainIdentifier(owner)
        try await PostgresStorage.withTemporaryClient(admin.clientConfiguration(as: nil, maximumConnections: 1), logger: logger) { client in
            do {
                let exists = try await !client.query("SELECT 1 FROM pg_database WHERE datname = \(name)").collect().isEmpty
                if !exists {
                    try await execute("SELECT format('CREATE DATABASE %I OWNER %I', \(name), \(owner))", client)
                }
                try await execute("SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', \(name))", client)
                try await execute("SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I', \(name), \(owner), \(SchemaNames.appGroupRole))", client)
            } catch {
                throw Database.map(error)
            }
        }
    }

    /// Drops a database if it exists, closing its sessions first (`WITH (FORCE)`); for scratch databases of tests and
    /// benchmarks.
    public static func dropDatabase(as admin: PostgresStorage.Configuration, name: String, logger: Logger) async throws {
        try requirePlainIdentifier(name)
        try await PostgresStorage.withTemporaryClient(admin.clientConfiguration(as: nil, maximumConnections: 1), logger: logger) { client in
            do {
                try await execute("SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', \(name))", client)
            } catch {
                throw Database.map(error)
            }
        }
    }

    private static func roleExists(_ name: String, _ client: PostgresClient) async throws -> Bool {
        try await !client.query("SELECT 1 FROM pg_roles WHERE rolname = \(name)").collect().isEmpty
    }

    /// Builds a utility statement server-side with `format()` (`%I` quotes identifiers, `%L` literals, such as passwords,
    /// which utility statements cannot take as parameters), then runs it. The statement text is never logged.
    private static func execute(_ builder: PostgresQuery, _ client: PostgresClient) async throws {
        var statement: String?
        for try await (text) in try await client.query(builder).decode(String.self) { statement = text }
        guard let statement else { throw PostgresConfigurationError("A provisioning statement could not be built") }
        try await client.query(PostgresQuery(unsafeSQL: statement))
    }

    private static func requirePlainIdentifier(_ name: String) throws(PostgresConfigurationError) {
        let valid =
            (1...63).contains(name.count) && name.first.map { $0 == "_" || ("a"..."z").contains($0) } == true
            && name.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        if !valid { throw PostgresConfigurationError("Role and database names must be lower-case letters, digits and underscores") }
    }
}
