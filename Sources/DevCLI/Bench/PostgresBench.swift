import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ProcessSupport
import StoragePostgres
import TradesKit

/// The PostgreSQL part of `trades bench storage --database postgres://ADMIN@…`, all in one scratch database:
/// (1) TradesKit accepts over N connections, N concurrent writers; (2) the same rows written with plain postgres-nio
/// statements, one transaction per accept, over N connections; (3) `pgbench -N` with N clients on the same server.
struct PostgresBench {
    let adminURL: String
    let accepts: Int
    let bidsPerJob: Int
    let connections: Int
    let pgbenchTransactions: Int
    let narrate: Bool

    struct Report: Encodable {
        var connections: Int
        var acceptsPerSecond: Double
        var acceptP50Milliseconds: Double
        var acceptP99Milliseconds: Double
        var plainPostgresNIOTransactionsPerSecond: Double
        var pgbenchTransactionsPerSecond: Double
        var sqliteAcceptsPerSecond: Double
        var ratioToPlainPostgresNIO: Double
        var ratioToPgbench: Double
    }

    private var logger: Logger {
        var logger = Logger(label: "tradeskit.bench")
        logger.logLevel = .warning
        return logger
    }

    func run(sqliteAcceptsPerSecond: Double) async throws -> Report {
        let scratch = try await ScratchPostgres.create(adminURL: adminURL, logger: logger)
        say("PostgreSQL at \(scratch.admin.host):\(scratch.admin.port), scratch database \(scratch.name), \(connections) connections\n")
        do {
            let report = try await measure(scratch, sqlite: sqliteAcceptsPerSecond)
            try await scratch.drop(logger: logger)
            return report
        } catch {
            try? await scratch.drop(logger: logger)
            throw error
        }
    }

    private func measure(_ scratch: ScratchPostgres, sqlite: Double) async throws -> Report {
        let admin = scratch.admin
        let database = scratch.name
        return try await scratch.withStorage(maximumConnections: connections, logger: logger) { storage in
            // (1) TradesKit: every accept is reads, rules, the payment authorisation (in memory) and one change set.
            let fixture = try await AcceptFixture.make(storage: storage, jobs: accepts, bidsPerJob: bidsPerJob, slug: "bench")
            let (acceptsPerSecond, latencies) = try await concurrently(fixture.bidToAccept) { bidID in
                _ = try await fixture.market.bids.accept(by: fixture.owner, bidID)
            }
            guard try await storage.tenant(fixture.tenant).unbalancedLedgerTransactions().isEmpty else {
                throw ValidationError("ledger unbalanced")
            }
            let eventRows = try await PlainAcceptWriter.eventRows(in: storage, tenant: fixture.tenant, jobs: accepts)
            say(
                String(
                    format: "(1) TradesKit accepts, %d writers:                 %8.1f accepts/s   p50 %.2f ms  p99 %.2f ms",
                    connections, acceptsPerSecond, latencies.percentile(50), latencies.percentile(99)))

            // (2) The same rows with plain postgres-nio statements on a second tenant's identical fixture.
            let plainFixture = try await AcceptFixture.make(storage: storage, jobs: accepts, bidsPerJob: bidsPerJob, slug: "bench-plain")
            let plan = try await PlainPostgresAcceptWriter.plan(storage: storage, fixture: plainFixture)
            let plain = PlainPostgresAcceptWriter(
                client: storage.client, tenant: plainFixture.tenant, owner: plainFixture.owner.userID, eventRows: eventRows, logger: logger)
            let (plainPerSecond, _) = try await concurrently(plan) { item in try await plain.write(item) }
            say(String(format: "(2) plain postgres-nio, same rows, %d connections:  %8.1f transactions/s", connections, plainPerSecond))

            // (3) The server's own limit for small write transactions.
            let pgbench = try await pgbenchTPS(admin: admin, database: database)
            say(String(format: "(3) pgbench -N, %d clients × %d transactions:      %8.1f transactions/s", connections, pgbenchTransactions, pgbench))
            say(String(format: "    SQLite accepts (1 writer, above):             %8.1f accepts/s", sqlite))
            let report = Report(
                connections: connections, acceptsPerSecond: acceptsPerSecond, acceptP50Milliseconds: latencies.percentile(50),
                acceptP99Milliseconds: latencies.percentile(99), plainPostgresNIOTransactionsPerSecond: plainPerSecond,
                pgbenchTransactionsPerSecond: pgbench, sqliteAcceptsPerSecond: sqlite, ratioToPlainPostgresNIO: acceptsPerSecond / plainPerSecond,
                ratioToPgbench: acceptsPerSecond / pgbench)
            say(String(format: "\n(1)/(2) = %.2f   (target ≥ 0.50)\n(1)/(3) = %.2f", report.ratioToPlainPostgresNIO, report.ratioToPgbench))
            return report
        }
    }

    /// Runs `work` over `items` with `connections` concurrent workers; answers items per second and each latency in ms.
    private func concurrently<Item: Sendable>(_ items: [Item], _ work: @escaping @Sendable (Item) async throws -> Void) async throws -> (
        Double, [Double]
    ) {
        let watch = Stopwatch()
        let latencies = try await withThrowingTaskGroup(of: [Double].self, returning: [Double].self) { group in
            for worker in 0..<connections {
                let share = stride(from: worker, to: items.count, by: connections).map { items[$0] }
                group.addTask {
                    var latencies: [Double] = []
                    for item in share { latencies.append(try await Stopwatch.milliseconds { try await work(item) }) }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
        return (Double(items.count) / watch.elapsedSeconds, latencies)
    }

    private func pgbenchTPS(admin: PostgresStorage.Configuration, database: String) async throws -> Double {
        let common = ["-h", admin.host, "-p", "\(admin.port)", "-U", admin.username]
        _ = try await Self.pgbench(common + ["-i", "-q", "-s", "\(max(1, connections))", database], password: admin.password)
        // A transaction count, not -T: pgbench's -T timer is a SIGALRM, which a child of this process may have blocked.
        let output = try await Self.pgbench(
            common + [
                "-N", "-c", "\(connections)", "-j", "\(min(connections, ProcessInfo.processInfo.activeProcessorCount))",
                "-t", "\(pgbenchTransactions)", database,
            ], password: admin.password)
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let value = Double(line.dropFirst("tps = ".count).prefix { $0.isNumber || $0 == "." })
        else { throw ValidationError("pgbench printed no tps figure") }
        return value
    }

    private static func pgbench(_ arguments: [String], password: String?) async throws -> String {
        guard let pgbench = ChildProcess.find("pgbench") else {
            throw ValidationError("pgbench is not on PATH (it comes with postgresql-client)")
        }
        let run = try await Subprocess.run(pgbench, arguments, environment: password.map { ["PGPASSWORD": $0] } ?? [:])
        guard run.status == 0 else {
            // pgbench's own messages name hosts and databases, never the password (it comes from the environment).
            throw ValidationError("pgbench failed: \(run.text.suffix(500))")
        }
        return run.text
    }

    private func say(_ line: String) { if narrate { print(line) } }

}
