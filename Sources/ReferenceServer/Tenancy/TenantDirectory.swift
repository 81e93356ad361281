import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import TradesKit

/// Finds tenants by slug or id for request routing, with a short cache so that resolving the tenant of every
/// request does not read storage every time. A tenant's settings change rarely; a change is seen within ``ttl``.
final class TenantDirectory: Sendable {
    private struct Entry {
        let tenant: Tenant
        let fetchedAt: Date
    }

    private let storage: any Storage
    private let clock: any WallClock
    private let ttl: TimeInterval
    private let bySlug = NIOLockedValueBox<[String: Entry]>([:])
    private let byID = NIOLockedValueBox<[TenantID: Entry]>([:])
    /// Slugs and ids that named no tenant, apart: a flood of made-up slugs empties this cache, never the tenants'.
    private let misses = NIOLockedValueBox<[String: Date]>([:])
    /// Bounds each cache; one that fills up is emptied rather than grown.
    private let maximumEntries = 1_000

    init(storage: any Storage, clock: any WallClock, ttl: TimeInterval = 30) {
        self.storage = storage
        self.clock = clock
        self.ttl = ttl
    }

    /// The tenant with `slug`, if any.
    func tenant(slug: String) async throws -> Tenant? {
        let slug = slug.lowercased()
        // Only a plausible slug reaches storage.
        guard (2...63).contains(slug.count), slug.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { return nil }
        let now = clock.now()
        if let entry = bySlug.withLockedValue({ $0[slug] }), now.timeIntervalSince(entry.fetchedAt) < ttl { return entry.tenant }
        if isKnownMiss("slug:\(slug)", at: now) { return nil }
        let tenant = try await storage.tenant(slug: slug)
        if let tenant { remember(tenant, slug: slug, id: tenant.id, at: now) } else { rememberMiss("slug:\(slug)", at: now) }
        return tenant
    }

    /// The tenant with `id`, if any.
    func tenant(id: TenantID) async throws -> Tenant? {
        let now = clock.now()
        if let entry = byID.withLockedValue({ $0[id] }), now.timeIntervalSince(entry.fetchedAt) < ttl { return entry.tenant }
        if isKnownMiss("id:\(id)", at: now) { return nil }
        let tenant = try await storage.tenant(id).tenantRecord()
        if let tenant { remember(tenant, slug: tenant.slug, id: id, at: now) } else { rememberMiss("id:\(id)", at: now) }
        return tenant
    }

    private func isKnownMiss(_ key: String, at now: Date) -> Bool {
        misses.withLockedValue { $0[key].map { now.timeIntervalSince($0) < ttl } ?? false }
    }

    private func rememberMiss(_ key: String, at now: Date) { insert(now, for: key, into: misses) }

    private func remember(_ tenant: Tenant, slug: String, id: TenantID, at now: Date) {
        let entry = Entry(tenant: tenant, fetchedAt: now)
        insert(entry, for: slug, into: bySlug)
        insert(entry, for: id, into: byID)
    }

    /// Stores `value` in `cache`, emptying the cache first when it is full.
    private func insert<Key: Hashable, Value>(_ value: Value, for key: Key, into cache: NIOLockedValueBox<[Key: Value]>) {
        cache.withLockedValue { cache in
            if cache.count >= maximumEntries { cache.removeAll() }
            cache[key] = value
        }
    }
}
