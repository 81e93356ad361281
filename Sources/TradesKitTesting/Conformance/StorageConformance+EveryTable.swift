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
        let profile = world.fixtures.contractorProfile(for: world.contractor.id, trades: [world.plumbing.id])
        try await world.commit(.insertContractorProfile(profile))
        let job = try await world.insertJob()
        let bid = try await world.insertBid(on: job)
        _ = try await world.insertBid(on: try await world.insertJob(), by: world.contractor2)
        _ = try await world.award(job, to: bid)
        let escrow = world.fixtures.escrow(job: job, bid: bid, at: world.next())
        let hold = try world.fixtures.holdTransaction(job: job.id, amount: bid.amount, at: world.next())
        let dispute = world.fixtures.dispute(job: job.id, openedBy: world.owner.id, respondent: world.contractor.id, at: world.next())
        let review = world.fixtures.review(job: job.id, author: world.owner.id, subject: world.contractor.id, at: world.next())
        let message = world.fixtures.message(job: job.id, sender: world.owner.id, at: world.next())
        let event = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
        let dead = try world.fixtures.event(job: job.id, sender: world.contractor.id, recipient: world.owner.id, at: world.next())
        try await world.commit(
            .insertEscrow(escrow), .insertLedgerTransaction(hold), .insertDispute(dispute), .insertReview(review),
            .insertMessage(message), .appendEvent(event), .appendEvent(dead))
        try await world.db.recordFailure(dead.id, attempts: 5, retryAt: nil, reason: "gone")
        try await world.commit(
            .insertRefreshToken(world.fixtures.refreshToken(user: world.owner.id, at: world.next())),
            .insertOneTimeToken(world.fixtures.oneTimeToken(user: world.owner.id, purpose: .passwordReset, at: world.next())),
            .insertTwoFactor(world.fixtures.twoFactor(user: world.contractor.id, at: world.next())),
            .insertLoginThrottle(LoginThrottle(key: AccountKey(tenant: world.tenant.id, email: "nobody@\(slug).example.com"))),
            .insertLoginThrottle(
                LoginThrottle(
                    key: AccountKey(tenant: world.tenant.id, email: world.owner.email.value), failures: 3, lockedUntil: world.next(),
                    lastFailureAt: world.next())))
        return world.tenant.id
    }
}
