import Foundation
import StorageSQLite
import Testing
import TradesKit
import TradesKitTesting

@Suite("Bad input: typed errors, and the database unchanged")
struct BadInputTests {
    /// Runs `body`, expects `code`, and checks the database content is byte-for-byte what it was.
    func rejects<T>(
        _ code: TradesKitError.Code, _ storage: SQLiteStorage, fields: Set<String>? = nil,
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
    ) async throws {
        let before = try await storage.dumpContent()
        do {
            _ = try await body()
            Issue.record("Expected \(code), but the call succeeded", sourceLocation: sourceLocation)
        } catch let error as TradesKitError {
            #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
            if let fields { #expect(Set(error.fieldErrors.map(\.field)) == fields, "got \(error.fieldErrors)", sourceLocation: sourceLocation) }
        }
        let after = try await storage.dumpContent()
        #expect(before == after, "the database changed", sourceLocation: sourceLocation)
    }

    @Test("every kind of bad input answers a typed error with a code and writes nothing")
    func badInput() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try SQLiteStorage(.file(path: directory.appendingPathComponent("db.sqlite").path))
        let clock = ManualClock()
        let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher(), clock: clock)
        let t = TestMarketView(market: market)
        let world = try await t.world()
        let job = world.job
        let usd = world.tenant.settings.currency
        let budget = BudgetRange(min: Money(100, usd), max: Money(200, usd))
        let long = String(repeating: "é", count: 121)
        let m = market

        // Jobs.
        try await rejects(
            .validationFailed, storage,
            fields: [
                "title", "description", "location.latitude", "location.longitude",
                "budget.min.amount", "budget.max.currency", "budget.max.amount",
            ]
        ) {
            try await m.jobs.post(
                by: world.owner,
                .init(
                    categoryID: world.category, title: "  ", description: "", location: GeoPoint(latitude: 91, longitude: .nan),
                    budget: BudgetRange(min: Money(0, usd), max: Money(-1, .eur))))
        }
        try await rejects(.validationFailed, storage, fields: ["title"]) {
            try await m.jobs.post(
                by: world.owner, .init(categoryID: world.category, title: long, description: "d", location: world.home, budget: budget))
        }
        try await rejects(.validationFailed, storage, fields: ["description"]) {
            try await m.jobs.post(
                by: world.owner,
                .init(
                    categoryID: world.category, title: "Title", description: String(repeating: "x", count: 5_001),
                    location: world.home, budget: budget))
        }
        try await rejects(.validationFailed, storage, fields: ["budget"]) {
            try await m.jobs.post(
                by: world.owner,
                .init(
                    categoryID: world.category, title: "Title", description: "d", location: world.home,
                    budget: BudgetRange(min: Money(300, usd), max: Money(200, usd))))
        }
        try await rejects(.validationFailed, storage, fields: ["categoryId"]) {
            try await m.jobs.post(
                by: world.owner, .init(categoryID: CategoryID(UUID()), title: "Title", description: "d", location: world.home, budget: budget))
        }
        try await rejects(.validationFailed, storage, fields: ["title"]) {
            try await m.jobs.post(
                by: world.owner, .init(categoryID: world.category, title: "Bad\u{0}title", description: "d", location: world.home, budget: budget))
        }
        try await rejects(.notFound, storage) { try await m.jobs.get(by: world.owner, JobID(UUID())) }
        try await rejects(.forbidden, storage) { try await m.jobs.start(by: world.owner, job.id) }
        try await rejects(.invalidTransition, storage) { try await m.jobs.approve(by: world.owner, job.id) }
        try await rejects(.validationFailed, storage, fields: ["limit", "q"]) {
            try await m.jobs.search(by: world.owner, JobQuery(text: long, limit: 0))
        }
        try await rejects(.validationFailed, storage, fields: ["cursor"]) { try PageCursor(token: "not-a-cursor") }

        // Bids.
        for amount in [Money(0, usd), Money(-100, usd)] {
            try await rejects(.validationFailed, storage, fields: ["amount.amount"]) {
                try await m.bids.submit(by: world.pro, on: job.id, .init(amount: amount))
            }
        }
        try await rejects(.validationFailed, storage, fields: ["amount.currency"]) {
            try await m.bids.submit(by: world.pro, on: job.id, .init(amount: Money(500, .gbp)))
        }
        try await rejects(.validationFailed, storage, fields: ["message"]) {
            try await m.bids.submit(by: world.pro, on: job.id, .init(amount: Money(500, usd), message: String(repeating: "m", count: 2_001)))
        }
        try await rejects(.notFound, storage) { try await m.bids.submit(by: world.pro, on: JobID(UUID()), .init(amount: Money(500, usd))) }
        try await rejects(.notFound, storage) { try await m.bids.accept(by: world.owner, BidID(UUID())) }

        // People.
        try await rejects(.validationFailed, storage, fields: ["email", "password", "phone", "displayName"]) {
            try await m.users.register(
                in: world.tenant.id, .init(email: "not-an-email", password: "short", displayName: "", phone: "555-1234", role: .homeowner))
        }
        try await rejects(.conflict, storage) {
            try await m.users.register(
                in: world.tenant.id, .init(email: "OWNER@bad.example", password: TestMarket.password, displayName: "Dup", role: .homeowner))
        }
        try await rejects(.forbidden, storage) {
            try await m.users.register(
                in: world.tenant.id, .init(email: "root@bad.example", password: TestMarket.password, displayName: "Root", role: .admin))
        }
        try await rejects(.notFound, storage) {
            try await m.users.register(
                in: TenantID(UUID()), .init(email: "x@bad.example", password: TestMarket.password, displayName: "X", role: .homeowner))
        }
        try await rejects(.validationFailed, storage, fields: ["serviceArea.radiusKm", "trades"]) {
            try await m.contractors.saveProfile(by: world.pro, .init(trades: [], serviceArea: GeoCircle(center: world.home, radiusKm: 0)))
        }
        try await rejects(.validationFailed, storage, fields: ["trades"]) {
            try await m.contractors.saveProfile(
                by: world.pro, .init(trades: [CategoryID(UUID())], serviceArea: GeoCircle(center: world.home, radiusKm: 5)))
        }
        // Dates outside what storages and RFC 3339 hold are refused, not crashed on (a millisecond count beyond Int64).
        for date in [
            Date(timeIntervalSince1970: 1e300), Date(timeIntervalSince1970: -62_167_219_201), Date(timeIntervalSince1970: .nan),
            Date(timeIntervalSince1970: 253_402_300_800),
        ] {
            try await rejects(.validationFailed, storage, fields: ["insuranceExpiresAt", "licence.expiresAt"]) {
                try await m.contractors.saveProfile(
                    by: world.pro,
                    .init(
                        trades: [CategoryID(UUID())], serviceArea: GeoCircle(center: world.home, radiusKm: 5),
                        licence: Licence(number: "L-1", region: "NY", expiresAt: date), insuranceExpiresAt: date))
            }
        }
        #expect(Date(timeIntervalSince1970: 1e300).millisecondsSince1970 == .max)
        #expect(Date(timeIntervalSince1970: -1e300).millisecondsSince1970 == .min)

        // Tenants.
        try await rejects(
            .validationFailed, storage, fields: ["slug", "displayName", "platformFeeBasisPoints", "branding.fromEmail", "branding.primaryColor"]
        ) {
            try await m.tenants.create(
                by: TestMarket.op,
                .init(
                    slug: "Bad Slug!", displayName: "",
                    settings: TenantSettings(
                        currency: usd, platformFeeBasisPoints: 20_000, branding: Branding(name: "B", primaryColor: "red", fromEmail: "nope"))))
        }
        try await rejects(.conflict, storage) {
            try await m.tenants.create(by: TestMarket.op, .init(slug: world.tenant.slug, displayName: "Again", settings: world.tenant.settings))
        }
        // A logo URL is printable ASCII: a NUL (which PostgreSQL refuses in JSON), a control character or a space is refused.
        for logo in ["https://cdn.example/logo\u{0}.png", "https://cdn.example/\u{1B}logo.png", "https://cdn.example/my logo.png"] {
            try await rejects(.validationFailed, storage, fields: ["branding.logoURL"]) {
                try await m.tenants.create(
                    by: TestMarket.op,
                    .init(
                        slug: "logo-test", displayName: "Logo",
                        settings: TenantSettings(
                            currency: usd, platformFeeBasisPoints: 500,
                            branding: Branding(name: "Logo", logoURL: logo, fromEmail: "hello@logo.example"))))
            }
        }

        // Disputes, reviews, messages.
        try await rejects(.validationFailed, storage, fields: ["reason"]) { try await m.disputes.open(by: world.owner, job: job.id, reason: "short") }
        try await rejects(.validationFailed, storage, fields: ["rating"]) {
            try await m.reviews.submit(by: world.owner, job: job.id, rating: 0, text: "")
        }
        try await rejects(.validationFailed, storage, fields: ["body"]) {
            try await m.messages.post(by: world.owner, job: job.id, body: String(repeating: "b", count: 4_001))
        }
        try await rejects(.forbidden, storage) { try await m.messages.post(by: world.owner, job: job.id, body: "Not awarded yet") }
    }

    /// A minimal world for the bad-input test, on the caller's marketplace.
    struct TestMarketView {
        let market: Marketplace

        struct World {
            let tenant: Tenant
            let owner: Principal
            let pro: Principal
            let category: CategoryID
            let home: GeoPoint
            let job: Job
        }

        func world() async throws -> World {
            let tenant = try await market.tenants.create(
                by: TestMarket.op,
                .init(
                    slug: "bad", displayName: "Bad",
                    settings: TenantSettings(
                        currency: .usd, platformFeeBasisPoints: 500, branding: Branding(name: "Bad", fromEmail: "no-reply@bad.example"))))
            let category = try #require(try await market.catalog.categories(in: tenant.id).first).id
            let owner = try await market.users.register(
                in: tenant.id, .init(email: "owner@bad.example", password: TestMarket.password, displayName: "O", role: .homeowner))
            let pro = try await market.users.register(
                in: tenant.id, .init(email: "pro@bad.example", password: TestMarket.password, displayName: "P", role: .contractor))
            let ownerP = Principal(tenantID: tenant.id, userID: owner.id, role: .homeowner)
            let proP = Principal(tenantID: tenant.id, userID: pro.id, role: .contractor)
            let home = GeoPoint(latitude: 48.85, longitude: 2.35)
            _ = try await market.contractors.saveProfile(by: proP, .init(trades: [category], serviceArea: GeoCircle(center: home, radiusKm: 10)))
            let job = try await market.jobs.post(
                by: ownerP,
                .init(
                    categoryID: category, title: "Paint", description: "Two rooms", location: home,
                    budget: BudgetRange(min: Money(100, .usd), max: Money(200, .usd))))
            return World(tenant: tenant, owner: ownerP, pro: proP, category: category, home: home, job: job)
        }
    }
}
