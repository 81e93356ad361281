import Foundation
import TradesKit

/// A tenant with a homeowner, a second homeowner, two contractors, an admin and two categories: the cast of most checks.
struct ConformanceWorld {
    let storage: any Storage
    let fixtures: Fixtures
    let clock: ManualClock
    let tenant: Tenant
    let db: any TenantStorage
    let owner: User
    let otherOwner: User
    let contractor: User
    let contractor2: User
    let admin: User
    let plumbing: TradeCategory
    let roofing: TradeCategory

    /// Creates the tenant and its cast in one change set. Worlds sharing `fixtures` and `clock` get distinct ids.
    static func make(
        _ storage: any Storage, slug: String = "acme", fixtures: Fixtures = Fixtures(),
        clock: ManualClock = ManualClock()
    ) async throws -> ConformanceWorld {
        clock.advance(by: 1)
        let tenant = fixtures.tenant(slug: slug, at: clock.now())
        let db = storage.tenant(tenant.id)
        func next() -> Date {
            clock.advance(by: 1)
            return clock.now()
        }
        let owner = try fixtures.user(.homeowner, email: "owner@\(slug).example.com", at: next())
        let otherOwner = try fixtures.user(.homeowner, email: "other@\(slug).example.com", at: next())
        let contractor = try fixtures.user(.contractor, email: "pro@\(slug).example.com", at: next())
        let contractor2 = try fixtures.user(.contractor, email: "pro2@\(slug).example.com", at: next())
        let admin = try fixtures.user(.admin, email: "admin@\(slug).example.com", at: next())
        let plumbing = fixtures.category(slug: "plumbing", name: "Plumbing")
        let roofing = fixtures.category(slug: "roofing", name: "Roofing")
        var changes = ChangeSet()
        changes.append(.insertTenant(tenant))
        for user in [owner, otherOwner, contractor, contractor2, admin] { changes.append(.insertUser(user)) }
        changes.append(.insertCategory(plumbing))
        changes.append(.insertCategory(roofing))
        try await db.commit(changes)
        return ConformanceWorld(
            storage: storage, fixtures: fixtures, clock: clock, tenant: tenant, db: db, owner: owner,
            otherOwner: otherOwner, contractor: contractor, contractor2: contractor2, admin: admin,
            plumbing: plumbing, roofing: roofing)
    }

    /// A moment one second after the previous one, so every row has a distinct, increasing timestamp.
    func next() -> Date {
        clock.advance(by: 1)
        return clock.now()
    }

    /// Commits the changes as one set.
    func commit(_ changes: ChangeSet.Change...) async throws {
        var set = ChangeSet()
        for change in changes { set.append(change) }
        try await db.commit(set)
    }

    /// Inserts and returns an open job of `owner` (the world's homeowner by default).
    func insertJob(
        owner: User? = nil, title: String = "Fix a leaking tap", description: String = "The kitchen tap drips.",
        category: TradeCategory? = nil, location: GeoPoint = Fixtures.london, at date: Date? = nil
    ) async throws -> Job {
        let job = fixtures.job(
            owner: (owner ?? self.owner).id, category: (category ?? plumbing).id, title: title, description: description,
            location: location, currency: tenant.settings.currency, at: date ?? next())
        try await commit(.insertJob(job))
        return job
    }

    /// Inserts and returns a submitted bid.
    func insertBid(on job: Job, by contractor: User? = nil, amount: Int64 = 25_000) async throws -> Bid {
        let bid = fixtures.bid(on: job.id, by: (contractor ?? self.contractor).id, amount: amount, at: next())
        try await commit(.insertBid(bid))
        return bid
    }

    /// Awards `job` to `bid` (job and bid updated in one set); returns both as committed.
    func award(_ job: Job, to bid: Bid) async throws -> (job: Job, bid: Bid) {
        let now = next()
        var changes = ChangeSet()
        let awarded = changes.update(try job.accepting(bid, at: now))
        let accepted = changes.update(try bid.accepting(at: now))
        try await db.commit(changes)
        return (awarded, accepted)
    }
}

extension ConformanceWorld {
    /// What ``insertOneOfEverything()`` wrote.
    struct Everything {
        /// The job: awarded to ``bid``, started and completed, with an escrow, a dispute, a review and a message.
        let job: Job
        let bid: Bid
        let dispute: Dispute
        /// An event to the contractor, pending.
        let event: OutboxEvent
        /// An event to the owner, dead-lettered.
        let dead: OutboxEvent
    }

    /// Writes at least one record of every kind a tenant owns, each through the storage's own commits: a contractor
    /// profile, a job (awarded, started, completed) with a bid, an escrow and its hold, a dispute, a review, a message,
    /// two events (one dead-lettered), a refresh token, a one-time token, a two-factor enrolment and two login throttles.
    func insertOneOfEverything() async throws -> Everything {
        try await commit(.insertContractorProfile(fixtures.contractorProfile(for: contractor.id, trades: [plumbing.id])))
        let job = try await insertJob()
        let bid = try await insertBid(on: job)
        let awarded = try await award(job, to: bid)
        var changes = ChangeSet()
        let started = changes.update(try awarded.job.starting(at: next()))
        try await db.commit(changes)
        changes = ChangeSet()
        changes.update(try started.completing(at: next()))
        try await db.commit(changes)
        let dispute = fixtures.dispute(job: job.id, openedBy: owner.id, respondent: contractor.id, at: next())
        let event = try fixtures.event(job: job.id, sender: owner.id, recipient: contractor.id, at: next())
        let dead = try fixtures.event(job: job.id, sender: contractor.id, recipient: owner.id, at: next())
        try await commit(
            .insertEscrow(fixtures.escrow(job: job, bid: bid, at: next())),
            .insertLedgerTransaction(try fixtures.holdTransaction(job: job.id, amount: bid.amount, at: next())), .insertDispute(dispute),
            .insertReview(fixtures.review(job: job.id, author: owner.id, subject: contractor.id, at: next())),
            .insertMessage(fixtures.message(job: job.id, sender: owner.id, at: next())), .appendEvent(event), .appendEvent(dead))
        try await db.recordFailure(dead.id, attempts: 5, retryAt: nil, reason: "gone")
        try await commit(
            .insertRefreshToken(fixtures.refreshToken(user: owner.id, at: next())),
            .insertOneTimeToken(fixtures.oneTimeToken(user: owner.id, purpose: .passwordReset, at: next())),
            .insertTwoFactor(fixtures.twoFactor(user: contractor.id, at: next())),
            .insertLoginThrottle(LoginThrottle(key: AccountKey(tenant: tenant.id, email: "nobody@\(tenant.slug).example.com"))),
            .insertLoginThrottle(
                LoginThrottle(
                    key: AccountKey(tenant: tenant.id, email: owner.email.value), failures: 3, lockedUntil: next(), lastFailureAt: next())))
        return Everything(job: job, bid: bid, dispute: dispute, event: event, dead: dead)
    }
}

/// Reads every page of a listing, failing if the listing loops.
func collectPages<Item>(_ fetch: (PageCursor?) async throws -> Page<Item>) async throws -> [Item] {
    var items: [Item] = []
    var cursor: PageCursor?
    for _ in 0..<1_000 {
        let page = try await fetch(cursor)
        items += page.items
        guard let next = page.nextCursor else { return items }
        try expect(next != cursor, "a page returned its own cursor as nextCursor")
        cursor = next
    }
    throw ConformanceFailure("pagination did not end after 1000 pages")
}

/// The keyset order: `(milliseconds, lowercase id)`, ascending.
func keysetLess(_ lhs: (Date, UUID), _ rhs: (Date, UUID)) -> Bool {
    (lhs.0.millisecondsSince1970, lhs.1.uuidString.lowercased()) < (rhs.0.millisecondsSince1970, rhs.1.uuidString.lowercased())
}
