import ArgumentParser
import Foundation
import StorageSQLite
import TradesKit

/// `--database` and friends, shared by every command that opens a database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database: a SQLite file path (postgres:// URLs arrive with StoragePostgres).")
    var database: String = "./trades.sqlite"

    @Option(name: .long, help: "SQLite durability: full (every commit survives power loss) or normal.")
    var synchronous: SynchronousMode = .full

    enum SynchronousMode: String, ExpressibleByArgument, CaseIterable {
        case full, normal
    }

    /// Opens the SQLite storage at `--database`, migrating it.
    func openSQLite() throws -> SQLiteStorage {
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            throw ValidationError("PostgreSQL storage is not part of this build yet; use a SQLite file path.")
        }
        var configuration = SQLiteStorage.Configuration()
        configuration.synchronous = synchronous == .full ? .full : .normal
        return try SQLiteStorage(.file(path: database), configuration: configuration)
    }
}

/// The identity the CLI acts as for platform-level operations.
let cliOperator = PlatformOperator(label: "cli")

/// Resolves `--tenant SLUG` to a tenant.
func resolveTenant(_ slug: String, in storage: any Storage) async throws -> Tenant {
    guard let tenant = try await storage.tenant(slug: slug) else {
        throw ValidationError("No tenant with slug '\(slug)'. Create it with `trades tenant create --slug \(slug)`.")
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
