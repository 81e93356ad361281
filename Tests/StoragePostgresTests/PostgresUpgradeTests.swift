import Foundation
import PostgresNIO
@testable import StoragePostgres
import Testing
import TradesKit
import TradesKitTesting

@Suite("PostgreSQL schema upgrades")
struct PostgresUpgradeTests {
    @Test(
        "Migration 8 makes the settlements already owed due since they were set, through forced row-level security; migration 9 turns both notice channels on for the users already there"
    )
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
            // Everything but the users and escrows is written as migration 7 has it; those in SQL, as version 7 wrote them
            // (today's storage writes columns version 7 lacks).
            let fixture = try Fixture()
            let store = storage.tenant(fixture.tenant.id)
            var setup = ChangeSet()
            setup.append(.insertTenant(fixture.tenant))
            setup.append(.insertCategory(fixture.category))
            try await store.commit(setup)
            /// Runs `statements` as the owner, in one transaction, in the fixture's tenant.
            func asOwner(_ statements: [String]) async throws {
                try await PostgresStorage.withTemporaryClient(ownerClient, logger: PostgresHarness.logger) { client in
                    try await client.withConnection { connection in
                        try await Database.transaction(on: connection, logger: PostgresHarness.logger) { connection in
                            try await connection.run("SELECT set_config('app.tenant_id', \(fixture.tenant.id.rawValue.uuidString), true)")
                            for statement in statements { try await connection.run(PostgresQuery(unsafeSQL: statement)) }
                        }
                    }
                }
            }
            try await asOwner(
                [fixture.homeowner, fixture.contractor].map { user in
                    """
                    INSERT INTO users (tenant_id, id, email, display_name, phone, role, password_hash, email_verified, suspended,
                        session_generation, created_at, version)
                    VALUES ('\(fixture.tenant.id.rawValue)', '\(user.id.rawValue)', '\(user.email.value)', '\(user.displayName)',
                        \(user.phone.map { "'\($0.value)'" } ?? "NULL"), '\(user.role.rawValue)', \(user.passwordHash.map { "'\($0)'" } ?? "NULL"),
                        \(user.emailVerified), \(user.suspended), 0, \(user.createdAt.millisecondsSince1970), 1)
                    """
                })
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
            changes.append(.insertJob(fixture.job))
            changes.append(.insertJob(second))
            for bid in bids { changes.append(.insertBid(bid)) }
            try await store.commit(changes)
            let escrows = [(EscrowID(UUID()), "'capture'"), (EscrowID(UUID()), "NULL")]
            try await asOwner(
                escrows.enumerated().map { index, escrow in
                    let (id, instruction) = escrow
                    return """
                        INSERT INTO escrows (tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency,
                            fee_basis_points, status, payment_reference, refunded_amount, refunded_currency, released_amount,
                            released_currency, platform_fee_amount, platform_fee_currency, instruction, created_at, updated_at)
                        VALUES ('\(fixture.tenant.id.rawValue)', '\(id.rawValue)', '\(jobs[index].id.rawValue)', '\(bids[index].id.rawValue)',
                            '\(fixture.homeowner.id.rawValue)', '\(fixture.contractor.id.rawValue)', 20000, 'USD', 1000, 'held',
                            'pi_\(index)', 0, 'USD', 0, 'USD', 0, 'USD', \(instruction), \(1_000 + index), \(2_000 + index))
                        """
                })

            try await storage.migrate()
            #expect(try await storage.appliedMigrations().map(\.version) == Migration.all.map(\.version))
            let owed = try #require(try await store.escrow(job: jobs[0].id))
            #expect(owed.instruction == .capture && owed.settlementDueAt == Date(millisecondsSince1970: 2_000) && owed.settlementFailures == 0)
            // Migration 9: the users already there want notices by both channels.
            #expect(try await store.user(fixture.homeowner.id) == fixture.homeowner && fixture.homeowner.notifications == NotificationPreferences())
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
