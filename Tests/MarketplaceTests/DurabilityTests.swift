import Foundation
import ProcessSupport
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
        let output = TradesCommand.pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Read acknowledgements until enough arrived (more each round, so the kill lands at different points), then kill.
        // Only whole lines count: an acknowledgement is printed, newline included, after its commit.
        let wanted = 10 * round + Int.random(in: 0..<7)
        let printed = await TradesCommand.read(output, of: process) { Self.completeLines($0).filter { $0.hasPrefix("ack ") }.count >= wanted }
        kill(process.processIdentifier, SIGKILL)
        let ended = await TradesCommand.termination(of: process)
        let lines = Self.completeLines(printed)
        let (tenantLine, acks) = (lines.first { $0.hasPrefix("ready ") } ?? "", lines.filter { $0.hasPrefix("ack ") })
        #expect(ended == .signalled(SIGKILL))
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

    /// The lines of `text` that end with a newline (the last one may still be being written).
    private static func completeLines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}
