import Foundation
public import TradesKit

/// A complete in-memory ``Storage``: every tenant's data behind one lock, change sets applied atomically.
///
/// It implements the documented semantics exactly (versions, expectations, unique constraints, tenant isolation,
/// bid visibility, keyset pagination, the outbox) and passes ``StorageConformance``. Use it for service tests.
public final class MemoryStorage: Storage, Sendable {
    let state = Locked(MemoryStorageState())
    private let commitHooks = Locked<[@Sendable () async -> Void]>([])

    /// Creates an empty storage.
    public init() {}

    /// Runs `hook` once, at the start of the next commit of any tenant, before that commit reads or applies anything:
    /// a test lands a concurrent change between a service's reads and its commit. Hooks run in the order added, one
    /// per commit; a commit made by a hook takes the next one, if any.
    public func beforeNextCommit(_ hook: @escaping @Sendable () async -> Void) {
        commitHooks.withLock { $0.append(hook) }
    }

    /// The hook the next commit runs, removed.
    func takeCommitHook() -> (@Sendable () async -> Void)? {
        commitHooks.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }

    /// The handle for one tenant's data.
    public func tenant(_ id: TenantID) -> any TenantStorage { MemoryTenantStorage(storage: self, tenantID: id) }

    /// Every tenant, ordered by creation.
    public func allTenants() async throws -> [Tenant] {
        state.current.tenants.values.sorted { SortKey($0.createdAt, $0.id.rawValue) < SortKey($1.createdAt, $1.id.rawValue) }
    }

    /// The tenant with this slug, if any.
    public func tenant(slug: String) async throws -> Tenant? {
        state.current.tenants.values.first { $0.slug == slug }
    }

    /// Nothing to migrate.
    public func migrate() async throws {}
}

/// Everything a ``MemoryStorage`` holds.
struct MemoryStorageState: Sendable {
    var tenants: [TenantID: Tenant] = [:]
    var data: [TenantID: TenantData] = [:]
}

/// One tenant's rows.
struct TenantData: Sendable {
    var users: [UserID: User] = [:]
    var profiles: [UserID: ContractorProfile] = [:]
    var categories: [CategoryID: TradeCategory] = [:]
    var jobs: [JobID: Job] = [:]
    var bids: [BidID: Bid] = [:]
    var escrows: [EscrowID: Escrow] = [:]
    var ledger: [LedgerEntry] = []
    var disputes: [DisputeID: Dispute] = [:]
    var reviews: [ReviewID: Review] = [:]
    var messages: [MessageID: Message] = [:]
    var events: [EventID: OutboxEvent] = [:]
    var refreshTokens: [RefreshTokenID: RefreshToken] = [:]
    var oneTimeTokens: [OneTimeTokenID: OneTimeToken] = [:]
    var twoFactor: [UserID: TwoFactorEnrollment] = [:]
    var loginThrottles: [AccountKey: LoginThrottle] = [:]
}

/// The keyset sort key every storage uses: whole milliseconds, then the lowercase id string.
struct SortKey: Comparable {
    let milliseconds: Int64
    let id: String

    init(_ date: Date, _ id: UUID) {
        self.milliseconds = date.millisecondsSince1970
        self.id = id.uuidString.lowercased()
    }

    init(_ cursor: PageCursor) {
        self.milliseconds = cursor.milliseconds
        self.id = cursor.id.uuidString.lowercased()
    }

    static func < (lhs: SortKey, rhs: SortKey) -> Bool {
        (lhs.milliseconds, lhs.id) < (rhs.milliseconds, rhs.id)
    }
}

extension Page {
    /// Keyset-paginates `items`: sorts by `(date, id)` ascending or descending, continues strictly past `cursor`,
    /// and sets `nextCursor` when more items exist.
    static func keyset(
        _ items: [Item], descending: Bool, cursor: PageCursor?, limit: Int,
        key: (Item) -> (date: Date, id: UUID)
    ) -> Page<Item> {
        var keyed = items.map { (item: $0, key: SortKey(key($0).date, key($0).id)) }
        keyed.sort { descending ? $0.key > $1.key : $0.key < $1.key }
        if let cursor {
            let after = SortKey(cursor)
            keyed = keyed.filter { descending ? $0.key < after : $0.key > after }
        }
        let limit = min(100, max(1, limit))
        let page = keyed.prefix(limit + 1)
        guard page.count > limit, let last = page.prefix(limit).last else { return Page(items: page.map(\.item), nextCursor: nil) }
        let lastKey = key(last.item)
        return Page(items: page.prefix(limit).map(\.item), nextCursor: PageCursor(after: lastKey.date, id: lastKey.id))
    }
}
