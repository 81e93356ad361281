public import Logging
public import PostgresNIO
public import TradesKit

/// The production storage on PostgreSQL 15+: row-level security per tenant, optimistic concurrency, versioned migrations.
///
/// The storage owns a `PostgresClient` (a connection pool) that must be running while the storage is used: add
/// ``client`` to your `ServiceGroup` (it is a swift-service-lifecycle `Service`), or call ``run()`` in a task you own
/// and cancel that task to close the pool.
///
/// ```swift
/// var configuration = try PostgresStorage.Configuration(url: "postgres://tradeskit_app:secret@127.0.0.1:5432/tradeskit")
/// configuration.migrationCredentials = .init(username: "tradeskit_owner", password: "owner-secret")
/// let storage = PostgresStorage(configuration: configuration, logger: logger)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await storage.run() }
///     try await storage.migrate()
///     // … use the storage …
///     group.cancelAll()
/// }
/// ```
///
/// Queries run as the app role, which is neither owner nor superuser; ``migrate()`` alone connects as the owner.
/// Every transaction begins with `set_config('app.tenant_id', …, true)` (transaction-local), so the storage keeps no
/// session state and works behind pgbouncer in transaction pooling mode.
public struct PostgresStorage: Storage, MigrationStatusReporting {
    /// The configuration the storage was created with.
    public let configuration: Configuration
    /// The connection pool of the app role; it must be running (see ``run()``).
    public let client: PostgresClient
    let database: Database
    let logger: Logger

    /// Creates the storage and its (not yet running) connection pool.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var backgroundLogger = logger
        if backgroundLogger.logLevel < .info { backgroundLogger.logLevel = .info }
        self.client = PostgresClient(configuration: configuration.clientConfiguration(), backgroundLogger: backgroundLogger)
        self.database = Database(
            client: client, statementTimeout: configuration.statementTimeout,
            transactionDeadline: configuration.transactionDeadline, leaseTimeout: configuration.leaseTimeout,
            maximumRetries: max(0, configuration.maximumRetries),
            logger: logger)
    }

    /// Runs the connection pool until the calling task is cancelled (or a graceful shutdown when run in a `ServiceGroup`).
    public func run() async {
        await client.run()
    }

    /// The handle for one tenant's data.
    public func tenant(_ id: TenantID) -> any TenantStorage {
        PostgresTenantStorage(tenantID: id, database: database)
    }

    /// Every tenant, ordered by creation (platform scope: the tenants table only).
    public func allTenants() async throws -> [Tenant] {
        try await platformTenants("SELECT \(unescaped: Columns.tenant) FROM tenants ORDER BY created_at, id")
    }

    /// The tenant with this slug, if any (platform scope).
    public func tenant(slug: String) async throws -> Tenant? {
        try await platformTenants("SELECT \(unescaped: Columns.tenant) FROM tenants WHERE slug = \(slug)").first
    }

    private func platformTenants(_ query: PostgresQuery) async throws -> [Tenant] {
        let logger = database.driverLogger
        return try await database.transaction(.platform) { connection in
            var tenants: [Tenant] = []
            for try await row in try await connection.query(query, logger: logger) {
                tenants.append(try Decode.tenant(row.makeRandomAccess()))
            }
            return tenants
        }
    }

    /// Brings the schema up to date as the owner role (``Configuration/migrationCredentials``). Idempotent.
    ///
    /// - Throws: ``PostgresMigrationError`` when an applied migration was edited, the database has migrations this
    ///   build does not know, the app group role is missing, no owner credentials are configured, or a statement fails.
    public func migrate() async throws {
        guard let owner = configuration.migrationCredentials else {
            throw PostgresMigrationError(.missingOwnerCredentials, message: "Configure migrationCredentials (the owner role) to migrate")
        }
        try await Self.withTemporaryClient(configuration.clientConfiguration(as: owner, maximumConnections: 1), logger: logger) { client in
            try await Migrator(client: client, logger: database.driverLogger).migrate()
        }
    }

    /// The migrations applied to the database, oldest first, as the owner role sees them.
    public func appliedMigrations() async throws -> [AppliedMigration] {
        guard let owner = configuration.migrationCredentials else {
            throw PostgresMigrationError(.missingOwnerCredentials, message: "Configure migrationCredentials (the owner role) to read migrations")
        }
        return try await Self.withTemporaryClient(configuration.clientConfiguration(as: owner, maximumConnections: 1), logger: logger) { client in
            try await Migrator(client: client, logger: database.driverLogger).applied()
        }
    }

    /// Whether this build knows migrations the database has not applied (the readiness check). Runs as the app role,
    /// through `tradeskit_schema_versions()`; a database that was never migrated has pending migrations.
    public func hasPendingMigrations() async throws -> Bool {
        let logger = database.driverLogger
        let applied: Set<Int>? = try await database.transaction(.platform) { connection in
            let exists = try await connection.query(
                "SELECT to_regprocedure(\(SchemaNames.versionsFunction + "()")) IS NOT NULL", logger: logger)
            for try await found in exists.decode(Bool.self) where !found { return nil }
            var versions: Set<Int> = []
            let rows = try await connection.query("SELECT v FROM \(unescaped: SchemaNames.versionsFunction)() AS v", logger: logger)
            for try await version in rows.decode(Int.self) { versions.insert(version) }
            return versions
        }
        // No function: the schema was never migrated.
        guard let applied else { return true }
        return !Set(Migration.all.map(\.version)).isSubset(of: applied)
    }

    /// Runs `body` with a client that runs only for its duration.
    static func withTemporaryClient<Result: Sendable>(
        _ configuration: PostgresClient.Configuration, logger: Logger,
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        var backgroundLogger = logger
        if backgroundLogger.logLevel < .info { backgroundLogger.logLevel = .info }
        let client = PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger)
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            // Give run() a moment to start; a lease before it merely waits, but postgres-nio logs a warning.
            try await Task.sleep(for: .milliseconds(20))
            return try await body(client)
        }
    }
}

/// A migration recorded in the `tradeskit_migrations` table.
public struct AppliedMigration: Sendable, Hashable {
    /// The migration's version.
    public let version: Int
    /// The migration's name.
    public let name: String
    /// The hex SHA-256 of its SQL, as applied.
    public let checksum: String
}

/// Why ``PostgresStorage/migrate()`` refused or failed. Its description never contains SQL or values.
public struct PostgresMigrationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The stable string form.
        public let rawValue: String
        /// Creates a code from its string form.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The string form.
        public var description: String { rawValue }

        /// An applied migration's SQL differs from the one in this build: it was edited after it was applied.
        public static let checksumMismatch = Code(rawValue: "checksum_mismatch")
        /// The database has a migration this build does not know (it is newer than the code).
        public static let unknownAppliedMigration = Code(rawValue: "unknown_applied_migration")
        /// The `tradeskit_app` group role does not exist; create the roles first.
        public static let appRoleMissing = Code(rawValue: "app_role_missing")
        /// No owner credentials were configured.
        public static let missingOwnerCredentials = Code(rawValue: "missing_owner_credentials")
        /// A migration statement failed; the migration was rolled back.
        public static let failed = Code(rawValue: "failed")
    }

    /// The code.
    public let code: Code
    /// The migration concerned, if any.
    public let version: Int?
    /// A short explanation.
    public let message: String

    init(_ code: Code, version: Int? = nil, message: String) {
        self.code = code
        self.version = version
        self.message = message
    }

    /// The code, the migration and the message; never SQL.
    public var description: String {
        "PostgresMigrationError(\(code)\(version.map { ", migration \($0)" } ?? "")): \(message)"
    }
}
