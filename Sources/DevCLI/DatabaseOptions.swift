import ArgumentParser
import Foundation
import Logging
import StoragePostgres
import StorageSQLite
import TradesKit

/// `--database` and friends, shared by every command that opens a database.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: """
            The database: a SQLite file path, or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL. On PostgreSQL `migrate` \
            connects as the owner role and every other command as the app role (docs/postgres.md).
            """)
    var database: String = "./trades.sqlite"

    @Option(name: .long, help: "SQLite durability: full (every commit survives power loss) or normal.")
    var synchronous: SynchronousMode = .full

    enum SynchronousMode: String, ExpressibleByArgument, CaseIterable {
        case full, normal
    }

    /// Whether `--database` is a PostgreSQL URL.
    var isPostgres: Bool { database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") }

    /// `--database` for messages: the path, or `user@host:port/database` with no password.
    var displayName: String {
        guard isPostgres else { return database }
        guard let configuration = try? PostgresStorage.Configuration(url: database) else { return "<invalid PostgreSQL URL>" }
        return "\(configuration.username)@\(configuration.host):\(configuration.port)/\(configuration.database)"
    }

    /// Opens the SQLite storage at `--database`, migrating it; for the commands that only exist for SQLite.
    func openSQLite(for command: String = "this command") throws -> SQLiteStorage {
        if isPostgres {
            throw ValidationError("\(command) works on SQLite files only; see docs/postgres.md for the PostgreSQL equivalent.")
        }
        var configuration = SQLiteStorage.Configuration()
        configuration.synchronous = synchronous == .full ? .full : .normal
        return try SQLiteStorage(.file(path: database), configuration: configuration)
    }

    /// The PostgreSQL configuration of `--database`; the URL's role also runs migrations when `asOwner`.
    func postgresConfiguration(asOwner: Bool = false) throws -> PostgresStorage.Configuration {
        var configuration: PostgresStorage.Configuration
        do {
            configuration = try PostgresStorage.Configuration(url: database)
        } catch {
            throw ValidationError("\(error.message)")
        }
        if asOwner { configuration.migrationCredentials = .init(username: configuration.username, password: configuration.password) }
        return configuration
    }

    /// Runs `body` with the storage at `--database`: a SQLite file (created and migrated as needed), or PostgreSQL, whose
    /// connection pool runs for the duration of `body`, whose schema must be current (`trades migrate` applies it), and whose
    /// role must be held by row-level security (not the owner, not a superuser).
    func withStorage<Result>(_ body: (any Storage) async throws -> Result) async throws -> Result {
        guard isPostgres else { return try await body(openSQLite()) }
        let storage = PostgresStorage(configuration: try postgresConfiguration(), logger: cliLogger)
        return try await withRunning(storage) { storage in
            if try await storage.hasPendingMigrations() {
                throw ValidationError(
                    "The PostgreSQL schema at \(displayName) is not current: run `trades migrate --database postgres://OWNER@…` first.")
            }
            do {
                try await storage.verifyRowLevelSecurityApplies()
            } catch let error as PostgresRoleError {
                throw ValidationError(error.message)
            }
            return try await body(storage)
        }
    }

    /// Runs `body` while the storage's connection pool runs; the pool shuts down when `body` returns or throws.
    func withRunning<Result>(_ storage: PostgresStorage, _ body: (PostgresStorage) async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await storage.run() }
            defer { group.cancelAll() }
            return try await body(storage)
        }
    }
}

/// The logger the CLI hands to libraries (warnings and errors only, unless TRADESKIT_LOG_LEVEL says otherwise).
let cliLogger = Logger(label: "tradeskit.cli")

/// The identity the CLI acts as for platform-level operations.
let cliOperator = PlatformOperator(label: "cli")

/// Resolves `--tenant SLUG` to a tenant.
func resolveTenant(_ slug: String, in storage: any Storage) async throws -> Tenant {
    guard let tenant = try await storage.tenant(slug: slug) else {
        throw ValidationError("No tenant with slug '\(slug)'. Create it with `trades tenant create --slug \(slug) --name NAME`.")
    }
    return tenant
}

/// Basis points as a percentage with two decimals, in integers: 1050 → "10.50%".
func percent(basisPoints: Int) -> String { "\(basisPoints / 100).\(String(format: "%02d", basisPoints % 100))%" }

extension String {
    /// Left-aligned in a column of `width` characters.
    func padded(_ width: Int) -> String { padding(toLength: max(width, count), withPad: " ", startingAt: 0) }
}

/// Prints any `Encodable` as pretty JSON on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
