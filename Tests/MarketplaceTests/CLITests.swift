import Foundation
import StorageSQLite
import Testing
import TradesKit

/// The `trades` command, run as a user would run it.
@Suite("The trades command")
struct CLITests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func trades(_ arguments: [String]) async throws -> Run {
        let process = Process()
        process.executableURL = try DurabilityTests.tradesExecutable()
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes while the process runs so a large output cannot block it.
        async let stdout = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let stderr = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let (o, e) = await (stdout, stderr)
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    struct DemoReport: Decodable {
        struct Bid: Decodable { let id: String; let contractor: String; let status: String }
        struct Visibility: Decodable { let viewer: String; let seesBids: [String] }
        struct Escrow: Decodable { let status: String }
        let acceptedBidID: String
        let bids: [Bid]
        let visibility: [Visibility]
        let finalJobStatus: String
        let escrow: Escrow
        let ledgerBalanced: Bool
        let events: [String]
    }

    @Test("`trades demo --json` runs the whole flow: blind bids, one accepted, the rest declined, money released, ledger balanced")
    func demo() async throws {
        let run = try await Self.trades(["demo", "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try JSONDecoder().decode(DemoReport.self, from: Data(run.stdout.utf8))
        #expect(report.bids.count == 3)
        #expect(report.bids.filter { $0.status == "accepted" }.map(\.id) == [report.acceptedBidID])
        #expect(report.bids.filter { $0.status == "declined" }.count == 2)
        let owner = try #require(report.visibility.first)
        #expect(owner.seesBids.count == 3)
        for contractor in report.visibility.dropFirst() {
            #expect(contractor.seesBids.count == 1)
            #expect(contractor.seesBids[0].hasPrefix(contractor.viewer), "\(contractor.viewer) sees only their own bid")
        }
        #expect(report.finalJobStatus == "closed")
        #expect(report.escrow.status == "released")
        #expect(report.ledgerBalanced)
        #expect(report.events.contains("bid.accepted"))
    }

    @Test("`trades demo` narrates the flow step by step")
    func demoText() async throws {
        let run = try await Self.trades(["demo"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for phrase in ["Blind bidding", "accepted", "declined", "captured", "released", "Balanced: yes"] {
            #expect(run.stdout.contains(phrase), "missing \(phrase)")
        }
    }

    @Test("migrate, seed, tenant create/list, backup and ledger check work on one database file")
    func administration() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("trades.sqlite").path
        let backup = directory.appendingPathComponent("backup.sqlite").path

        #expect(try await Self.trades(["migrate", "--database", database]).status == 0)
        let seed = try await Self.trades(["seed", "--database", database, "--tenant", "demo", "--admin-email", "admin@demo.example", "--json"])
        #expect(seed.status == 0, "\(seed.stderr)")
        #expect(seed.stdout.contains("\"created\" : true"))
        let again = try await Self.trades(["seed", "--database", database, "--tenant", "demo", "--admin-email", "admin@demo.example", "--json"])
        #expect(again.stdout.contains("\"created\" : false"), "seeding twice is idempotent")
        #expect(
            try await Self.trades(["tenant", "create", "--database", database, "--slug", "acme", "--name", "Acme Trades", "--currency", "EUR"]).status
                == 0)
        let duplicate = try await Self.trades(["tenant", "create", "--database", database, "--slug", "acme", "--name", "Acme Again"])
        #expect(duplicate.status != 0)
        #expect(duplicate.stderr.contains("already exists"))
        let bad = try await Self.trades(["tenant", "create", "--database", database, "--slug", "x", "--name", "X", "--currency", "XYZ"])
        #expect(bad.status != 0)

        let list = try await Self.trades(["tenant", "list", "--database", database, "--json"])
        struct Row: Decodable { let slug: String; let currency: String }
        let rows = try JSONDecoder().decode([Row].self, from: Data(list.stdout.utf8))
        #expect(rows.map(\.slug).sorted() == ["acme", "demo"])
        #expect(rows.first { $0.slug == "acme" }?.currency == "EUR")

        #expect(try await Self.trades(["backup", "--database", database, "--to", backup]).status == 0)
        let copy = try SQLiteStorage(.file(path: backup))
        #expect(try await copy.allTenants().map(\.slug).sorted() == ["acme", "demo"])
        let check = try await Self.trades(["ledger", "check", "--database", database])
        #expect(check.status == 0)
        #expect(check.stdout.contains("demo: balanced"))
    }
}
