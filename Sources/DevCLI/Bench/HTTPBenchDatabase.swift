import ArgumentParser
import Foundation
import Logging
import StoragePostgres
import StorageSQLite
import TradesKit

/// Where `trades bench http` puts its fixture and its server: a SQLite file in a temporary directory of its own (the
/// default), or a scratch PostgreSQL database made with an admin role, migrated by an owner role and served by an app
/// role subject to row-level security, as in production. Either is removed afterwards (``drop(logger:)``).
enum HTTPBenchDatabase {
    case sqlite(directory: URL, synchronous: DatabaseOptions.SynchronousMode)
    case postgres(ScratchPostgres)

    /// A new temporary directory under `parent` (the system's temporary directory by default) for a SQLite database.
    static func temporarySQLite(under parent: String?, synchronous: DatabaseOptions.SynchronousMode) throws -> Self {
        let directory = URL(fileURLWithPath: parent ?? FileManager.default.temporaryDirectory.path)
            .appendingPathComponent("tradeskit-http-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return .sqlite(directory: directory, synchronous: synchronous)
    }

    private static func sqlitePath(in directory: URL) -> String { directory.appendingPathComponent("bench.sqlite").path }

    /// The environment variable that hands the server the app role's URL (a password has no place in `ps` output).
    static let serverURLVariable = "TRADESKIT_BENCH_DATABASE_URL"

    /// What the report says the server ran on.
    var description: String {
        switch self {
        case .sqlite(_, let synchronous): "SQLite (synchronous=\(synchronous.rawValue), WAL)"
        case .postgres(let scratch): "PostgreSQL at \(scratch.admin.host):\(scratch.admin.port) (scratch database, app role under row-level security)"
        }
    }

    /// The arguments and environment that point `trades bench http-server` at this database.
    var server: (arguments: [String], environment: [String: String]) {
        switch self {
        case .sqlite(let directory, let synchronous): (["--database", Self.sqlitePath(in: directory), "--synchronous", synchronous.rawValue], [:])
        case .postgres(let scratch): ([], [Self.serverURLVariable: scratch.appURL])
        }
    }

    /// Runs `body` with the storage (migrated), for writing the fixture.
    func withStorage<T>(logger: Logger, _ body: (any Storage) async throws -> T) async throws -> T {
        switch self {
        case .sqlite(let directory, let synchronous):
            var configuration = SQLiteStorage.Configuration()
            configuration.synchronous = synchronous == .full ? .full : .normal
            let storage = try SQLiteStorage(.file(path: Self.sqlitePath(in: directory)), configuration: configuration)
            defer { try? storage.close() }
            return try await body(storage)
        case .postgres(let scratch):
            return try await scratch.withStorage(maximumConnections: 4, logger: logger) { storage in try await body(storage) }
        }
    }

    /// Removes the database: SQLite's temporary directory, or the scratch PostgreSQL database.
    func drop(logger: Logger) async {
        switch self {
        case .sqlite(let directory, _):
            try? FileManager.default.removeItem(at: directory)
        case .postgres(let scratch):
            do {
                try await scratch.drop(logger: logger)
            } catch {
                logger.warning("Could not drop the scratch database", metadata: ["tradeskit.database": "\(scratch.name)"])
            }
        }
    }
}
