import ArgumentParser
import Foundation
import StorageSQLite
import TradesKit
import TradesKitTesting

/// Runs the whole marketplace flow on a temporary SQLite file with in-memory providers, printing each step.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole marketplace flow on a temporary SQLite database and print each step."
    )

    @Flag(help: "Print one JSON document instead of the step-by-step text.") var json = false
    @Flag(help: "Keep the temporary database and print its path.") var keep = false
    @Option(
        help: """
            Run on this PostgreSQL database instead (postgres://APP_ROLE:PASSWORD@HOST:PORT/DATABASE, migrated with \
            `trades migrate`); the demo adds a tenant of its own, named demo-XXXXXXXX.
            """)
    var database: String?

    func run() async throws {
        if let database {
            let options = try DatabaseOptions.parse(["--database", database])
            guard options.isPostgres else {
                throw ValidationError("--database takes a postgres:// URL; without it the demo uses a temporary SQLite file.")
            }
            let slug = "demo-" + UUID().uuidString.prefix(8).lowercased()
            let report = try await options.withStorage { storage in
                try await DemoScenario(storage: storage, databaseLabel: options.displayName, tenantSlug: slug, narrate: !json).run()
            }
            if json { try printJSON(report) }
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(at: directory) } }
        let path = directory.appendingPathComponent("trades.sqlite").path
        let report = try await DemoScenario(storage: try SQLiteStorage(.file(path: path)), databaseLabel: path, tenantSlug: "demo", narrate: !json)
            .run()
        if json { try printJSON(report) } else if keep { print("\nThe database is kept at \(path).") }
    }
}

/// The demo's steps. Kept apart from the command so tests can run it and check the report.
struct DemoScenario {
    let storage: any Storage
    /// Where the storage is, for the narration (a path, or a PostgreSQL URL without its password).
    let databaseLabel: String
    let tenantSlug: String
    let narrate: Bool

    struct Report: Encodable {
        var database: String
        var tenant: String
        var jobID: JobID?
        var bids: [BidRow] = []
        var visibility: [Visibility] = []
        var acceptedBidID: BidID?
        var finalJobStatus: String?
        var escrow: EscrowRow?
        var ledger: [LedgerRow] = []
        var ledgerBalanced = false
        var events: [String] = []
        var notices: [NoticeRow] = []
    }

    struct NoticeRow: Encodable {
        let channel: String
        let to: String
        let text: String
    }

    struct BidRow: Encodable {
        let id: BidID
        let contractor: String
        let amount: Money
        let status: String
    }

    struct Visibility: Encodable {
        let viewer: String
        let seesBids: [String]
    }

    struct EscrowRow: Encodable {
        let status: String
        let amount: Money
        let released: Money
        let platformFee: Money
    }

    struct LedgerRow: Encodable {
        let kind: String
        let account: String
        let amount: Money
    }

    private func say(_ text: String) { if narrate { print(text) } }

    func run() async throws -> Report {
        let payments = MemoryPaymentProcessor()
        let market = Marketplace(storage: storage, payments: payments, passwordHasher: MemoryPasswordHasher())
        var report = Report(database: databaseLabel, tenant: tenantSlug)
        say("TradesKit demo: the whole marketplace flow on \(databaseLabel) with in-memory payment, e-mail and SMS providers.\n")

        // 1. A tenant, its people.
        var settings = TenantSettings.defaults(named: "Demo Trades")
        settings.branding.smsSender = "DemoTrades"
        let tenant = try await market.tenants.create(
            by: PlatformOperator(label: "demo"),
            .init(slug: tenantSlug, displayName: "Demo Trades", settings: settings))
        let catalogue = try await market.catalog.categories(in: tenant.id)
        guard let plumbing = catalogue.first(where: { $0.slug == "plumbing" }) else { throw ValidationError("The catalogue has no plumbing") }
        let fee = percent(basisPoints: tenant.settings.platformFeeBasisPoints)
        say("1. Tenant 'demo' created: \(tenant.settings.currency.code), platform fee \(fee), \(catalogue.count) trade categories.")

        let admin = try await market.users.createAdmin(
            by: PlatformOperator(label: "demo"), in: tenant.id, email: "admin@demo.example",
            displayName: "Avery Admin", password: "correct horse battery")
        let adminP = Principal(tenantID: tenant.id, userID: admin.id, role: .admin)
        let homeowner = try await market.users.register(
            in: tenant.id,
            .init(
                email: "hana@demo.example", password: "correct horse battery",
                displayName: "Hana Homeowner", phone: "+14155550100", role: .homeowner))
        var people = [homeowner]
        let owner = Principal(tenantID: tenant.id, userID: homeowner.id, role: .homeowner)
        let home = GeoPoint(latitude: 37.7749, longitude: -122.4194)
        var contractors: [(name: String, principal: Principal)] = []
        for (index, name) in ["Ada's Plumbing", "Bo's Pipes", "Cy & Sons"].enumerated() {
            let user = try await market.users.register(
                in: tenant.id,
                .init(
                    email: "contractor\(index + 1)@demo.example", password: "correct horse battery",
                    displayName: name, phone: "+1415555011\(index)", role: .contractor))
            people.append(user)
            let principal = Principal(tenantID: tenant.id, userID: user.id, role: .contractor)
            _ = try await market.contractors.saveProfile(
                by: principal,
                .init(
                    headline: "\(name): licensed plumbers", trades: [plumbing.id],
                    serviceArea: GeoCircle(center: GeoPoint(latitude: 37.78 + Double(index) / 100, longitude: -122.41), radiusKm: 25)))
            contractors.append((name, principal))
        }
        // As if each had followed the link of their verification e-mail: notices go to confirmed addresses only.
        for person in people { _ = try await market.users.markEmailVerified(in: tenant.id, person.id) }
        say(
            "2. Registered homeowner Hana, admin Avery, and contractors \(contractors.map(\.name).joined(separator: ", ")), "
                + "each with a plumbing profile; each confirmed their e-mail address."
        )

        // 2. A job and three blind bids.
        let job = try await market.jobs.post(
            by: owner,
            .init(
                categoryID: plumbing.id, title: "Fix a leaking kitchen sink", description: "Water drips from the trap under the sink.",
                location: home, budget: BudgetRange(min: Money(15_000, .usd), max: Money(40_000, .usd))))
        report.jobID = job.id
        say("3. Hana posted '\(job.title)' (budget \(job.budget.min) – \(job.budget.max)).")

        let amounts: [Int64] = [32_500, 27_800, 35_000]
        var bids: [(name: String, bid: Bid)] = []
        for (contractor, amount) in zip(contractors, amounts) {
            let bid = try await market.bids.submit(
                by: contractor.principal, on: job.id, .init(amount: Money(amount, .usd), message: "Can come tomorrow."))
            say("\(bids.isEmpty ? "4." : "  ") \(contractor.name) bid \(bid.amount) (sealed).")
            bids.append((contractor.name, bid))
        }
        let names = Dictionary(uniqueKeysWithValues: bids.map { ($0.bid.id, $0.name) })

        // 3. What each party can see.
        say("\n5. Blind bidding: what each party sees of the bids on this job")
        for (name, principal) in [("Hana (owner)", owner)] + contractors.map({ ($0.name, $0.principal) }) {
            let visible = try await market.bids.list(by: principal, job: job.id)
            report.visibility.append(Visibility(viewer: name, seesBids: visible.map { "\(names[$0.id] ?? "?"): \($0.amount)" }))
            say(
                "   \(name.padded(16)) sees \(visible.count) bid(s): "
                    + visible.map { "\(names[$0.id] ?? "?") \($0.amount)" }.joined(separator: ", "))
        }

        // 4. Accept the cheapest; the others are declined in the same change set.
        guard let cheapest = bids.min(by: { $0.bid.amount.amount < $1.bid.amount.amount }) else { throw ValidationError("No bids") }
        let acceptance = try await market.bids.accept(by: owner, cheapest.bid.id)
        report.acceptedBidID = acceptance.accepted.id
        say("\n6. Hana accepted \(cheapest.name)'s bid of \(acceptance.accepted.amount). In the same transaction:")
        say(
            "   job → \(acceptance.job.status.rawValue); escrow \(acceptance.escrow.status.rawValue) \(acceptance.escrow.amount); declined: "
                + acceptance.declined.map { names[$0.id] ?? "?" }.joined(separator: ", "))
        for bid in try await market.bids.list(by: owner, job: job.id) {
            report.bids.append(BidRow(id: bid.id, contractor: names[bid.id] ?? "?", amount: bid.amount, status: bid.status.rawValue))
            say("   \((names[bid.id] ?? "?").padded(16)) \(bid.amount)  \(bid.status.rawValue)")
        }

        // 5. The work and the money.
        let winner = contractors.first { $0.principal.userID == acceptance.accepted.contractorID }?.principal ?? owner
        _ = try await market.messages.post(by: winner, job: job.id, body: "I'll be there at 9am.")
        _ = try await market.messages.post(by: owner, job: job.id, body: "Great, see you then.")
        _ = try await market.jobs.start(by: winner, job.id)
        say("\n7. \(cheapest.name) and Hana agreed a time by message; \(cheapest.name) started the work: the held payment was captured.")
        _ = try await market.jobs.complete(by: winner, job.id)
        say("8. \(cheapest.name) marked the job complete.")
        let closed = try await market.jobs.approve(by: owner, job.id)
        report.finalJobStatus = closed.status.rawValue
        let escrow = try await market.payments.escrow(by: owner, job: job.id)
        report.escrow = EscrowRow(
            status: escrow.status.rawValue, amount: escrow.amount, released: escrow.releasedAmount, platformFee: escrow.platformFee)
        say(
            "9. Hana approved: job \(closed.status.rawValue); \(escrow.releasedAmount) released to \(cheapest.name), "
                + "platform fee \(escrow.platformFee)."
        )
        _ = try await market.reviews.submit(by: owner, job: job.id, rating: 5, text: "Quick and tidy.")
        _ = try await market.reviews.submit(by: winner, job: job.id, rating: 5, text: "Clear brief, paid promptly.")
        say("10. Both sides reviewed each other; both reviews are now visible.")

        // 6. The books.
        say("\nLedger (debits positive, credits negative; every transaction sums to zero):")
        for entry in try await market.payments.ledger(by: adminP, job: job.id) {
            report.ledger.append(LedgerRow(kind: entry.kind.rawValue, account: entry.account.rawValue, amount: entry.amount))
            say(
                "   \(entry.kind.rawValue.padded(8)) \(entry.account.rawValue.padded(26)) \(entry.amount)"
            )
        }
        report.ledgerBalanced = try await market.payments.unbalancedTransactions(by: PlatformOperator(label: "demo"), in: tenant.id).isEmpty
        say("   Balanced: \(report.ledgerBalanced ? "yes" : "NO")")

        say("\nEvents in the outbox (what notifications and webhooks will deliver):")
        var page = try await market.events.feed(by: adminP, page: PageRequest(limit: 100))
        while true {
            report.events += page.items.map(\.type)
            guard let next = page.nextCursor else { break }
            page = try await market.events.feed(by: adminP, page: PageRequest(cursor: next, limit: 100))
        }
        let counts = Dictionary(report.events.map { ($0, 1) }, uniquingKeysWith: +)
        for (type, count) in counts.sorted(by: { $0.key < $1.key }) { say("   \(type) ×\(count)") }

        // 7. The notices: the outbox delivered by e-mail and SMS (in memory here; SendGrid and Twilio in production).
        let email = MemoryEmailSender()
        let sms = MemorySMSSender()
        let sent = try await NotificationService(marketplace: market, email: email, sms: sms).deliverPending(in: tenant.id, limit: 500)
        let byAddress = Dictionary(people.map { ($0.email.value, $0.displayName) }, uniquingKeysWith: { first, _ in first })
        let byPhone = Dictionary(
            people.compactMap { user in user.phone.map { ($0.value, user.displayName) } }, uniquingKeysWith: { first, _ in first })
        report.notices =
            email.sent.map { NoticeRow(channel: "email", to: byAddress[$0.to.value] ?? "?", text: $0.subject) }
            + sms.sent.map { NoticeRow(channel: "sms", to: byPhone[$0.to.value] ?? "?", text: $0.body) }
        say("\nNotices sent from the outbox (\(sent.delivered) events): \(sent.emails) e-mails, \(sent.sms) SMS")
        for notice in report.notices { say("   \(notice.channel.padded(5)) \(notice.to.padded(16)) \(notice.text)") }
        say("\nPayment processor calls: \(payments.calls.count) (\(payments.calls.map(\.idempotencyKey).joined(separator: ", "))).")
        return report
    }
}
