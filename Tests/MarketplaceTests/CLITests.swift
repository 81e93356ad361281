import Foundation
import GRDB
import StorageSQLite
import TestSupport
import Testing
import TradesKit
import TradesKitTesting

/// The `trades` command, run as a user would run it.
@Suite("The trades command")
struct CLITests {
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
        struct Notice: Decodable, Equatable { let channel: String; let to: String; let text: String }
        let notices: [Notice]
    }

    @Test("`trades demo --json` runs the whole flow: blind bids, one accepted, the rest declined, money released, ledger balanced")
    func demo() async throws {
        let run = try await TradesCommand.run(["demo", "--json"])
        #expect(run.status == 0, "stderr: \(run.standardError)")
        let report = try JSONDecoder().decode(DemoReport.self, from: Data(run.standardOutput.utf8))
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
        // The outbox was told to the parties: the winner by e-mail and SMS, the others by e-mail, without amounts.
        let winner = try #require(report.bids.first { $0.status == "accepted" }?.contractor)
        let accepted = report.notices.filter { $0.text.hasSuffix("was accepted") }
        #expect(accepted.map(\.channel) == ["email", "sms"] && accepted.allSatisfy { $0.to == winner }, "\(accepted)")
        let declined = report.notices.filter { $0.text.hasSuffix("was not chosen") }
        #expect(Set(declined.map(\.to)) == Set(report.bids.filter { $0.status == "declined" }.map(\.contractor)))
        #expect(declined.allSatisfy { !$0.text.contains("USD") })
        #expect(report.notices.filter { $0.to == "Hana Homeowner" && $0.text.hasPrefix("New bid") }.count == 3)
        #expect(
            report.notices.contains(.init(channel: "sms", to: winner, text: "Demo Trades: Payment for “Fix a leaking kitchen sink” is on its way")))
    }

    @Test("`trades demo` narrates the flow step by step")
    func demoText() async throws {
        let run = try await TradesCommand.run(["demo"])
        #expect(run.status == 0, "stderr: \(run.standardError)")
        for phrase in ["Blind bidding", "accepted", "declined", "captured", "released", "Balanced: yes", "Notices sent from the outbox"] {
            #expect(run.standardOutput.contains(phrase), "missing \(phrase)")
        }
    }

    @Test("migrate, seed, tenant create/list, backup and ledger check work on one database file")
    func administration() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("trades.sqlite").path
        let backup = directory.appendingPathComponent("backup.sqlite").path

        #expect(try await TradesCommand.run(["migrate", "--database", database]).status == 0)
        let seed = try await TradesCommand.run(["seed", "--database", database, "--tenant", "demo", "--admin-email", "admin@demo.example", "--json"])
        #expect(seed.status == 0, "\(seed.standardError)")
        #expect(seed.standardOutput.contains("\"created\" : true"))
        let again = try await TradesCommand.run(["seed", "--database", database, "--tenant", "demo", "--admin-email", "admin@demo.example", "--json"])
        #expect(again.standardOutput.contains("\"created\" : false"), "seeding twice is idempotent")
        // An address of another kind of account is not made (or reported as) the tenant's admin.
        do {
            let storage = try SQLiteStorage(.file(path: database))
            let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
            let demo = try #require(try await storage.tenant(slug: "demo"))
            _ = try await market.users.register(
                in: demo.id, .init(email: "owner@demo.example", password: "a long enough password", displayName: "Owner", role: .homeowner))
        }
        let homeowner = try await TradesCommand.run(["seed", "--database", database, "--tenant", "demo", "--admin-email", "owner@demo.example"])
        #expect(homeowner.status != 0 && homeowner.standardError.contains("not an admin"), "\(homeowner)")
        #expect(
            try await TradesCommand.run(["tenant", "create", "--database", database, "--slug", "acme", "--name", "Acme Trades", "--currency", "EUR"])
                .status
                == 0)
        let duplicate = try await TradesCommand.run(["tenant", "create", "--database", database, "--slug", "acme", "--name", "Acme Again"])
        #expect(duplicate.status != 0)
        #expect(duplicate.standardError.contains("already exists"))
        let bad = try await TradesCommand.run(["tenant", "create", "--database", database, "--slug", "x", "--name", "X", "--currency", "XYZ"])
        #expect(bad.status != 0)

        let list = try await TradesCommand.run(["tenant", "list", "--database", database, "--json"])
        struct Row: Decodable { let slug: String; let currency: String }
        let rows = try JSONDecoder().decode([Row].self, from: Data(list.standardOutput.utf8))
        #expect(rows.map(\.slug).sorted() == ["acme", "demo"])
        #expect(rows.first { $0.slug == "acme" }?.currency == "EUR")

        #expect(try await TradesCommand.run(["backup", "--database", database, "--to", backup]).status == 0)
        let copy = try SQLiteStorage(.file(path: backup))
        #expect(try await copy.allTenants().map(\.slug).sorted() == ["acme", "demo"])
        let check = try await TradesCommand.run(["ledger", "check", "--database", database])
        #expect(check.status == 0)
        #expect(check.standardOutput.contains("demo: balanced"))

        // One raw ledger row that nothing balances (the ledger's triggers forbid UPDATE and DELETE, not INSERT): the check
        // fails and names its transaction, under its tenant only.
        let unbalanced = LedgerTransactionID(UUID())
        do {
            let storage = try SQLiteStorage(.file(path: database))
            let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
            let demo = try #require(try await storage.tenant(slug: "demo"))
            let owner = try #require(try await storage.tenant(demo.id).user(email: EmailAddress("owner@demo.example")))
            let category = try #require(try await market.catalog.categories(in: demo.id).first)
            let job = try await market.jobs.post(
                by: Principal(tenantID: demo.id, userID: owner.id, role: .homeowner),
                .init(
                    categoryID: category.id, title: "Fix the kitchen sink", description: "The trap under the sink drips.",
                    location: GeoPoint(latitude: 40.7128, longitude: -74.0060),
                    budget: BudgetRange(min: Money(10_000, .usd), max: Money(50_000, .usd))))
            try await DatabaseQueue(path: database).write { db in
                try db.execute(
                    sql: """
                        INSERT INTO ledger_entries (tenant_id, id, transaction_id, kind, job_id, account, amount, currency, posted_at)
                        VALUES (?, ?, ?, 'hold', ?, 'escrow_held', 700, 'USD', 0)
                        """,
                    arguments: [demo.id.uuidString, UUID().uuidString.lowercased(), unbalanced.uuidString, job.id.uuidString])
            }
        }
        let broken = try await TradesCommand.run(["ledger", "check", "--database", database])
        #expect(broken.status != 0, "\(broken.all)")
        #expect(broken.standardOutput.contains("demo: 1 unbalanced transactions: \(unbalanced)"), "\(broken.all)")
        #expect(broken.standardOutput.contains("acme: balanced"), "\(broken.all)")
        let other = try await TradesCommand.run(["ledger", "check", "--database", database, "--tenant", "acme"])
        #expect(other.status == 0 && other.standardOutput.contains("acme: balanced") && !other.standardOutput.contains("demo"), "\(other.all)")
    }
}
