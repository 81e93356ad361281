import Foundation
@testable import StoragePostgres
import TestSupport
import Testing
import TradesKit

/// Kills the server under acknowledged writes, on a cluster of its own (never the shared one, never a server named by
/// `TRADESKIT_POSTGRES_URL`), and checks after restart that every acknowledged change set is there.
@Suite("Postgres durability", .serialized)
struct PostgresDurabilityTests {
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        private var count = 0
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
        /// Acknowledged writes so far.
        var acknowledged: Int { lock.withLock { count } }
        func acknowledge() { lock.withLock { count += 1 } }
    }

    struct RandomIDs: IDGenerator {
        func next() -> UUID { UUID() }
    }

    static func withRunning<R: Sendable>(_ configuration: PostgresStorage.Configuration, _ body: @Sendable (PostgresStorage) async throws -> R)
        async throws -> R
    {
        let storage = PostgresStorage(configuration: configuration, logger: PostgresHarness.logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { await storage.run() }
            defer { group.cancelAll() }
            try await Task.sleep(for: .milliseconds(50))
            return try await body(storage)
        }
    }

    enum Crash: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// `pg_ctl stop -m immediate`: every process is told to quit at once, no shutdown checkpoint.
        case immediateStop
        /// SIGKILL of the postmaster alone, as a crash or the OOM killer would.
        case sigkillPostmaster

        var testDescription: String { rawValue }

        func perform(on cluster: PostgresHarness.Cluster) async throws {
            switch self {
            case .immediateStop: try await onOwnThread { try PostgresHarness.crash(cluster) }
            case .sigkillPostmaster: try PostgresHarness.killPostmaster(cluster)
            }
        }
    }

    @Test("A server crash during acknowledged writes loses none of them; the ledger balances after restart", arguments: Crash.allCases)
    func survivesCrash(_ crash: Crash) async throws {
        let cluster = try await PostgresHarness.startCluster()
        defer { try? PostgresHarness.crash(cluster) }
        let app = PostgresStorage.Configuration.Credentials(username: "tradeskit_app_login", password: PostgresHarness.randomSecret())
        let owner = PostgresStorage.Configuration.Credentials(username: "tradeskit_owner", password: PostgresHarness.randomSecret())
        try await PostgresProvisioning.createRoles(as: cluster.superuser, app: app, owner: owner, logger: PostgresHarness.logger)
        try await PostgresProvisioning.createDatabase(
            as: cluster.superuser, name: "durability", owner: owner.username, logger: PostgresHarness.logger)
        let configuration = PostgresStorage.Configuration(
            host: "127.0.0.1", port: cluster.port, username: app.username, password: app.password,
            database: "durability", maximumConnections: 8, transactionDeadline: .seconds(5),
            migrationCredentials: owner)
        let fixture = try Fixture()
        let stopping = Flag()

        let acknowledged: [JobID] = try await Self.withRunning(configuration) { storage in
            try await storage.migrate()
            let store = try await fixture.insert(into: storage)
            return try await withThrowingTaskGroup(of: [JobID].self, returning: [JobID].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var acked: [JobID] = []
                        var index: Int64 = 0
                        // New commits stop once the stop is announced; commits in flight when the server dies fail.
                        while !stopping.isSet {
                            index += 1
                            let job = Job(
                                id: JobID(UUID()), ownerID: fixture.homeowner.id, categoryID: fixture.category.id, title: "W\(worker)-\(index)",
                                description: "durable", location: fixture.job.location, budget: fixture.job.budget, createdAt: Fixture.at(index))
                            var changes = ChangeSet()
                            changes.append(.insertJob(job))
                            changes.append(
                                .insertLedgerTransaction(
                                    try LedgerTransaction(
                                        kind: .hold, jobID: job.id, lines: Ledger.hold(Money(1_000 + index, .usd)),
                                        at: Fixture.at(index), ids: RandomIDs())))
                            do {
                                try await store.commit(changes)
                                acked.append(job.id)
                                stopping.acknowledge()
                            } catch {
                                break
                            }
                        }
                        return acked
                    }
                }
                group.addTask {
                    // Crash once enough writes were acknowledged, however slow the machine is (a minute at most).
                    let deadline = ContinuousClock.now + .seconds(60)
                    while stopping.acknowledged < 40, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                    stopping.set()
                    try await crash.perform(on: cluster)
                    // Back up soon, so a writer that leased just before the stop gets a connection again (and its
                    // commit is acknowledged or fails) instead of waiting for the pool's circuit breaker.
                    try await Task.sleep(for: .milliseconds(500))
                    try await PostgresHarness.restart(cluster)
                    return []
                }
                var all: [JobID] = []
                for try await ids in group { all += ids }
                return all
            }
        }
        #expect(acknowledged.count > 20, "only \(acknowledged.count) writes were acknowledged before the stop")

        try await Self.withRunning(configuration) { storage in
            let store = storage.tenant(fixture.tenant.id)
            var present: Set<JobID> = []
            var cursor: PageCursor?
            repeat {
                let page = try await store.jobs(JobQuery(cursor: cursor, limit: 100))
                present.formUnion(page.items.map(\.id))
                cursor = page.nextCursor
            } while cursor != nil
            let missing = Set(acknowledged).subtracting(present)
            #expect(missing.isEmpty, "\(missing.count) acknowledged change sets were lost")
            let entries = try await store.ledgerEntries(job: nil)
            // Every job present has its whole change set (atomicity), acknowledged or not.
            #expect(entries.count == 2 * (present.count - 1))
            #expect(try await store.unbalancedLedgerTransactions().isEmpty)
        }
    }
}
