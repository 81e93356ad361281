import Foundation
import Logging
import PostgresNIO
import ProcessSupport
@testable import StoragePostgres
import TestSupport
import Testing
import TradesKit

/// `trades` against PostgreSQL, end to end: the built executable, a new database of its own, the owner role for
/// `migrate` and the app role for everything else.
/// Serialized: both benchmarks provision the same scratch roles (setting their passwords) and check that no scratch
/// database is left.
@Suite("trades --database postgres://", .serialized)
struct PostgresCLITests {
    static func url(_ credentials: PostgresStorage.Configuration.Credentials, _ configuration: PostgresStorage.Configuration, database: String)
        -> String
    {
        "postgres://\(credentials.username):\(credentials.password ?? "")@\(configuration.host):\(configuration.port)/\(database)"
    }

    @Test("migrate as the owner, then tenant, seed, demo and ledger check as the app role; a stale schema is refused; no password is printed")
    func endToEnd() async throws {
        let environment = try await PostgresHarness.environment()
        let name = "tk_cli_" + PostgresHarness.randomSecret().prefix(12)
        try await PostgresProvisioning.createDatabase(
            as: environment.admin, name: name, owner: environment.owner.username,
            logger: PostgresHarness.logger)
        let appCredentials = PostgresStorage.Configuration.Credentials(username: environment.storage.username, password: environment.storage.password)
        let ownerCredentials = PostgresStorage.Configuration.Credentials(username: environment.owner.username, password: environment.owner.password)
        let app = Self.url(appCredentials, environment.storage, database: name)
        let owner = Self.url(ownerCredentials, environment.storage, database: name)
        let secrets = [appCredentials.password, ownerCredentials.password].compactMap { $0 }

        // Before migrating: the app role sees pending migrations, and the commands refuse with the way forward.
        var configuration = environment.storage
        configuration.database = name
        // A pool runs once: one storage per check.
        func hasPendingMigrations() async throws -> Bool {
            let storage = PostgresStorage(configuration: configuration, logger: PostgresHarness.logger)
            return try await PostgresHarness.running(storage) { try await $0.hasPendingMigrations() }
        }
        #expect(try await hasPendingMigrations())
        let early = try await TradesCommand.run(["tenant", "list", "--database", app])
        #expect(early.status != 0)
        #expect(early.all.contains("trades migrate"), "\(early.all)")

        let migrate = try await TradesCommand.run(["migrate", "--database", owner])
        #expect(migrate.status == 0, "\(migrate.all)")
        #expect(migrate.standardOutput.contains("latest schema (\(Migration.all.count) migrations"), "\(migrate.standardOutput)")
        #expect(try await hasPendingMigrations() == false)
        // The app role reads the versions through the function only, never the table.
        #expect(try await TradesCommand.run(["migrate", "--database", app]).status != 0)
        // Everything but migrate refuses the owner: row-level security would not hold it.
        let asOwner = try await TradesCommand.run(["tenant", "list", "--database", owner])
        #expect(asOwner.status != 0 && asOwner.all.contains("row-level security would not keep tenants apart"), "\(asOwner.all)")

        let create = try await TradesCommand.run([
            "tenant", "create", "--database", app, "--slug", "acme", "--name", "Acme Trades", "--currency", "EUR",
        ])
        #expect(create.status == 0, "\(create.all)")
        let list = try await TradesCommand.run(["tenant", "list", "--json", "--database", app])
        #expect(list.status == 0 && list.standardOutput.contains("\"slug\" : \"acme\"") && list.standardOutput.contains("EUR"), "\(list.all)")

        let seed = try await TradesCommand.run(["seed", "--database", app, "--tenant", "demo", "--admin-email", "admin@demo.example.com", "--json"])
        #expect(seed.status == 0 && seed.standardOutput.contains("\"categories\" : 26"), "\(seed.all)")

        let demo = try await TradesCommand.run(["demo", "--json", "--database", app])
        #expect(demo.status == 0, "\(demo.all)")
        #expect(demo.standardOutput.contains("\"ledgerBalanced\" : true"), "\(demo.standardOutput)")
        #expect(demo.standardOutput.contains("\"finalJobStatus\" : \"closed\""), "\(demo.standardOutput)")

        let ledger = try await TradesCommand.run(["ledger", "check", "--database", app])
        #expect(ledger.status == 0 && ledger.standardOutput.contains("acme: balanced"), "\(ledger.all)")

        // One raw ledger row that nothing balances, inserted as the app role within the demo tenant's setting (the role
        // may INSERT into the ledger, not UPDATE or DELETE): the check fails and names it, under that tenant only.
        let appConfiguration = configuration
        let (demoSlug, unbalanced) = try await PostgresHarness.running(
            PostgresStorage(configuration: appConfiguration, logger: PostgresHarness.logger)
        ) {
            storage in
            let demoTenant = try #require(try await storage.allTenants().first { $0.slug.hasPrefix("demo-") })
            let jobID = try #require(try await storage.tenant(demoTenant.id).ledgerEntries(job: nil).first?.jobID)
            let transaction = LedgerTransactionID(UUID())
            try await PostgresStorage.withTemporaryClient(
                appConfiguration.clientConfiguration(as: nil, maximumConnections: 1), logger: PostgresHarness.logger
            ) { client in
                try await client.withConnection { connection in
                    try await connection.run("BEGIN")
                    try await connection.run("SELECT set_config('app.tenant_id', \(demoTenant.id.uuidString), true)")
                    try await connection.run(
                        """
                        INSERT INTO ledger_entries (tenant_id, id, transaction_id, kind, job_id, account, amount, currency, posted_at)
                        VALUES (\(demoTenant.id.rawValue), \(UUID()), \(transaction.rawValue), 'hold', \(jobID.rawValue), 'escrow_held', 700, 'USD', 0)
                        """)
                    try await connection.run("COMMIT")
                }
            }
            return (demoTenant.slug, transaction)
        }
        let broken = try await TradesCommand.run(["ledger", "check", "--database", app])
        #expect(broken.status != 0, "\(broken.all)")
        #expect(broken.standardOutput.contains("\(demoSlug): 1 unbalanced transactions: \(unbalanced)"), "\(broken.all)")
        #expect(broken.standardOutput.contains("acme: balanced"), "\(broken.all)")

        let backup = try await TradesCommand.run(["backup", "--database", app, "--to", "/tmp/never-\(name).sqlite"])
        #expect(backup.status != 0 && backup.all.contains("docs/postgres.md"), "\(backup.all)")

        for output in [early, migrate, create, list, seed, demo, ledger, broken, backup] {
            for secret in secrets { #expect(!output.all.contains(secret)) }
        }
    }

    @Test("trades serve --development on PostgreSQL: sets up the demo tenant once, prints where it listens, stops on SIGTERM")
    func serve() async throws {
        let environment = try await PostgresHarness.environment()
        let name = "tk_serve_" + PostgresHarness.randomSecret().prefix(12)
        try await PostgresProvisioning.createDatabase(
            as: environment.admin, name: name, owner: environment.owner.username,
            logger: PostgresHarness.logger)
        let app = Self.url(.init(username: environment.storage.username, password: environment.storage.password), environment.storage, database: name)
        let owner = Self.url(.init(username: environment.owner.username, password: environment.owner.password), environment.storage, database: name)
        #expect(try await TradesCommand.run(["migrate", "--database", owner]).status == 0)

        for round in 1...2 {
            let process = Process()
            process.executableURL = try TradesCommand.executable()
            process.arguments = ["serve", "--development", "--database", app, "--port", "0"]
            let output = TradesCommand.pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Hummingbird's log line says when the server, and its signal handling, is up.
            let printed = await TradesCommand.read(output, of: process) { $0.contains("Server started") }
            process.terminate()
            let ended = await TradesCommand.termination(of: process)
            #expect(printed.contains("listening on http://127.0.0.1:"), "\(printed)")
            #expect(printed.contains(environment.storage.username + "@"), "the database is named without its password: \(printed)")
            #expect(!printed.contains(environment.storage.password ?? "-"))
            // The demo tenant and its admin are created on the first start only.
            #expect(printed.contains("Admin: admin@demo.example.com") == (round == 1), "\(printed)")
            #expect(ended == .exited(0), "a SIGTERM stops the server gracefully")
        }
    }

    @Test("trades bench storage --database postgres://ADMIN runs all three Postgres measurements in a scratch database and drops it")
    func bench() async throws {
        let environment = try await PostgresHarness.environment()
        let admin = environment.admin
        let url = Self.url(.init(username: admin.username, password: admin.password), admin, database: admin.database)
        let run = try await TradesCommand.run([
            "bench", "storage", "--json", "--accepts", "8", "--bids", "3", "--commits", "10",
            "--pgbench-transactions", "20", "--database", url,
        ])
        #expect(run.status == 0, "\(run.all)")
        struct Report: Decodable {
            struct Postgres: Decodable {
                let acceptsPerSecond: Double
                let plainPostgresNIOTransactionsPerSecond: Double
                let pgbenchTransactionsPerSecond: Double
            }
            let postgres: Postgres
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(run.standardOutput.utf8))
        #expect(report.postgres.acceptsPerSecond > 0 && report.postgres.plainPostgresNIOTransactionsPerSecond > 0)
        #expect(report.postgres.pgbenchTransactionsPerSecond > 0)
        #expect(!run.all.contains(admin.password ?? "-"))
        #expect(try await Self.scratchDatabases(admin) == 0, "the scratch database is dropped")
    }

    @Test("trades bench http --database postgres://ADMIN serves the mix from a scratch database as the app role, every answer 2xx, and drops it")
    func httpBench() async throws {
        let environment = try await PostgresHarness.environment()
        let admin = environment.admin
        let url = Self.url(.init(username: admin.username, password: admin.password), admin, database: admin.database)
        let run = try await TradesCommand.run([
            "bench", "http", "--json", "--duration", "1", "--warmup", "0.1", "--connections", "4", "--login-clients", "2",
            "--login-readers", "2", "--bcrypt-cost", "4", "--contractors", "10", "--jobs", "10", "--bid-targets", "100", "--awarded-jobs", "4",
            "--database", url, "--generator", "builtin",
        ])
        #expect(run.status == 0, "\(run.all)")
        struct Report: Decodable {
            struct Phase: Decodable {
                let workload: String
                let errors: Int
                let requestsPerSecond: Double
            }
            let server: String
            let errors: Int
            let phases: [Phase]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(run.standardOutput.utf8))
        #expect(report.server.contains("PostgreSQL"), "\(report.server)")
        #expect(report.errors == 0, "\(run.standardOutput)")
        #expect(report.phases.map(\.workload) == ["hello", "one read", "mix"])
        #expect(report.phases.allSatisfy { $0.errors == 0 && $0.requestsPerSecond > 0 })
        #expect(!run.all.contains(admin.password ?? "-"))
        #expect(try await Self.scratchDatabases(admin) == 0, "the scratch database is dropped")
    }

    /// How many `tradeskit_bench_*` databases the server has.
    static func scratchDatabases(_ admin: PostgresStorage.Configuration) async throws -> Int {
        let left = try await PostgresStorage.withTemporaryClient(
            admin.clientConfiguration(as: nil, maximumConnections: 1), logger: PostgresHarness.logger
        ) {
            var counts: [Int] = []
            for try await count in try await $0.query("SELECT count(*)::bigint FROM pg_database WHERE datname LIKE 'tradeskit_bench_%'").decode(
                Int.self)
            {
                counts.append(count)
            }
            return counts
        }
        return left.first ?? -1
    }
}
