import ArgumentParser
import Foundation
import Logging
import StoragePostgres

/// A database the PostgreSQL benchmarks make for one run and drop after it: created by an admin role (`--database`),
/// owned by `tradeskit_bench_owner` (which migrates it), used by `tradeskit_bench_app` (under row-level security, as in
/// production). Both roles get fresh random passwords each run.
struct ScratchPostgres: Sendable {
    let admin: PostgresStorage.Configuration
    let name: String
    let app: PostgresStorage.Configuration.Credentials
    let owner: PostgresStorage.Configuration.Credentials

    /// Creates the roles and the database with `adminURL`'s role.
    static func create(adminURL: String, logger: Logger) async throws -> ScratchPostgres {
        let admin: PostgresStorage.Configuration
        do { admin = try PostgresStorage.Configuration(url: adminURL) } catch { throw ValidationError(error.message) }
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let scratch = ScratchPostgres(
            admin: admin, name: "tradeskit_bench_\(suffix)", app: .init(username: "tradeskit_bench_app", password: secret()),
            owner: .init(username: "tradeskit_bench_owner", password: secret()))
        try await PostgresProvisioning.createRoles(as: admin, app: scratch.app, owner: scratch.owner, logger: logger)
        try await PostgresProvisioning.createDatabase(as: admin, name: scratch.name, owner: scratch.owner.username, logger: logger)
        return scratch
    }

    /// The storage's configuration: the app role, with the owner for migrations.
    private func storageConfiguration(maximumConnections: Int) -> PostgresStorage.Configuration {
        var configuration = PostgresStorage.Configuration(
            host: admin.host, port: admin.port, username: app.username, password: app.password, database: name, tls: admin.tls,
            maximumConnections: maximumConnections, migrationCredentials: owner)
        configuration.leaseTimeout = .seconds(60)
        return configuration
    }

    /// Runs `body` with a storage on the scratch database, migrated, its pool running for the duration of `body`.
    func withStorage<T>(maximumConnections: Int, logger: Logger, _ body: (PostgresStorage) async throws -> T) async throws -> T {
        let storage = PostgresStorage(configuration: storageConfiguration(maximumConnections: maximumConnections), logger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await storage.run() }
            defer { group.cancelAll() }
            // Let the pool start before the first lease (postgres-nio warns about a lease before run()).
            try await Task.sleep(for: .milliseconds(100))
            try await storage.migrate()
            return try await body(storage)
        }
    }

    /// The app role's URL, password included: for a child process's environment only.
    var appURL: String {
        let host = admin.host.contains(":") ? "[\(admin.host)]" : admin.host
        return "postgres://\(app.username):\(app.password ?? "")@\(host):\(admin.port)/\(name)?sslmode=\(admin.tls.rawValue)"
    }

    func drop(logger: Logger) async throws {
        try await PostgresProvisioning.dropDatabase(as: admin, name: name, logger: logger)
    }

    private static func secret() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
}
