import Logging
import PostgresNIO

/// Applies ``Migration/all`` as the owner role, in one transaction under an advisory lock, so concurrent server starts
/// migrate once and a failed migration leaves the schema as it was.
struct Migrator {
    let client: PostgresClient
    let logger: Logger
    /// The migrations this build knows; tests pass edited copies.
    var migrations: [Migration] = Migration.all

    /// An arbitrary constant naming the migration lock (`pg_advisory_xact_lock`).
    static let lockKey: Int64 = 0x7472_6164_6573_6b74  // "tradeskt"

    func migrate() async throws {
        do {
            try await client.withConnection { connection in
                try await Database.transaction(on: connection, logger: logger) { connection in
                    try await connection.query("SELECT set_config('statement_timeout', '0', true)", logger: logger)
                    try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                    try await createTable(connection)
                    try await requireAppRole(connection)
                    try await createVersionsFunction(connection)
                    let applied = try await applied(connection)
                    let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
                    for record in applied where known[record.version] == nil {
                        throw PostgresMigrationError(
                            .unknownAppliedMigration, version: record.version,
                            message: "The database has migration \(record.version) (\(record.name)), which this build does not know")
                    }
                    let appliedByVersion = Dictionary(uniqueKeysWithValues: applied.map { ($0.version, $0) })
                    for migration in migrations {
                        let checksum = try await self.checksum(of: migration, connection)
                        if let record = appliedByVersion[migration.version] {
                            guard record.checksum == checksum else {
                                throw PostgresMigrationError(
                                    .checksumMismatch, version: migration.version,
                                    message: "Applied migration \(migration.version) (\(migration.name)) was edited after it was applied; "
                                        + "restore its original text and add a new migration instead")
                            }
                            continue
                        }
                        for statement in migration.statements {
                            do {
                                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                            } catch {
                                let state = Database.sqlState(of: error).map { " (SQLSTATE \($0))" } ?? ""
                                throw PostgresMigrationError(
                                    .failed, version: migration.version,
                                    message: "Migration \(migration.version) (\(migration.name)) failed\(state) and was rolled back")
                            }
                        }
                        try await connection.query(
                            """
                            INSERT INTO tradeskit_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(checksum))
                            """, logger: logger)
                        logger.info("Applied a migration", metadata: ["tradeskit.migration": "\(migration.version)_\(migration.name)"])
                    }
                }
            }
        } catch {
            let underlying = Database.unwrap(error)
            if underlying is PostgresMigrationError { throw underlying }
            throw Database.map(underlying)
        }
    }

    func applied() async throws -> [AppliedMigration] {
        do {
            return try await client.withConnection { connection in
                try await Database.transaction(on: connection, logger: logger) { connection in
                    try await createTable(connection)
                    return try await applied(connection)
                }
            }
        } catch {
            throw Database.map(Database.unwrap(error))
        }
    }

    private func createTable(_ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS tradeskit_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
    }

    /// `tradeskit_schema_versions()`: the applied versions, for the app role's readiness check, which may not read the
    /// migrations table itself. SECURITY DEFINER (runs as the owner) with a fixed search path, so a caller cannot swap the
    /// table it reads; EXECUTE for `tradeskit_app` only. Recreated on every migrate, outside the versioned migrations.
    private func createVersionsFunction(_ connection: PostgresConnection) async throws {
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    CREATE OR REPLACE FUNCTION \(SchemaNames.versionsFunction)() RETURNS SETOF integer
                    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
                    AS $$ SELECT version FROM public.\(SchemaNames.migrationsTable) ORDER BY version $$
                    """), logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "REVOKE ALL ON FUNCTION \(SchemaNames.versionsFunction)() FROM PUBLIC"), logger: logger)
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    GRANT EXECUTE ON FUNCTION \(SchemaNames.versionsFunction)() TO \(SchemaNames.appGroupRole)
                    """), logger: logger)
    }

    private func requireAppRole(_ connection: PostgresConnection) async throws {
        let rows = try await connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(SchemaNames.appGroupRole)", logger: logger).collect()
        if rows.isEmpty {
            throw PostgresMigrationError(
                .appRoleMissing,
                message: "The role \(SchemaNames.appGroupRole) does not exist; create the roles first "
                    + "(PostgresProvisioning.createRoles)")
        }
    }

    private func applied(_ connection: PostgresConnection) async throws -> [AppliedMigration] {
        var result: [AppliedMigration] = []
        let rows = try await connection.query("SELECT version, name, checksum FROM tradeskit_migrations ORDER BY version", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            result.append(AppliedMigration(version: version, name: name, checksum: checksum))
        }
        return result
    }

    /// SHA-256 of the migration's SQL, computed by PostgreSQL (11+), in hex.
    private func checksum(of migration: Migration, _ connection: PostgresConnection) async throws -> String {
        let rows = try await connection.query("SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex')", logger: logger)
        for try await (hex) in rows.decode(String.self) { return hex }
        throw PostgresMigrationError(.failed, version: migration.version, message: "The checksum could not be computed")
    }
}
