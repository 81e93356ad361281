import ArgumentParser
import Foundation
import Logging
import StoragePostgres
import StorageSQLite
import TradesKit

/// Where `trades bench http` puts its fixture and its server: a temporary SQLite file (the default), or a scratch
/// PostgreSQL database made with an admin role, migrated by an owner role and served by an app role subject to
/// row-level security, as in production; dropped afterwards.
enum HTTPBenchDatabase {
    case sqlite(path: String, synchronous: DatabaseOptions.SynchronousMode)
    case postgres(
        admin: PostgresStorage.Configuration, name: String, app: PostgresStorage.Configuration.Credentials,
        owner: PostgresStorage.Configuration.Credentials)

    /// The environment variable that hands the server the app role's URL (a password has no place in `ps` output).
    static let serverURLVariable = "TRADESKIT_BENCH_DATABASE_URL"

    /// Creates the scratch database and its roles with `adminURL`'s role.
    static func scratchPostgres(adminURL: String, logger: Logger) async throws -> HTTPBenchDatabase {
        let admin: PostgresStorage.Configuration
        do { admin = try PostgresStorage.Configuration(url: adminURL) } catch { throw ValidationError(error.message) }
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let name = "tradeskit_bench_\(suffix)"
        let app = PostgresStorage.Configuration.Credentials(username: "tradeskit_bench_app", password: secret())
        let owner = PostgresStorage.Configuration.Credentials(username: "tradeskit_bench_owner", password: secret())
        try await PostgresProvisioning.createRoles(as: admin, app: app, owner: owner, logger: logger)
        try await PostgresProvisioning.createDatabase(as: admin, name: name, owner: owner.username, logger: logger)
        return .postgres(admin: admin, name: name, app: app, owner: owner)
    }

    /// What the report says the server ran on.
    var description: String {
        switch self {
        case .sqlite(_, let synchronous): "SQLite (synchronous=\(synchronous.rawValue), WAL)"
        case .postgres(let admin, _, _, _): "PostgreSQL at \(admin.host):\(admin.port) (scratch database, app role under row-level security)"
        }
    }

    /// The arguments and environment that point `trades bench http-server` at this database.
    var server: (arguments: [String], environment: [String: String]) {
        switch self {
        case .sqlite(let path, let synchronous):
            return (["--database", path, "--synchronous", synchronous.rawValue], [:])
        case .postgres(let admin, let name, let app, _):
            let host = admin.host.contains(":") ? "[\(admin.host)]" : admin.host
            let url = "postgres://\(app.username):\(app.password ?? "")@\(host):\(admin.port)/\(name)?sslmode=\(admin.tls.rawValue)"
            return ([], [Self.serverURLVariable: url])
        }
    }

    /// Runs `body` with the storage (migrated), for writing the fixture.
    func withStorage<T>(logger: Logger, _ body: (any Storage) async throws -> T) async throws -> T {
        switch self {
        case .sqlite(let path, let synchronous):
            var configuration = SQLiteStorage.Configuration()
            configuration.synchronous = synchronous == .full ? .full : .normal
            let storage = try SQLiteStorage(.file(path: path), configuration: configuration)
            defer { try? storage.close() }
            return try await body(storage)
        case .postgres(let admin, let name, let app, let owner):
            var configuration = PostgresStorage.Configuration(
                host: admin.host, port: admin.port, username: app.username, password: app.password, database: name, tls: admin.tls,
                maximumConnections: 4, migrationCredentials: owner)
            configuration.leaseTimeout = .seconds(60)
            let storage = PostgresStorage(configuration: configuration, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { await storage.run() }
                defer { group.cancelAll() }
                // Let the pool start before the first lease (postgres-nio warns about a lease before run()).
                try await Task.sleep(for: .milliseconds(100))
                try await storage.migrate()
                return try await body(storage)
            }
        }
    }

    /// Drops the scratch database (SQLite's temporary directory is the caller's to remove).
    func drop(logger: Logger) async {
        guard case .postgres(let admin, let name, _, _) = self else { return }
        do {
            try await PostgresProvisioning.dropDatabase(as: admin, name: name, logger: logger)
        } catch {
            logger.warning("Could not drop the scratch database", metadata: ["tradeskit.database": "\(name)"])
        }
    }

    private static func secret() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
}
