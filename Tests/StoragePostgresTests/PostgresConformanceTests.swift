import StoragePostgres
import Testing
import TradesKit
import TradesKitTesting

/// The storage conformance suite of TradesKitTesting against PostgreSQL, each check on a new database of its own:
/// directly, and through pgbouncer in transaction pooling mode.
// Serialized: every check creates a database and a pool of its own, and the test server has 100 connections.
@Suite("Postgres passes the storage conformance suite", .serialized)
struct PostgresConformanceTests {
    @Test("directly", arguments: StorageConformance.checks)
    func direct(_ check: StorageConformanceCheck) async throws {
        try await PostgresHarness.withFreshDatabase { storage in try await check.run(storage) }
    }

    @Test("through pgbouncer in transaction mode", arguments: StorageConformance.checks)
    func throughBouncer(_ check: StorageConformanceCheck) async throws {
        try await PostgresHarness.withFreshDatabase(throughBouncer: true) { storage in try await check.run(storage) }
    }
}
