import Foundation
import StorageSQLite
import Testing
import TradesKit
import TestSupport
import TradesKitTesting

/// The storages every service test runs on.
enum StorageKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqliteMemory = "SQLite in memory"
    case sqliteFile = "SQLite file"
    case memory = "MemoryStorage"

    var testDescription: String { rawValue }

    func make() throws -> (any Storage, cleanup: @Sendable () -> Void) {
        switch self {
        case .sqliteMemory:
            return (try SQLiteStorage(.inMemory), {})
        case .sqliteFile:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let storage = try SQLiteStorage(.file(path: directory.appendingPathComponent("db.sqlite").path))
            return (storage, { try? FileManager.default.removeItem(at: directory) })
        case .memory:
            return (MemoryStorage(), {})
        }
    }
}

/// A marketplace on a fresh storage with a manual clock, in-memory providers, and one populated tenant.
struct TestMarket {
    let market: Marketplace
    let storage: any Storage
    let clock: ManualClock
    let payments: MemoryPaymentProcessor
    let email: MemoryEmailSender
    let cleanup: @Sendable () -> Void

    static let op = PlatformOperator(label: "tests")
    static let password = "correct horse battery staple"

    /// - Parameter processor: what the marketplace calls for payments, given the fake that records them (itself by default).
    init(
        _ kind: StorageKind = .sqliteMemory, identity: IdentityConfiguration? = nil,
        configuration: Marketplace.Configuration = Marketplace.Configuration(),
        processor: (MemoryPaymentProcessor) -> any PaymentProcessor = { $0 }
    ) throws {
        var configuration = configuration
        if let identity { configuration.identity = identity }
        let (storage, cleanup) = try kind.make()
        self.storage = storage
        self.cleanup = cleanup
        clock = ManualClock()
        payments = MemoryPaymentProcessor()
        email = MemoryEmailSender()
        market = Marketplace(
            storage: storage, payments: processor(payments), passwordHasher: MemoryPasswordHasher(), emailSender: email, clock: clock,
            ids: UUIDv7Generator(clock: clock), configuration: configuration)
    }

    /// One tenant with an admin, a homeowner and contractors that can bid on plumbing jobs around `home`.
    struct World {
        let tenant: Tenant
        let plumbing: TradeCategory
        let roofing: TradeCategory
        let admin: Principal
        let owner: Principal
        let otherOwner: Principal
        let contractors: [Principal]
    }

    static let home = GeoPoint(latitude: 40.7128, longitude: -74.0060)

    func makeWorld(
        slug: String = "acme", contractors count: Int = 3, currency: Currency = .usd, vetting: Bool = false, smsSender: String? = nil
    ) async throws -> World {
        var settings = TenantSettings(
            currency: currency, platformFeeBasisPoints: 1_000,
            branding: Branding(name: slug, fromEmail: "no-reply@\(slug).example", smsSender: smsSender))
        settings.policies.vettingRequiredToBid = vetting
        let tenant = try await market.tenants.create(by: Self.op, .init(slug: slug, displayName: slug.capitalized, settings: settings))
        let categories = try await market.catalog.categories(in: tenant.id)
        let plumbing = try #require(categories.first { $0.slug == "plumbing" })
        let roofing = try #require(categories.first { $0.slug == "roofing" })
        let admin = try await market.users.createAdmin(
            by: Self.op, in: tenant.id, email: "admin@\(slug).example", displayName: "Admin", password: Self.password)
        let owner = try await register(tenant, "owner@\(slug).example", .homeowner)
        let otherOwner = try await register(tenant, "other-owner@\(slug).example", .homeowner)
        var contractors: [Principal] = []
        for index in 0..<count {
            let contractor = try await register(tenant, "pro\(index)@\(slug).example", .contractor)
            _ = try await market.contractors.saveProfile(
                by: contractor,
                .init(
                    headline: "Pro \(index)", trades: [plumbing.id], serviceArea: GeoCircle(center: Self.home, radiusKm: 30)))
            contractors.append(contractor)
        }
        return World(
            tenant: tenant, plumbing: plumbing, roofing: roofing, admin: Principal(tenantID: tenant.id, userID: admin.id, role: .admin),
            owner: owner, otherOwner: otherOwner, contractors: contractors)
    }

    /// Marks the address of `principal`'s user confirmed or not (the world's users have confirmed theirs).
    func setEmailVerified(_ verified: Bool, _ principal: Principal) async throws {
        try await storage.tenant(principal.tenantID).setEmailVerified(verified, user: principal.userID)
    }

    func register(_ tenant: Tenant, _ email: String, _ role: Role) async throws -> Principal {
        let registered = try await market.users.register(
            in: tenant.id, .init(email: email, password: Self.password, displayName: email, role: role))
        let user = try await market.users.markEmailVerified(in: tenant.id, registered.id)
        return Principal(tenantID: tenant.id, userID: user.id, role: role)
    }

    func postJob(_ world: World, by owner: Principal? = nil, title: String = "Fix the kitchen sink") async throws -> Job {
        try await market.jobs.post(
            by: owner ?? world.owner,
            .init(
                categoryID: world.plumbing.id, title: title, description: "The trap under the sink drips.", location: Self.home,
                budget: BudgetRange(min: Money(10_000, world.tenant.settings.currency), max: Money(50_000, world.tenant.settings.currency))))
    }

    /// Posts a job and has every contractor bid on it (amounts 20000, 21000, …).
    func jobWithBids(_ world: World) async throws -> (Job, [Bid]) {
        let job = try await postJob(world)
        var bids: [Bid] = []
        for (index, contractor) in world.contractors.enumerated() {
            bids.append(
                try await market.bids.submit(
                    by: contractor, on: job.id, .init(amount: Money(Int64(20_000 + 1_000 * index), world.tenant.settings.currency))))
        }
        return (job, bids)
    }

    /// Every event of the tenant (admin view).
    func allEvents(_ world: World) async throws -> [OutboxEvent] {
        var events: [OutboxEvent] = []
        var page = try await market.events.feed(by: world.admin, page: PageRequest(limit: 100))
        while true {
            events += page.items
            guard let next = page.nextCursor else { return events }
            page = try await market.events.feed(by: world.admin, page: PageRequest(cursor: next, limit: 100))
        }
    }
}

/// Asserts that `body` throws a ``TradesKitError`` with `code`.
func expectError<T>(
    _ code: TradesKitError.Code, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("Expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as TradesKitError {
        #expect(error.code == code, "Expected \(code), got \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("Expected TradesKitError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
