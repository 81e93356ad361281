import Foundation
import TradesKit

/// Values for tests: a fresh tenant (random slug) with a homeowner, a contractor, a category and a job.
struct Fixture: Sendable {
    let tenant: Tenant
    let homeowner: User
    let contractor: User
    let category: TradeCategory
    let job: Job

    static let now = Date(millisecondsSince1970: 1_760_000_000_123)

    /// `now` plus whole milliseconds (storages keep milliseconds; a fractional offset would not round-trip).
    static func at(_ milliseconds: Int64) -> Date { Date(millisecondsSince1970: 1_760_000_000_123 + milliseconds) }

    init(tenant: Tenant, homeowner: User, contractor: User, category: TradeCategory, job: Job) {
        self.tenant = tenant
        self.homeowner = homeowner
        self.contractor = contractor
        self.category = category
        self.job = job
    }

    init(text: String = "Fix the sink", email: String? = nil) throws {
        let id = TenantID(UUID())
        let slug = "t-" + UUID().uuidString.prefix(8).lowercased()
        tenant = Tenant(
            id: id, slug: slug, displayName: "Tenant \(slug)",
            settings: TenantSettings(
                currency: .usd, platformFeeBasisPoints: 250,
                branding: Branding(name: "Acme", fromEmail: "hello@example.com")),
            createdAt: Self.now)
        homeowner = User(
            id: UserID(UUID()), email: try EmailAddress(email ?? "owner-\(UUID().uuidString.prefix(6))@example.com"),
            displayName: "Owner", phone: try PhoneNumber("+14155550123"), role: .homeowner, passwordHash: "hash",
            createdAt: Self.now)
        contractor = User(
            id: UserID(UUID()), email: try EmailAddress("builder-\(UUID().uuidString.prefix(6))@example.com"), displayName: "Builder",
            role: .contractor, createdAt: Self.at(1))
        category = TradeCategory(id: CategoryID(UUID()), slug: "plumbing", name: "Plumbing")
        job = Job(
            id: JobID(UUID()), ownerID: homeowner.id, categoryID: category.id, title: text, description: "Leaking under the counter",
            location: GeoPoint(latitude: 51.5007, longitude: -0.1246), budget: BudgetRange(min: Money(10_000, .usd), max: Money(50_000, .usd)),
            createdAt: Self.at(2))
    }

    /// Every insert of the fixture, in dependency order.
    var changes: ChangeSet {
        var changes = ChangeSet()
        changes.append(.insertTenant(tenant))
        changes.append(.insertCategory(category))
        changes.append(.insertUser(homeowner))
        changes.append(.insertUser(contractor))
        changes.append(.insertJob(job))
        return changes
    }

    func bid(amount: Int64 = 20_000, message: String = "I can do it", at offset: Int64 = 10) -> Bid {
        Bid(
            id: BidID(UUID()), jobID: job.id, contractorID: contractor.id, amount: Money(amount, .usd), message: message,
            createdAt: Self.at(offset))
    }

    /// Inserts the fixture through `storage`.
    func insert(into storage: any Storage) async throws -> any TenantStorage {
        let store = storage.tenant(tenant.id)
        try await store.commit(changes)
        return store
    }
}
