import Foundation
import PostgresNIO
@testable import StoragePostgres
import Testing
import TradesKit
import TradesKitTesting

@Suite("PostgreSQL schema upgrades")
struct PostgresUpgradeTests {
    @Test("Migration 8 makes the settlements already owed due since they were set, through forced row-level security")
    func settlementRetries() async throws {
        let environment = try await PostgresHarness.environment()
        let name = "tk_m8_" + PostgresHarness.randomSecret().prefix(12)
        try await PostgresProvisioning.createDatabase(
            as: environment.admin, name: name, owner: environment.owner.username, logger: PostgresHarness.logger)
        var owner = environment.owner
        owner.database = name
        var configuration = environment.storage
        configuration.database = name
        configuration.maximumConnections = 2
        let ownerClient = owner.clientConfiguration(as: nil, maximumConnections: 1)
        try await PostgresStorage.withTemporaryClient(ownerClient, logger: PostgresHarness.logger) { client in
            try await Migrator(client: client, logger: PostgresHarness.logger, migrations: Array(Migration.all.prefix(7))).migrate()
        }

        let storage = PostgresStorage(configuration: configuration, logger: PostgresHarness.logger)
        try await PostgresHarness.running(storage) { storage in
            // Everything but the escrows is written as migration 7 has it; the escrows in SQL, as version 7 wrote them.
            let fixture = try Fixture()
            let store = try await fixture.insert(into: storage)
            let second = Job(
                id: JobID(UUID()), ownerID: fixture.homeowner.id, categoryID: fixture.category.id, title: "Retile the bathroom",
                description: "Twelve square metres", location: fixture.job.location, budget: fixture.job.budget, createdAt: Fixture.at(20))
            let jobs = [fixture.job, second]
            let bids = [
                fixture.bid(),
                Bid(
                    id: BidID(UUID()), jobID: second.id, contractorID: fixture.contractor.id, amount: Money(21_000, .usd),
                    message: "Next week", createdAt: Fixture.at(30)),
            ]
            var changes = ChangeSet()
            changes.append(.insertJob(second))
            for bid in bids { changes.append(.insertBid(bid)) }
            try await store.commit(changes)
            let escrows = [(EscrowID(UUID()), "'capture'"), (EscrowID(UUID()), "NULL")]
            try await PostgresStorage.withTemporaryClient(ownerClient, logger: PostgresHarness.logger) { client in
                try await client.withConnection { connection in
                    try await Database.transaction(on: connection, logger: PostgresHarness.logger) { connection in
                        try await connection.run("SELECT set_config('app.tenant_id', \(fixture.tenant.id.rawValue.uuidString), true)")
                        for (index, (id, instruction)) in escrows.enumerated() {
                            let bid = bids[index].id
                            try await connection.run(
                                PostgresQuery(
                                    unsafeSQL: """
                                        INSERT INTO escrows (tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency,
                                            fee_basis_points, status, payment_reference, refunded_amount, refunded_currency, released_amount,
                                            released_currency, platform_fee_amount, platform_fee_currency, instruction, created_at, updated_at)
                                        VALUES ('\(fixture.tenant.id.rawValue)', '\(id.rawValue)', '\(jobs[index].id.rawValue)', '\(bid.rawValue)',
                                            '\(fixture.homeowner.id.rawValue)', '\(fixture.contractor.id.rawValue)', 20000, 'USD', 1000, 'held',
                                            'pi_\(index)', 0, 'USD', 0, 'USD', 0, 'USD', \(instruction), \(1_000 + index), \(2_000 + index))
                                        """))
                        }
                    }
                }
            }

            try await storage.migrate()
            #expect(try await storage.appliedMigrations().map(\.version) == Migration.all.map(\.version))
            let owed = try #require(try await store.escrow(job: jobs[0].id))
            #expect(owed.instruction == .capture && owed.settlementDueAt == Date(millisecondsSince1970: 2_000) && owed.settlementFailures == 0)
            let settled = try #require(try await store.escrow(job: jobs[1].id))
            #expect(settled.instruction == nil && settled.settlementDueAt == nil && settled.settlementFailures == 0)
            #expect(try await store.pendingSettlements(dueBy: Date(millisecondsSince1970: 2_000), limit: 10).map(\.id) == [escrows[0].0])
            #expect(try await store.pendingSettlements(dueBy: Date(millisecondsSince1970: 1_999), limit: 10).isEmpty)
        }
        // The database is left for the cluster's removal at exit; with TRADESKIT_POSTGRES_URL, drop it now.
        if ProcessInfo.processInfo.environment["TRADESKIT_POSTGRES_URL"] != nil {
            try? await PostgresProvisioning.dropDatabase(as: environment.admin, name: name, logger: PostgresHarness.logger)
        }
    }
}
