import Testing
import TradesKit
import TradesKitTesting

/// The whole storage conformance suite against ``MemoryStorage``, one fresh storage per check.
@Test(arguments: StorageConformance.checks)
func conforms(_ check: StorageConformanceCheck) async throws {
    let storage = MemoryStorage()
    try await storage.migrate()
    try await check.run(storage)
}
