import Foundation
import TradesKit

extension StorageConformance {
    static let queryChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("reads.userAndJob") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            var changes = ChangeSet()
            var retitled = job
            retitled.title = "Edited"
            retitled.updatedAt = world.next()
            let edited = changes.update(retitled)
            try await world.db.commit(changes)
            let both = try await world.db.user(world.contractor.id, andJob: job.id)
            try expect(both.user == world.contractor, "the user must be read as user(_:) reads it")
            let alone = try await world.db.job(job.id)
            try expect(both.job == edited && both.job == alone, "the job must be read as job(_:) reads it, latest version")
            let noUser = try await world.db.user(UserID(UUID()), andJob: job.id)
            try expect(noUser.user == nil && noUser.job == edited, "a missing user must not hide the job")
            let noJob = try await world.db.user(world.owner.id, andJob: JobID(UUID()))
            try expect(noJob.user == world.owner && noJob.job == nil, "a missing job must not hide the user")
        },
        StorageConformanceCheck("reads.callContext") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let profile = world.fixtures.contractorProfile(for: world.contractor.id, trades: [world.plumbing.id])
            try await world.commit(.insertContractorProfile(profile))
            let db = world.db
            let tenant = try await db.tenantRecord()
            try expect(tenant != nil, "the world's tenant must exist")

            let bare = try await db.context(user: world.contractor.id, job: job.id, reading: [])
            try expect(
                bare == JobCallContext(user: world.contractor, job: job), "with nothing extra, only the user and the job must be read")
            let full = try await db.context(user: world.contractor.id, job: job.id, reading: [.tenant, .contractorProfile])
            try expect(
                full == JobCallContext(user: world.contractor, job: job, tenant: tenant, contractorProfile: profile),
                "the tenant and the profile must be read as tenantRecord() and contractorProfile(_:) read them")
            let tenantOnly = try await db.context(user: world.contractor.id, job: job.id, reading: [.tenant])
            try expect(tenantOnly.tenant == tenant && tenantOnly.contractorProfile == nil, "only what is asked for must be read")
            let owner = try await db.context(user: world.owner.id, job: job.id, reading: [.tenant, .contractorProfile])
            try expect(
                owner.user == world.owner && owner.tenant == tenant && owner.contractorProfile == nil,
                "a user without a profile must read none, and the rest as usual")
            let missing = try await db.context(user: UserID(UUID()), job: JobID(UUID()), reading: [.tenant, .contractorProfile])
            try expect(
                missing == JobCallContext(user: nil, job: nil, tenant: tenant), "missing users and jobs must not hide the tenant")
        },
        StorageConformanceCheck("bids.visibility") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let mine = try await world.insertBid(on: job)
            let theirs = try await world.insertBid(on: job, by: world.contractor2)
            let db = world.db
            try expect(
                try await db.bids(job: job.id, viewer: .user(world.owner.id)) == [mine, theirs],
                "the job's owner must see every bid, oldest first")
            try expect(try await db.bids(job: job.id, viewer: .admin) == [mine, theirs], "an admin must see every bid")
            try expect(try await db.bids(job: job.id, viewer: .user(world.contractor.id)) == [mine], "a contractor must see only their own bid")
            try expect(try await db.bids(job: job.id, viewer: .user(world.otherOwner.id)).isEmpty, "an unrelated homeowner must see no bid")
            try expect(try await db.bid(theirs.id, viewer: .user(world.owner.id)) == theirs, "bid(_:viewer:) must show the owner any bid")
            try expect(try await db.bid(theirs.id, viewer: .admin) == theirs, "bid(_:viewer:) must show an admin any bid")
            try expect(try await db.bid(mine.id, viewer: .user(world.contractor.id)) == mine, "bid(_:viewer:) must show the bidder their bid")
            try expect(try await db.bid(theirs.id, viewer: .user(world.contractor.id)) == nil, "bid(_:viewer:) leaks another contractor's bid")
            try expect(try await db.bid(mine.id, viewer: .user(world.otherOwner.id)) == nil, "bid(_:viewer:) leaks to an unrelated homeowner")
            let own = try await db.bids(contractor: world.contractor.id, page: PageRequest()).items
            try expect(own == [mine], "bids(contractor:) must list exactly the contractor's bids")
        },
        StorageConformanceCheck("jobs.search") { storage in
            let world = try await ConformanceWorld.make(storage)
            let london = Fixtures.london
            let brighton = GeoPoint(latitude: 50.8225, longitude: -0.1372)  // about 75 km south of London
            let leak = try await world.insertJob(title: "Leaking TAP in kitchen", description: "Drips")
            let roof = try await world.insertJob(
                title: "Roof", description: "Missing tiles after the storm, LEAKING too", category: world.roofing,
                location: brighton)
            let paint = try await world.insertJob(owner: world.otherOwner, title: "Paint a fence", description: "Ünïcode fence 🛠️")
            let awardedBid = try await world.insertBid(on: paint)
            let awarded = try await world.award(paint, to: awardedBid).job
            let hidden = try await world.insertJob(owner: world.otherOwner, title: "Private", description: "Cancelled job")
            var changes = ChangeSet()
            let cancelled = changes.update(try hidden.cancelling(at: world.next()).job)
            try await world.db.commit(changes)
            func ids(_ query: JobQuery) async throws -> [JobID] { try await world.db.jobs(query).items.map(\.id) }
            try expect(try await ids(JobQuery()) == [cancelled.id, awarded.id, roof.id, leak.id], "jobs() must list every job newest first")
            try expect(try await ids(JobQuery(statuses: [.open])) == [roof.id, leak.id], "status filter")
            try expect(try await ids(JobQuery(statuses: [.awarded, .cancelled])) == [cancelled.id, awarded.id], "multi-status filter")
            try expect(try await ids(JobQuery(categoryID: world.roofing.id)) == [roof.id], "category filter")
            try expect(try await ids(JobQuery(text: "leaking")) == [roof.id, leak.id], "text must match title or description case-insensitively")
            try expect(try await ids(JobQuery(text: "ünïcode")) == [awarded.id], "text must match case-insensitively beyond ASCII too")
            try expect(try await ids(JobQuery(text: "🛠️")) == [awarded.id], "text must match emoji as written")
            try expect(try await ids(JobQuery(text: "no such words")).isEmpty, "text that matches nothing")
            try expect(try await ids(JobQuery(text: "50%_")).isEmpty, "LIKE wildcards in text must match literally")
            try expect(
                try await ids(JobQuery(near: GeoCircle(center: london, radiusKm: 10))) == [cancelled.id, awarded.id, leak.id],
                "near filter with a 10 km radius")
            try expect(try await ids(JobQuery(near: GeoCircle(center: london, radiusKm: 100))).count == 4, "near filter with a 100 km radius")
            try expect(try await ids(JobQuery(near: GeoCircle(center: brighton, radiusKm: 1))) == [roof.id], "near filter around Brighton")
            try expect(try await ids(JobQuery(ownerID: world.otherOwner.id)) == [cancelled.id, awarded.id], "owner filter")
            try expect(try await ids(JobQuery(contractorID: world.contractor.id)) == [awarded.id], "contractor filter")
            var visible = JobQuery()
            visible.visibleTo = world.contractor.id
            try expect(try await ids(visible) == [awarded.id, roof.id, leak.id], "visibleTo: open jobs or jobs awarded to the contractor")
            visible.visibleTo = world.otherOwner.id
            try expect(try await ids(visible) == [cancelled.id, awarded.id, roof.id, leak.id], "visibleTo: open jobs or the owner's jobs")
            visible.visibleTo = world.contractor2.id
            try expect(try await ids(visible) == [roof.id, leak.id], "visibleTo: only open jobs for an unrelated user")
            let combined = JobQuery(
                statuses: [.open], categoryID: world.plumbing.id, text: "tap", near: GeoCircle(center: london, radiusKm: 5),
                ownerID: world.owner.id)
            try expect(try await ids(combined) == [leak.id], "filters combine with AND")
        },
        StorageConformanceCheck("jobs.completedBefore") { storage in
            let world = try await ConformanceWorld.make(storage)
            var completed: [Job] = []
            for index in 0..<3 {
                let job = try await world.insertJob(title: "Job \(index)")
                let bid = try await world.insertBid(on: job)
                var current = try await world.award(job, to: bid).job
                var changes = ChangeSet()
                current = changes.update(try current.starting(at: world.next()))
                try await world.db.commit(changes)
                changes = ChangeSet()
                current = changes.update(try current.completing(at: world.next()))
                try await world.db.commit(changes)
                completed.append(current)
            }
            _ = try await world.insertJob(title: "Still open")
            let cutoff = try requireValue(completed[1].completedAt, "completing must set completedAt")
            try expect(
                try await world.db.jobsCompleted(before: cutoff, page: PageRequest(limit: 10)).items == Array(completed.prefix(2)),
                "jobsCompleted(before:) must include completedAt == cutoff, oldest first")
            let end = world.next()
            let all = try await world.db.jobsCompleted(before: end, page: PageRequest(limit: 10))
            try expect(all.items == completed && all.nextCursor == nil, "jobsCompleted must list every completed job, on one page")
            // Page by page, each job exactly once, in order.
            var walked: [Job] = []
            var cursor: PageCursor?
            repeat {
                let page = try await world.db.jobsCompleted(before: end, page: PageRequest(cursor: cursor, limit: 2))
                try expect(page.items.count <= 2, "jobsCompleted must honour the page limit")
                walked += page.items
                cursor = page.nextCursor
            } while cursor != nil && walked.count <= completed.count
            try expect(walked == completed, "jobsCompleted pages must walk every completed job once, oldest first")
        },
        StorageConformanceCheck("reviews.ratingSummaryAndVisibility") { storage in
            let world = try await ConformanceWorld.make(storage)
            let now = world.next()
            let hiddenUntil = now.addingTimeInterval(86_400)
            var visible: [Review] = []
            for rating in [5, 4] {
                let job = try await world.insertJob()
                let review = world.fixtures.review(
                    job: job.id, author: world.owner.id, subject: world.contractor.id, rating: rating,
                    at: world.next(), visibleFrom: now)
                try await world.commit(.insertReview(review))
                visible.append(review)
            }
            let job = try await world.insertJob()
            let hidden = world.fixtures.review(
                job: job.id, author: world.owner.id, subject: world.contractor.id, rating: 1, at: world.next(),
                visibleFrom: hiddenUntil)
            let aboutOwner = world.fixtures.review(
                job: job.id, author: world.contractor.id, subject: world.owner.id, rating: 2,
                at: world.next(), visibleFrom: now)
            try await world.commit(.insertReview(hidden), .insertReview(aboutOwner))
            let at = world.next()
            try expect(
                try await world.db.ratingSummary(for: world.contractor.id, at: at) == RatingSummary(count: 2, ratingSum: 9),
                "ratingSummary must count only visible reviews about the user")
            try expect(
                try await world.db.ratingSummary(for: world.contractor.id, at: hiddenUntil) == RatingSummary(count: 3, ratingSum: 10),
                "a review is visible from visibleFrom inclusive")
            try expect(
                try await world.db.ratingSummary(for: world.admin.id, at: at) == RatingSummary(count: 0, ratingSum: 0),
                "no reviews: a zero summary")
            let listed = try await world.db.reviews(subject: world.contractor.id, visibleAt: at, page: PageRequest()).items
            try expect(listed == visible.reversed(), "reviews(subject:visibleAt:) must list visible reviews newest first")
        },
        StorageConformanceCheck("ledger.balanced") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let amount = Money(25_000, .usd)
            let fee = try amount.fee(basisPoints: 1_000)
            let contractor = try amount.subtracting(fee)
            for (kind, lines) in [
                (LedgerTransactionKind.hold, Ledger.hold(amount)), (.capture, Ledger.capture(amount)),
                (.release, Ledger.release(gross: amount, contractor: contractor, fee: fee)),
            ] {
                let transaction = try LedgerTransaction(kind: kind, jobID: job.id, lines: lines, at: world.next(), ids: world.fixtures.ids)
                try await world.commit(.insertLedgerTransaction(transaction))
            }
            try expect(try await world.db.unbalancedLedgerTransactions().isEmpty, "balanced transactions reported unbalanced")
            let entries = try await world.db.ledgerEntries(job: job.id)
            try expect(Ledger.balances(of: entries)[.platformRevenue] == -fee.amount, "platform revenue must be the fee, credited")
            try expect(entries.map(\.kind).first == .hold && entries.map(\.kind).last == .release, "entries must be in posting order")
        },
        StorageConformanceCheck("counts.byRoleAndStatus") { storage in
            let fixtures = Fixtures()
            let clock = ManualClock()
            let world = try await ConformanceWorld.make(storage, fixtures: fixtures, clock: clock)
            let other = try await ConformanceWorld.make(storage, slug: "other", fixtures: fixtures, clock: clock)
            try expect(
                try await world.db.counts() == TenantCounts(usersByRole: [.homeowner: 2, .contractor: 2, .admin: 1]),
                "a tenant without jobs or disputes: users only, empty statuses absent")
            let jobs = [try await world.insertJob(), try await world.insertJob(), try await world.insertJob()]
            let bid = try await world.insertBid(on: jobs[0])
            _ = try await world.award(jobs[0], to: bid)
            let open = world.fixtures.dispute(job: jobs[0].id, openedBy: world.owner.id, respondent: world.contractor.id, at: world.next())
            var resolved = world.fixtures.dispute(job: jobs[1].id, openedBy: world.owner.id, respondent: world.contractor.id, at: world.next())
            resolved.status = .resolved
            try await world.commit(.insertDispute(open), .insertDispute(resolved))
            _ = try await other.insertJob()
            let counts = try await world.db.counts()
            try expect(
                counts
                    == TenantCounts(
                        usersByRole: [.homeowner: 2, .contractor: 2, .admin: 1], jobsByStatus: [.awarded: 1, .open: 2],
                        disputesByStatus: [.awaitingResponse: 1, .resolved: 1]),
                "counts by role and status differ: \(counts)")
            try expect(counts.openDisputes == 1, "one dispute is open")
            try expect(try await other.db.counts().jobsByStatus == [.open: 1], "another tenant's rows were counted")
            // Settlements: owed (failing or not), and settled (one with failures left over is not failing either); another
            // tenant's owed one is not counted.
            let shapes: [(SettlementInstruction?, Int)] = [(.capture, 0), (.void, 2), (.settle(refund: .zero(.usd)), 1), (nil, 0), (nil, 3)]
            for (instruction, failures) in shapes {
                let job = try await world.insertJob()
                var escrow = world.fixtures.escrow(job: job, bid: try await world.insertBid(on: job), at: world.next())
                (escrow.instruction, escrow.settlementDueAt, escrow.settlementFailures) = (
                    instruction, instruction.map { _ in world.next() }, failures
                )
                try await world.commit(.insertEscrow(escrow))
            }
            let otherJob = try await other.insertJob()
            var otherEscrow = other.fixtures.escrow(job: otherJob, bid: try await other.insertBid(on: otherJob), at: other.next())
            (otherEscrow.instruction, otherEscrow.settlementFailures) = (.capture, 3)
            try await other.commit(.insertEscrow(otherEscrow))
            let settlements = try await world.db.counts()
            try expect(
                (settlements.owedSettlements, settlements.failingSettlements) == (3, 2),
                "owed and failing settlements counted \(settlements.owedSettlements) and \(settlements.failingSettlements), not 3 and 2")
            try expect(try await other.db.counts().owedSettlements == 1, "another tenant's owed settlements were counted")
        },
        StorageConformanceCheck("disputes.listing") { storage in
            let world = try await ConformanceWorld.make(storage)
            var disputes: [Dispute] = []
            for opener in [world.owner, world.otherOwner] {
                let job = try await world.insertJob(owner: opener)
                let dispute = world.fixtures.dispute(job: job.id, openedBy: opener.id, respondent: world.contractor.id, at: world.next())
                try await world.commit(.insertDispute(dispute))
                disputes.append(dispute)
            }
            var changes = ChangeSet()
            let resolution = DisputeResolution(outcome: .fullRefund, note: "Refunded", resolvedBy: world.admin.id, resolvedAt: world.next())
            let resolved = changes.update(try disputes[0].resolving(resolution, at: world.next()))
            try await world.db.commit(changes)
            let page = PageRequest()
            try expect(
                try await world.db.disputes(participant: nil, statuses: nil, page: page).items == [disputes[1], resolved],
                "disputes() must list all, newest first")
            try expect(
                try await world.db.disputes(participant: world.owner.id, statuses: nil, page: page).items == [resolved],
                "disputes(participant:) must list those the user opened")
            try expect(
                try await world.db.disputes(participant: world.contractor.id, statuses: nil, page: page).items.count == 2,
                "disputes(participant:) must list those the user must answer")
            try expect(
                try await world.db.disputes(participant: nil, statuses: [.awaitingResponse], page: page).items == [disputes[1]],
                "disputes(statuses:) must filter by status")
        },
        StorageConformanceCheck("tenants.allAndSlug") { storage in
            let clock = ManualClock()
            let fixtures = Fixtures()
            let a = try await ConformanceWorld.make(storage, slug: "zeta", fixtures: fixtures, clock: clock)
            let b = try await ConformanceWorld.make(storage, slug: "alpha", fixtures: fixtures, clock: clock)
            try expect(try await storage.allTenants() == [a.tenant, b.tenant], "allTenants() must list every tenant in creation order")
            try expect(try await storage.tenant(slug: "alpha") == b.tenant, "tenant(slug:) must find the tenant")
            try expect(try await storage.tenant(slug: "ALPHA-missing") == nil, "tenant(slug:) must answer nil for an unknown slug")
            try expect(try await storage.tenant(TenantID(fixtures.ids.next())).tenantRecord() == nil, "an unknown tenant has no record")
        },
    ]
}

/// Unwraps `value` or throws ``ConformanceFailure``.
func requireValue<T>(_ value: T?, _ message: String, file: String = #fileID, line: Int = #line) throws(ConformanceFailure) -> T {
    guard let value else { throw ConformanceFailure(message, file: file, line: line) }
    return value
}
