import ArgumentParser
import Foundation
import GRDB
import StorageSQLite
import TradesKit
import TradesKitTesting

/// `trades bench storage`: the full accept change set against plain GRDB writes of the same rows, and the disk's
/// durable-commit limit, all measured in one run on the same disk.
struct StorageBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Accepts per second on SQLite, against plain GRDB inserts of the same rows and single-row commits."
    )

    @Option(help: "How many jobs to accept (each is one measured accept).") var accepts = 1_000
    @Option(help: "Bids per job.") var bids = 10
    @Option(help: "Single-row commits for the durable-commit baseline.") var commits = 2_000
    @Option(help: "SQLite durability for all three measurements: full or normal.") var synchronous: DatabaseOptions.SynchronousMode = .full
    @Option(help: "Directory for the temporary databases (default: the system temporary directory).") var directory: String?
    @Option(
        help: """
            Also measure PostgreSQL: a postgres:// URL of a role that may create roles and databases (a superuser of a \
            benchmark cluster). The run works in a scratch database it drops afterwards.
            """)
    var database: String?
    @Option(help: "PostgreSQL connections (and concurrent writers) for the Postgres figures.") var connections = 8
    @Option(help: "Transactions per pgbench client for the Postgres baseline.") var pgbenchTransactions = 2_000
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        var machine: String
        var synchronous: String
        var accepts: Int
        var bidsPerJob: Int
        var rowsPerAccept: Int
        var acceptsPerSecond: Double
        var acceptP50Milliseconds: Double
        var acceptP99Milliseconds: Double
        var plainGRDBTransactionsPerSecond: Double
        var singleRowCommitsPerSecond: Double
        var ratioToPlainGRDB: Double
        var ratioToDurableCommitLimit: Double
        var postgres: PostgresBench.Report?
    }

    func validate() throws {
        guard accepts > 0, bids > 0, commits > 0 else { throw ValidationError("--accepts, --bids and --commits must be positive") }
    }

    func run() async throws {
        let base = URL(fileURLWithPath: directory ?? FileManager.default.temporaryDirectory.path)
            .appendingPathComponent("tradeskit-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        var configuration = SQLiteStorage.Configuration()
        configuration.synchronous = synchronous == .full ? .full : .normal

        if !json { print("Machine: \(MachineInfo.summary)\nsynchronous=\(synchronous.rawValue), \(accepts) accepts of jobs with \(bids) bids\n") }

        // (1) The full accept through TradesKit: reads, rules, payment authorisation (in-memory), one change set.
        let storage = try SQLiteStorage(.file(path: base.appendingPathComponent("tradeskit.sqlite").path), configuration: configuration)
        let fixture = try await AcceptFixture.make(storage: storage, jobs: accepts, bidsPerJob: bids)
        var latencies: [Double] = []
        latencies.reserveCapacity(accepts)
        let tradesKitWatch = Stopwatch()
        var rowsPerAccept = 0
        for bidID in fixture.bidToAccept {
            latencies.append(
                try await Stopwatch.milliseconds {
                    let acceptance = try await fixture.market.bids.accept(by: fixture.owner, bidID)
                    rowsPerAccept = 1 + 1 + acceptance.declined.count + 1 + 2
                })
        }
        let acceptsPerSecond = Double(accepts) / tradesKitWatch.elapsedSeconds
        guard try await storage.tenant(fixture.tenant).unbalancedLedgerTransactions().isEmpty else { throw ValidationError("ledger unbalanced") }
        let eventRows = try await PlainAcceptWriter.eventRows(in: storage, tenant: fixture.tenant, jobs: accepts)
        rowsPerAccept += eventRows

        // (2) The same rows with plain GRDB statements, one transaction per accept, on the same schema.
        let plain = try await PlainAcceptWriter.measure(
            path: base.appendingPathComponent("plain.sqlite").path, configuration: configuration,
            jobs: accepts, bidsPerJob: bids)

        // (3) The disk's durable-commit limit: one tiny row per transaction.
        let single = try await SingleRowCommits.measure(
            path: base.appendingPathComponent("single.sqlite").path, synchronous: synchronous, commits: commits)

        let report = Report(
            machine: MachineInfo.summary, synchronous: synchronous.rawValue, accepts: accepts, bidsPerJob: bids,
            rowsPerAccept: rowsPerAccept, acceptsPerSecond: acceptsPerSecond,
            acceptP50Milliseconds: latencies.percentile(50), acceptP99Milliseconds: latencies.percentile(99),
            plainGRDBTransactionsPerSecond: plain, singleRowCommitsPerSecond: single,
            ratioToPlainGRDB: acceptsPerSecond / plain, ratioToDurableCommitLimit: acceptsPerSecond / single)
        var postgres: PostgresBench.Report?
        if let database {
            if !json { Self.printSQLite(report) }
            postgres = try await PostgresBench(
                adminURL: database, accepts: accepts, bidsPerJob: bids, connections: connections, pgbenchTransactions: pgbenchTransactions,
                narrate: !json
            ).run(sqliteAcceptsPerSecond: acceptsPerSecond)
        }
        if json {
            var report = report
            report.postgres = postgres
            return try printJSON(report)
        }
        if postgres == nil { Self.printSQLite(report) }
    }

    private static func printSQLite(_ report: Report) {
        let rowsPerAccept = report.rowsPerAccept
        let acceptsPerSecond = report.acceptsPerSecond
        let plain = report.plainGRDBTransactionsPerSecond
        let single = report.singleRowCommitsPerSecond
        print(
            String(
                format: "(1) TradesKit accept (full change set, %d rows):   %8.1f accepts/s   p50 %.2f ms  p99 %.2f ms",
                rowsPerAccept, acceptsPerSecond, report.acceptP50Milliseconds, report.acceptP99Milliseconds))
        print(String(format: "(2) plain GRDB, same rows, 1 transaction each:    %8.1f transactions/s", plain))
        print(String(format: "(3) single-row commits (durable-commit limit):    %8.1f commits/s", single))
        print(String(format: "\n(1)/(2) = %.2f   (target ≥ 0.50)\n(1)/(3) = %.2f", report.ratioToPlainGRDB, report.ratioToDurableCommitLimit))
    }
}

/// A tenant with one homeowner, `bidsPerJob` contractors and `jobs` open jobs each carrying a bid from every contractor,
/// written in large change sets so that setting up is quick.
struct AcceptFixture {
    let market: Marketplace
    let tenant: TenantID
    let owner: Principal
    let bidToAccept: [BidID]

    static func make(storage: any Storage, jobs: Int, bidsPerJob: Int, slug: String = "bench") async throws -> AcceptFixture {
        let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
        let tenant = try await market.tenants.create(
            by: PlatformOperator(label: "bench"),
            .init(
                slug: slug, displayName: "Bench",
                settings: .defaults(named: "Bench")))
        guard let category = try await market.catalog.categories(in: tenant.id).first else { throw ValidationError("no categories") }
        let owner = try await market.users.register(
            in: tenant.id,
            .init(
                email: "owner@bench.example", password: "bench-password",
                displayName: "Owner", role: .homeowner))
        let ids = UUIDv7Generator()
        let clock = SystemClock()
        let store = storage.tenant(tenant.id)
        var contractors: [UserID] = []
        var setup = ChangeSet()
        for index in 0..<bidsPerJob {
            let contractor = User(
                id: ids.make(), email: try EmailAddress("pro\(index)@bench.example"), displayName: "Pro \(index)",
                role: .contractor, createdAt: clock.now())
            setup.append(.insertUser(contractor))
            contractors.append(contractor.id)
        }
        try await store.commit(setup)

        var toAccept: [BidID] = []
        let here = GeoPoint(latitude: 52.52, longitude: 13.40)
        for batchStart in stride(from: 0, to: jobs, by: 100) {
            var changes = ChangeSet()
            for index in batchStart..<min(jobs, batchStart + 100) {
                let now = clock.now()
                let job = Job(
                    id: ids.make(), ownerID: owner.id, categoryID: category.id, title: "Bench job \(index)", description: "Benchmark",
                    location: here, budget: BudgetRange(min: Money(1_000, .usd), max: Money(100_000, .usd)), createdAt: now)
                changes.append(.insertJob(job))
                for (offset, contractor) in contractors.enumerated() {
                    let bid = Bid(
                        id: ids.make(), jobID: job.id, contractorID: contractor, amount: Money(Int64(10_000 + offset), .usd),
                        message: "Bid \(offset)", createdAt: now)
                    changes.append(.insertBid(bid))
                    if offset == contractors.count / 2 { toAccept.append(bid.id) }
                }
            }
            try await store.commit(changes)
        }
        return AcceptFixture(
            market: market, tenant: tenant.id, owner: Principal(tenantID: tenant.id, userID: owner.id, role: .homeowner),
            bidToAccept: toAccept)
    }
}

/// The durable-commit limit of the disk: one small INSERT per transaction, WAL mode, the chosen synchronous level.
enum SingleRowCommits {
    static func measure(path: String, synchronous: DatabaseOptions.SynchronousMode, commits: Int) async throws -> Double {
        var configuration = GRDB.Configuration()
        let pragma = synchronous == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(pragma)") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try await pool.write { db in try db.execute(sql: "CREATE TABLE commits (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)") }
        let watch = Stopwatch()
        for index in 0..<commits {
            try await pool.write { db in try db.execute(sql: "INSERT INTO commits (payload) VALUES (?)", arguments: ["row \(index)"]) }
        }
        return Double(commits) / watch.elapsedSeconds
    }
}
