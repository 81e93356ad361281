import Foundation
import StorageSQLite
import Testing
import TradesKitTesting

/// The storage conformance suite of TradesKitTesting, against SQLite in memory and on disk.
@Suite("SQLite passes the storage conformance suite")
struct SQLiteConformanceTests {
    @Test("in memory", arguments: StorageConformance.checks)
    func inMemory(_ check: StorageConformanceCheck) async throws {
        try await check.run(try SQLiteStorage(.inMemory))
    }

    @Test("on disk, WAL, synchronous=FULL", arguments: StorageConformance.checks)
    func onDisk(_ check: StorageConformanceCheck) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await check.run(try SQLiteStorage(.file(path: directory.appendingPathComponent("db.sqlite").path)))
    }
}
