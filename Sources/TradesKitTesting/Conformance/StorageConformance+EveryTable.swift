import Foundation
public import TradesKit

extension StorageConformance {
    /// Creates the tenant `slug` in `storage` with at least one record of every kind a tenant owns, written through the
    /// storage's own commits: users, a contractor profile, categories, jobs, bids, an escrow and its ledger entries, a
    /// dispute, a review, a message, outbox events (with their recipients, one of them dead-lettered), refresh and
    /// one-time tokens, a two-factor enrolment and login throttles.
    ///
    /// For tests that attack tenant isolation below the storage API, such as PostgreSQL's row-level security: with a
    /// second tenant made the same way, every table holds rows of both, so a rule that lets one tenant's rows through
    /// to the other has something to let through.
    public static func tenantWithEveryRecord(in storage: any Storage, slug: String) async throws -> TenantID {
        // Random ids: tenants made by separate calls must not collide.
        let world = try await ConformanceWorld.make(storage, slug: slug, fixtures: Fixtures(ids: UUIDv7Generator()))
        _ = try await world.insertOneOfEverything()
        return world.tenant.id
    }
}
