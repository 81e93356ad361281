import Foundation
import GRDB
public import TradesKit

/// The embedded TradesKit storage on SQLite (GRDB.swift).
///
/// A file database is a `DatabasePool` in WAL mode (concurrent reads, one writer), with foreign keys on and
/// `synchronous=FULL` unless configured otherwise; an in-memory one is a `DatabaseQueue`. Every tenant query goes
/// through ``tenant(_:)`` and filters by `tenant_id` in SQL.
///
/// ```swift
/// let storage = try SQLiteStorage(.file(path: "trades.sqlite"))
/// let market = Marketplace(storage: storage, payments: payments, passwordHasher: hasher)
/// ```
public final class SQLiteStorage: Storage, MigrationStatusReporting, Sendable {
    let writer: any DatabaseWriter
    /// The location it was opened at.
    public let location: Location

    /// Opens (and by default migrates) a database.
    public init(_ location: Location, configuration: Configuration = Configuration()) throws {
        self.location = location
        var grdb = GRDB.Configuration()
        grdb.foreignKeysEnabled = true
        grdb.busyMode = .timeout(configuration.busyTimeoutSeconds)
        grdb.maximumReaderCount = max(1, configuration.maximumReaderCount)
        let synchronous = configuration.synchronous.rawValue
        grdb.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            db.add(function: SQLiteStorage.distanceFunction)
            db.add(function: SQLiteStorage.containsFunction)
        }
        do {
            switch location {
            case .file(let path):
                writer = try Self.retryingWhileBusy(for: configuration.busyTimeoutSeconds) {
                    let pool = try DatabasePool(path: path, configuration: grdb)
                    // Opening a pool switches its writer to synchronous=NORMAL after prepareDatabase ran (GRDB's WAL
                    // default); the writer is the connection that commits, so set the configured level on it again.
                    try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
                    return pool
                }
            case .inMemory: writer = try DatabaseQueue(configuration: grdb)
            }
        } catch {
            throw SQLiteStorage.storageError(error)
        }
        if configuration.migrateOnOpen { try Self.migrate(writer) }
    }

    /// Opens with `open`, again while it fails on a lock held by another connection, for up to `seconds`.
    ///
    /// A new file's first opening switches it to WAL, which takes the database lock without waiting for it (the busy
    /// timeout does not apply): processes opening one new file at once would fail with "database is locked".
    private static func retryingWhileBusy<T>(for seconds: Double, _ open: () throws -> T) throws -> T {
        let deadline = ContinuousClock.now + .milliseconds(Int64(max(0, seconds) * 1_000))
        while true {
            do {
                return try open()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
    }

    /// Applies the pending migrations, each in its own transaction; a failure names the migration that failed, which
    /// is rolled back whole (those before it stay applied).
    ///
    /// Another process may migrate the same file at the same moment. GRDB reads which migrations are applied before each
    /// one's `BEGIN IMMEDIATE`, so of two migrators one can start a migration the other has just applied, and fail on it
    /// ("table already exists"). A failure after which more migrations are applied than before the attempt is therefore
    /// tried again, from what is applied now; a migration that fails on its own data fails again, making no progress,
    /// and is reported.
    static func migrate(_ writer: any DatabaseWriter) throws(StorageError) {
        let migrator = Schema.migrator
        func applied() -> Set<String> { (try? writer.read { db in try migrator.appliedIdentifiers(db) }) ?? [] }
        var before = applied()
        for attempt in 0... {
            do {
                try migrator.migrate(writer)
                return
            } catch {
                let now = applied()
                if now.count > before.count && attempt < migrator.migrations.count {
                    before = now
                    continue
                }
                throw migrationFailure(error, applied: now, migrator)
            }
        }
    }

    /// The error of a failed migration: it names the first one not applied.
    private static func migrationFailure(_ error: any Error, applied: Set<String>, _ migrator: DatabaseMigrator) -> StorageError {
        let cause = storageError(error) as? StorageError ?? StorageError(.failure, message: "SQLite storage failure")
        guard let identifier = migrator.migrations.first(where: { !applied.contains($0) }) else { return cause }
        let reason =
            switch cause.code {
            // A migration that checks its data found a row it cannot carry over.
            case .missingRow: "a row refers to a row that does not exist"
            case .uniqueViolation: "two rows break a unique constraint (\(cause.constraint ?? "unnamed"))"
            default: cause.message
            }
        return StorageError(
            cause.code == .unavailable ? .unavailable : .failure,
            message: "Migration \(identifier) failed: \(reason); the database stays at the migration before it")
    }

    /// `tk_distance_km(lat1, lon1, lat2, lon2)`: the same haversine as core's `GeoPoint`, for radius search in SQL.
    static let distanceFunction = DatabaseFunction("tk_distance_km", argumentCount: 4, pure: true) { values in
        let numbers = values.compactMap { Double.fromDatabaseValue($0) }
        guard numbers.count == 4 else { return nil }
        return GeoPoint.haversineKm(numbers[0], numbers[1], numbers[2], numbers[3])
    }

    /// `tk_contains(text, needle)`: case-insensitive substring match with Unicode case folding, no wildcards.
    static let containsFunction = DatabaseFunction("tk_contains", argumentCount: 2, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]), let needle = String.fromDatabaseValue(values[1]) else { return false }
        return text.lowercased().contains(needle.lowercased())
    }

    public func tenant(_ id: TenantID) -> any TenantStorage { SQLiteTenantStorage(writer: writer, tenantID: id) }

    public func allTenants() async throws -> [Tenant] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM tenants ORDER BY created_at, id").map(Records.tenant) }
    }

    public func tenant(slug: String) async throws -> Tenant? {
        try await read { db in try Row.decodeFirst(db.cachedStatement(sql: "SELECT * FROM tenants WHERE slug = ?"), arguments: [slug], Records.tenant)
        }
    }

    public func migrate() async throws {
        try Self.migrate(writer)
    }

    /// The names of the applied migrations, in order.
    public func appliedMigrations() async throws -> [String] {
        try await read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// Whether migrations are pending (a server's readiness check; ``MigrationStatusReporting``).
    public func hasPendingMigrations() async throws -> Bool {
        try await read { db in try !Schema.migrator.hasCompletedMigrations(db) }
    }

    /// Copies the whole database to a new file at `path`, online: readers and writers carry on meanwhile.
    public func backup(to path: String) async throws {
        do {
            let destination = try DatabaseQueue(path: path)
            try writer.backup(to: destination)
            try destination.close()
        } catch {
            throw SQLiteStorage.storageError(error)
        }
    }

    /// Closes the database; later calls fail with `unavailable`.
    public func close() throws {
        do { try writer.close() } catch { throw SQLiteStorage.storageError(error) }
    }

    /// A deterministic text dump of every row of every table (tables by name, rows in full-column order), to prove that
    /// a rejected operation left the database unchanged.
    public func dumpContent() async throws -> String {
        try await read { db in
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            var lines: [String] = []
            for table in tables {
                let columns = try db.columns(in: table).map(\.name)
                let order = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                lines.append("# \(table)")
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY \(order)") {
                    lines.append(columns.map { "\(row[$0] as DatabaseValue)" }.joined(separator: "|"))
                }
            }
            return lines.joined(separator: "\n")
        }
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch { throw SQLiteStorage.storageError(error) }
    }
}
