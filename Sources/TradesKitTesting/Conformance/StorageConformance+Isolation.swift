import Foundation
import TradesKit

extension StorageConformance {
    static let isolationChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("isolation.reads") { storage in
            let a = try await ConformanceWorld.make(storage, slug: "acme")
            let b = try await ConformanceWorld.make(storage, slug: "beta", fixtures: a.fixtures, clock: a.clock)
            // Tenant A gets one of everything.
            try await expectStorageError(.missingRow, "tenant B expecting tenant A's user version") {
                try await b.commit(.expectVersion(.user(a.contractor.id), version: 1))
            }
            let everything = try await a.insertOneOfEverything()
            let (job, bid, dispute, event) = (everything.job, everything.bid, everything.dispute, everything.event)
            let later = a.clock.now().addingTimeInterval(365 * 86_400)

            // Tenant B's handle sees none of it.
            let db = b.db
            let page = PageRequest(limit: 100)
            try expect(try await db.tenantRecord() == b.tenant, "tenantRecord() must answer the handle's own tenant")
            try expect(try await db.user(a.owner.id) == nil, "user(_:) leaks across tenants")
            let pair = try await db.user(a.owner.id, andJob: job.id)
            try expect(pair.user == nil && pair.job == nil, "user(_:andJob:) leaks across tenants")
            let mixed = try await db.user(b.owner.id, andJob: job.id)
            try expect(mixed.user == b.owner && mixed.job == nil, "user(_:andJob:) with another tenant's job must find only the user")
            let context = try await db.context(user: a.contractor.id, job: job.id, reading: [.tenant, .contractorProfile])
            try expect(
                context == JobCallContext(user: nil, job: nil, tenant: b.tenant),
                "context(user:job:reading:) leaks across tenants (another tenant's user, job, profile or record)")
            try expect(try await db.user(email: a.owner.email) == nil, "user(email:) leaks across tenants")
            let users = try await db.users(role: nil, page: page).items
            try expect(
                Set(users.map(\.id)) == Set([b.owner, b.otherOwner, b.contractor, b.contractor2, b.admin].map(\.id)),
                "users(role:page:) leaks across tenants")
            try expect(try await db.contractorProfile(a.contractor.id) == nil, "contractorProfile(_:) leaks across tenants")
            try expect(try await db.ratingSummary(for: a.contractor.id, at: later).count == 0, "ratingSummary leaks across tenants")
            try expect(Set(try await db.categories().map(\.id)) == [b.plumbing.id, b.roofing.id], "categories() leaks across tenants")
            try expect(try await db.category(a.plumbing.id) == nil, "category(_:) leaks across tenants")
            try expect(try await db.job(job.id) == nil, "job(_:) leaks across tenants")
            try expect(try await db.jobs(JobQuery(limit: 100)).items.isEmpty, "jobs(_:) leaks across tenants")
            try expect(try await db.jobsCompleted(before: later, page: PageRequest(limit: 100)).items.isEmpty, "jobsCompleted leaks across tenants")
            try expect(try await db.bid(bid.id, viewer: .admin) == nil, "bid(_:viewer:) leaks across tenants")
            try expect(try await db.bids(job: job.id, viewer: .admin).isEmpty, "bids(job:viewer:) leaks across tenants")
            try expect(try await db.bids(contractor: a.contractor.id, page: page).items.isEmpty, "bids(contractor:) leaks across tenants")
            try expect(try await db.escrow(job: job.id) == nil, "escrow(job:) leaks across tenants")
            try expect(try await db.ledgerEntries(job: job.id).isEmpty, "ledgerEntries(job:) leaks across tenants")
            try expect(try await db.ledgerEntries(job: nil).isEmpty, "ledgerEntries(job: nil) leaks across tenants")
            try expect(try await db.unbalancedLedgerTransactions().isEmpty, "unbalancedLedgerTransactions leaks across tenants")
            try expect(try await db.dispute(dispute.id) == nil, "dispute(_:) leaks across tenants")
            try expect(try await db.disputes(participant: nil, statuses: nil, page: page).items.isEmpty, "disputes(…) leaks across tenants")
            try expect(try await db.disputes(participant: a.owner.id, statuses: nil, page: page).items.isEmpty, "disputes(participant:) leaks")
            try expect(try await db.openDispute(job: job.id) == nil, "openDispute(job:) leaks across tenants")
            try expect(try await db.reviews(job: job.id).isEmpty, "reviews(job:) leaks across tenants")
            try expect(try await db.reviews(subject: a.contractor.id, visibleAt: later, page: page).items.isEmpty, "reviews(subject:) leaks")
            try expect(try await db.messages(job: job.id, page: page).items.isEmpty, "messages(job:) leaks across tenants")
            try expect(try await db.events(recipient: nil, page: page).items.isEmpty, "events(recipient: nil) leaks across tenants")
            try expect(try await db.events(recipient: a.contractor.id, page: page).items.isEmpty, "events(recipient:) leaks across tenants")
            try expect(try await db.deadLetters(limit: 100).isEmpty, "deadLetters leaks across tenants")
            try expect(try await db.claimEvents(limit: 100, now: later, leaseUntil: later).isEmpty, "claimEvents leaks across tenants")
            // Outbox writes through B's handle do not touch A's events.
            try await db.markDelivered([event.id])
            try await db.recordFailure(event.id, attempts: 9, retryAt: nil, reason: "wrong tenant")
            let aEvent = try await a.db.events(recipient: nil, page: page).items.first { $0.id == event.id }
            try expect(aEvent == event, "tenant B's handle changed tenant A's event delivery")
            // Sanity: A still sees its own data.
            try expect(try await a.db.job(job.id) != nil, "tenant A lost its job")
            try expect(try await a.db.bids(job: job.id, viewer: .admin).count == 1, "tenant A lost its bid")
        },
        StorageConformanceCheck("isolation.writes") { storage in
            let a = try await ConformanceWorld.make(storage, slug: "acme")
            let b = try await ConformanceWorld.make(storage, slug: "beta", fixtures: a.fixtures, clock: a.clock)
            let job = try await a.insertJob()
            var changes = ChangeSet()
            changes.update(try job.updated(title: "Hijacked", description: nil, budget: nil, at: b.next()))
            try await expectStorageError(.missingRow, "tenant B updating tenant A's job") { try await b.db.commit(changes) }
            try expect(try await a.db.job(job.id) == job, "tenant B's update changed tenant A's job")
            var user = a.owner
            user.suspended = true
            try await expectStorageError(.missingRow, "tenant B updating tenant A's user") { try await b.commit(.updateUser(user)) }
            try expect(try await a.db.user(user.id) == a.owner, "tenant B's update changed tenant A's user")
            var tenant = a.tenant
            tenant.displayName = "Hijacked"
            try await expectStorageError(.missingRow, "tenant B updating tenant A's record") { try await b.commit(.updateTenant(tenant)) }
            try await expectStorageError(.missingRow, "tenant B expecting tenant A's job version") {
                try await b.commit(.expectVersion(.job(job.id), version: 1))
            }
            let profile = a.fixtures.contractorProfile(for: a.contractor.id, trades: [a.plumbing.id])
            try await a.commit(.insertContractorProfile(profile))
            try await expectStorageError(.missingRow, "tenant B expecting tenant A's contractor profile version") {
                try await b.commit(.expectVersion(.contractorProfile(profile.userID), version: 1))
            }
            let bid = b.fixtures.bid(on: job.id, by: b.contractor.id, at: b.next())
            try await expectStorageError(.missingRow, "tenant B bidding on tenant A's job") { try await b.commit(.insertBid(bid)) }
            try expect(try await a.db.bids(job: job.id, viewer: .admin).isEmpty, "tenant B's bid landed on tenant A's job")
        },
    ]
}
