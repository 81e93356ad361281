import Foundation
import StorageSQLite
import TestSupport
import Testing
import TradesKit
import TradesKitTesting

@Suite("Durability")
struct DurabilityTests {
    @Test("a writer killed with SIGKILL loses no acknowledged accept, and the ledger balances", arguments: 1...3)
    func sigkill(round: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path

        let process = Process()
        process.executableURL = try TradesCommand.executable()
        process.arguments = ["durability-writer", "--database", path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Read acknowledgements until enough arrived (more each round, so the kill lands at different points), then kill.
        let wanted = 10 * round + Int.random(in: 0..<7)
        let (tenantLine, acks) = try await Task.detached { () throws -> (String, [String]) in
            var buffer = Data()
            var lines: [String] = []
            let deadline = Date().addingTimeInterval(60)
            while lines.filter({ $0.hasPrefix("ack ") }).count < wanted, Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            kill(process.processIdentifier, SIGKILL)
            return (lines.first { $0.hasPrefix("ready ") } ?? "", lines.filter { $0.hasPrefix("ack ") })
        }.value
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(acks.count >= wanted, "the writer acknowledged \(acks.count) accepts before the kill")

        let tenantID = try #require(TenantID(uuidString: String(tenantLine.dropFirst("ready ".count))))
        let storage = try SQLiteStorage(.file(path: path))
        let store = storage.tenant(tenantID)
        for ack in acks {
            let jobID = try #require(JobID(uuidString: String(ack.dropFirst("ack ".count))))
            let job = try #require(try await store.job(jobID), "acknowledged job \(jobID) is missing")
            #expect(job.status == .awarded)
            let escrow = try #require(try await store.escrow(job: jobID))
            #expect(escrow.status == .held)
            #expect(try await store.ledgerEntries(job: jobID).count == 2)
        }
        #expect(try await store.unbalancedLedgerTransactions().isEmpty)
    }
}
