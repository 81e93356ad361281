import Foundation
import PostgresNIO
@testable import StoragePostgres
import Testing
import TradesKit
import TradesKitTesting

/// Row-level security on every tenant table, each holding rows of two tenants: under one tenant's setting, the other's
/// rows cannot be seen, moved or deleted, by the app role or by the tables' owner (FORCE), and the policy is the
/// tenant predicate itself, not merely some policy.
@Suite("Postgres row-level security on every table")
struct PostgresEveryTableTests {
    typealias S = PostgresSecurityTests

    @Test("Under tenant A's setting, tenant B's rows of every table are invisible and untouchable, as the app and as the owner")
    func everyTable() async throws {
        let environment = try await PostgresHarness.environment()
        try await PostgresHarness.withFreshDatabase { storage in
            let a = try await StorageConformance.tenantWithEveryRecord(in: storage, slug: "acme")
            let b = try await StorageConformance.tenantWithEveryRecord(in: storage, slug: "beta")
            var owner = environment.owner
            owner.database = storage.configuration.database
            for (role, configuration) in [("app", storage.configuration), ("owner", owner)] {
                try await PostgresStorage.withTemporaryClient(
                    configuration.clientConfiguration(as: nil, maximumConnections: 1), logger: PostgresHarness.logger
                ) { client in
                    try await client.withConnection { connection in
                        for table in SchemaNames.tenantTables {
                            try await Self.attack(table, of: b, from: a, connection, role: role)
                        }
                    }
                }
            }
            // Nothing of B moved or went: its records read back as before through the storage.
            let db = storage.tenant(b)
            let users = try await db.users(role: nil, page: PageRequest(limit: 100)).items
            let jobs = try await db.jobs(JobQuery(limit: 100)).items
            let dead = try await db.deadLetters(limit: 10)
            #expect(users.count == 5 && jobs.count == 1 && dead.count == 1)
        }
    }

    /// Attacks `table`'s rows of `victim` with `attacker`'s tenant set.
    static func attack(_ table: String, of victim: TenantID, from attacker: TenantID, _ connection: PostgresConnection, role: String) async throws {
        let comment = Comment(rawValue: "\(table) as \(role)")
        // Both tenants have rows here, each visible under its own setting: the attack below has something to find.
        for tenant in [attacker, victim] {
            try await S.inTransaction(connection, tenant: tenant) { connection in
                let own = try await S.count(connection, PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table)"))
                #expect(own > 0, comment)
            }
        }
        let victimRows = PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) WHERE tenant_id = '\(victim.uuidString)'")
        try await S.inTransaction(connection, tenant: attacker) { connection in
            let seen = try await S.count(connection, victimRows)
            let foreign = try await S.count(
                connection, PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) WHERE tenant_id <> '\(attacker.uuidString)'"))
            #expect(seen == 0 && foreign == 0, comment)
        }
        // Moving the victim's rows into the attacker's tenant, or deleting them: no row, or no privilege (the app role may
        // not update the append-only tables, nor delete from most).
        for statement in [
            "UPDATE \(table) SET tenant_id = '\(attacker.uuidString)' WHERE tenant_id = '\(victim.uuidString)' RETURNING 1",
            "DELETE FROM \(table) WHERE tenant_id = '\(victim.uuidString)' RETURNING 1",
        ] {
            var changed = 0
            let state = try await S.tryFailure(connection, tenant: attacker, PostgresQuery(unsafeSQL: statement))
            if state == nil {
                try await S.inTransaction(connection, tenant: attacker) { connection in
                    changed = try await S.count(connection, PostgresQuery(unsafeSQL: statement))
                }
            }
            #expect(changed == 0 && (state == nil || state == "42501"), "\(comment): \(statement) → \(state ?? "\(changed) rows")")
        }
        try await S.inTransaction(connection, tenant: victim) { connection in
            let kept = try await S.count(connection, victimRows)
            #expect(kept > 0, comment)
        }
        // The policy is the tenant predicate, for reads and for writes alike.
        let policies = try await connection.query(
            "SELECT qual, with_check FROM pg_policies WHERE schemaname = 'public' AND tablename = \(table)", logger: PostgresHarness.logger
        ).collect()
        #expect(policies.count == 1, comment)
        for row in policies {
            let (qual, check) = try row.decode((String?, String?).self)
            #expect(
                qual?.contains("current_setting('app.tenant_id'") == true && qual?.contains("tenant_id =") == true, "\(comment): \(qual ?? "nil")")
            #expect(check == qual, "\(comment): WITH CHECK \(check ?? "nil")")
        }
    }
}
