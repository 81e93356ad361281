import Foundation
import TradesKit

extension StorageConformance {
    static let versionChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("versions.updateBumpsAndStaleUpdateConflicts") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            var changes = ChangeSet()
            let committed = changes.update(try job.updated(title: "New title", description: nil, budget: nil, at: world.next()))
            try await world.db.commit(changes)
            let read = try await world.db.job(job.id)
            try expect(read == committed && read?.version == 2, "an update must store the new values at version + 1")
            var stale = ChangeSet()
            stale.update(try job.updated(title: "Stale title", description: nil, budget: nil, at: world.next()))
            try await expectStorageError(.versionConflict, "a stale job update") { try await world.db.commit(stale) }
            try expect(try await world.db.job(job.id) == committed, "a stale update changed the job")

            // Every other versioned row behaves the same.
            let bid = try await world.insertBid(on: job)
            let escrow = world.fixtures.escrow(job: job, bid: bid, at: world.next())
            let dispute = world.fixtures.dispute(job: job.id, openedBy: world.owner.id, respondent: world.contractor.id, at: world.next())
            let review = world.fixtures.review(job: job.id, author: world.owner.id, subject: world.contractor.id, at: world.next())
            let profile = world.fixtures.contractorProfile(for: world.contractor.id, trades: [world.plumbing.id])
            try await world.commit(.insertEscrow(escrow), .insertDispute(dispute), .insertReview(review), .insertContractorProfile(profile))
            var renamed = world.tenant
            renamed.displayName = "Renamed"
            var user = world.owner
            user.displayName = "Renamed"
            var all = ChangeSet()
            let tenant2 = all.update(renamed)
            let user2 = all.update(user)
            let profile2 = all.update(profile)
            let bid2 = all.update(bid)
            let escrow2 = all.update(escrow)
            let dispute2 = all.update(dispute)
            let review2 = all.update(review)
            try await world.db.commit(all)
            try expect(try await world.db.tenantRecord() == tenant2, "tenant update not stored at version 2")
            try expect(try await world.db.user(user.id) == user2, "user update not stored at version 2")
            try expect(try await world.db.contractorProfile(profile.userID) == profile2, "profile update not stored at version 2")
            try expect(try await world.db.bid(bid.id, viewer: .admin) == bid2, "bid update not stored at version 2")
            try expect(try await world.db.escrow(job: job.id) == escrow2, "escrow update not stored at version 2")
            try expect(try await world.db.dispute(dispute.id) == dispute2, "dispute update not stored at version 2")
            try expect(try await world.db.reviews(job: job.id) == [review2], "review update not stored at version 2")
            let staleChanges: [(String, ChangeSet.Change)] = [
                ("tenant", .updateTenant(renamed)), ("user", .updateUser(user)), ("profile", .updateContractorProfile(profile)),
                ("bid", .updateBid(bid)), ("escrow", .updateEscrow(escrow)), ("dispute", .updateDispute(dispute)),
                ("review", .updateReview(review)),
            ]
            for (name, change) in staleChanges {
                try await expectStorageError(.versionConflict, "a stale \(name) update") { try await world.commit(change) }
            }
            try expect(try await world.db.user(user.id) == user2, "a stale user update changed the user")
        },
        StorageConformanceCheck("versions.missingRow") { storage in
            let world = try await ConformanceWorld.make(storage)
            let ghostJob = world.fixtures.job(owner: world.owner.id, category: world.plumbing.id, at: world.next())
            try await expectStorageError(.missingRow, "updating a job that does not exist") { try await world.commit(.updateJob(ghostJob)) }
            let ghostUser = try world.fixtures.user(.homeowner, at: world.next())
            try await expectStorageError(.missingRow, "updating a user that does not exist") { try await world.commit(.updateUser(ghostUser)) }
            let job = try await world.insertJob()
            let ghostBid = world.fixtures.bid(on: job.id, by: world.contractor.id, at: world.next())
            try await expectStorageError(.missingRow, "updating a bid that does not exist") { try await world.commit(.updateBid(ghostBid)) }
            try await expectStorageError(.missingRow, "expecting the version of a job that does not exist") {
                try await world.commit(.expectVersion(.job(ghostJob.id), version: 1))
            }
            try expect(try await world.db.job(ghostJob.id) == nil, "a failed update created the job")
        },
        StorageConformanceCheck("references.mustExist") { storage in
            let world = try await ConformanceWorld.make(storage)
            let ghostJob = world.fixtures.job(owner: world.owner.id, category: world.plumbing.id, at: world.next())
            let bid = world.fixtures.bid(on: ghostJob.id, by: world.contractor.id, at: world.next())
            try await expectStorageError(.missingRow, "a bid on a job that does not exist") { try await world.commit(.insertBid(bid)) }
            let message = world.fixtures.message(job: ghostJob.id, sender: world.owner.id, at: world.next())
            try await expectStorageError(.missingRow, "a message on a job that does not exist") { try await world.commit(.insertMessage(message)) }
            let stranger = UserID(world.fixtures.ids.next())
            let orphan = world.fixtures.job(owner: stranger, category: world.plumbing.id, at: world.next())
            try await expectStorageError(.missingRow, "a job whose owner does not exist") { try await world.commit(.insertJob(orphan)) }
            // Every reference to a user or a bid, not only the job's: the memory fake must refuse what the databases do.
            let job = try await world.insertJob()
            let silent = world.fixtures.message(job: job.id, sender: stranger, at: world.next())
            try await expectStorageError(.missingRow, "a message whose sender does not exist") { try await world.commit(.insertMessage(silent)) }
            let dispute = world.fixtures.dispute(job: job.id, openedBy: world.owner.id, respondent: stranger, at: world.next())
            try await expectStorageError(.missingRow, "a dispute whose respondent does not exist") { try await world.commit(.insertDispute(dispute)) }
            let contested = world.fixtures.dispute(job: job.id, openedBy: world.owner.id, respondent: world.contractor.id, at: world.next())
            try await world.commit(.insertDispute(contested))
            let resolution = DisputeResolution(outcome: .release, note: "Settled.", resolvedBy: stranger, resolvedAt: world.next())
            let resolved = try contested.resolving(resolution, at: world.next())
            try await expectStorageError(.missingRow, "a dispute resolved by a user who does not exist") {
                try await world.commit(.updateDispute(resolved))
            }
            try expect(try await world.db.dispute(contested.id) == contested, "a resolution by a missing user was stored")
            let review = world.fixtures.review(job: job.id, author: world.owner.id, subject: stranger, at: world.next())
            try await expectStorageError(.missingRow, "a review whose subject does not exist") { try await world.commit(.insertReview(review)) }
            let ghostBid = world.fixtures.bid(on: job.id, by: world.contractor.id, at: world.next())
            let escrow = world.fixtures.escrow(job: job, bid: ghostBid, at: world.next())
            try await expectStorageError(.missingRow, "an escrow whose bid does not exist") { try await world.commit(.insertEscrow(escrow)) }
            var hired = job
            hired.contractorID = stranger
            try await expectStorageError(.missingRow, "a job whose contractor does not exist") { try await world.commit(.updateJob(hired)) }
            var awarded = job
            awarded.acceptedBidID = ghostBid.id
            try await expectStorageError(.missingRow, "a job whose accepted bid does not exist") { try await world.commit(.updateJob(awarded)) }
            let liveBid = world.fixtures.bid(on: job.id, by: world.contractor.id, at: world.next())
            try await world.commit(.insertBid(liveBid))
            for (role, payer, payee) in [("homeowner", stranger, liveBid.contractorID), ("contractor", job.ownerID, stranger)] {
                let escrow = Escrow(
                    id: world.fixtures.ids.make(), jobID: job.id, bidID: liveBid.id, homeownerID: payer, contractorID: payee,
                    amount: liveBid.amount,
                    feeBasisPoints: 1_000, status: .held, paymentReference: "pi_conformance", createdAt: world.next())
                try await expectStorageError(.missingRow, "an escrow whose \(role) does not exist") { try await world.commit(.insertEscrow(escrow)) }
            }
            try expect(try await world.db.escrow(job: job.id) == nil, "an escrow with a dangling party was stored")
        },
        StorageConformanceCheck("changeSet.atomic") { storage in
            let world = try await ConformanceWorld.make(storage)
            let existing = try await world.insertJob()
            var stale = existing
            stale.version = 41
            let job = world.fixtures.job(owner: world.owner.id, category: world.plumbing.id, at: world.next())
            let bid = world.fixtures.bid(on: job.id, by: world.contractor.id, at: world.next())
            let event = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            var user = world.owner
            user.displayName = "Changed"
            try await expectStorageError(.versionConflict, "a set whose last change conflicts") {
                try await world.commit(.insertJob(job), .insertBid(bid), .appendEvent(event), .updateUser(user), .updateJob(stale))
            }
            try expect(try await world.db.job(job.id) == nil, "the job inserted earlier in a failed set exists")
            try expect(try await world.db.bid(bid.id, viewer: .admin) == nil, "the bid inserted earlier in a failed set exists")
            try expect(try await world.db.events(recipient: nil, page: PageRequest()).items.isEmpty, "the event of a failed set exists")
            try expect(try await world.db.user(user.id) == world.owner, "the user updated earlier in a failed set changed")
            try expect(try await world.db.job(existing.id) == existing, "the conflicting job changed")
            // A unique violation aborts the set just the same.
            let duplicate = TradeCategory(id: world.fixtures.ids.make(), slug: world.plumbing.slug, name: "Again")
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.categorySlug, "a set whose last change is a duplicate") {
                try await world.commit(.insertJob(job), .insertCategory(duplicate))
            }
            try expect(try await world.db.job(job.id) == nil, "the job of a set aborted by a unique violation exists")
        },
        StorageConformanceCheck("changeSet.expectVersion.job") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let message = world.fixtures.message(job: job.id, sender: world.owner.id, at: world.next())
            try await world.commit(.expectVersion(.job(job.id), version: 1), .insertMessage(message))
            var changes = ChangeSet()
            changes.update(try job.updated(title: "Moved on", description: nil, budget: nil, at: world.next()))
            try await world.db.commit(changes)
            let late = world.fixtures.message(job: job.id, sender: world.owner.id, at: world.next())
            try await expectStorageError(.versionConflict, "expectVersion of a job with an old version") {
                try await world.commit(.insertMessage(late), .expectVersion(.job(job.id), version: 1))
            }
            let messages = try await world.db.messages(job: job.id, page: PageRequest()).items
            try expect(messages == [message], "a set failing its expectVersion of a job wrote its message")
        },
        StorageConformanceCheck("changeSet.expectLiveBids") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let first = try await world.insertBid(on: job)
            let second = try await world.insertBid(on: job, by: world.contractor2)
            try await world.commit(.expectLiveBids(job.id, [first.id, second.id]))
            try await expectStorageError(.versionConflict, "expectLiveBids missing a live bid") {
                try await world.commit(.expectLiveBids(job.id, [first.id]))
            }
            try await expectStorageError(.versionConflict, "expectLiveBids naming an extra bid") {
                try await world.commit(.expectLiveBids(job.id, [first.id, second.id, BidID(world.fixtures.ids.next())]))
            }
            var changes = ChangeSet()
            changes.update(try second.withdrawing(at: world.next()))
            try await world.db.commit(changes)
            try await world.commit(.expectLiveBids(job.id, [first.id]))
            try await expectStorageError(.versionConflict, "expectLiveBids naming a withdrawn bid") {
                try await world.commit(.expectLiveBids(job.id, [first.id, second.id]))
            }
            // An accept relies on it: accepting `first` while a new bid arrived must fail.
            let late = try await world.insertBid(on: job, by: world.contractor2)
            var accept = ChangeSet()
            accept.append(.expectLiveBids(job.id, [first.id]))
            accept.update(try job.accepting(first, at: world.next()))
            accept.update(try first.accepting(at: world.next()))
            try await expectStorageError(.versionConflict, "an accept that missed a new bid") { try await world.db.commit(accept) }
            try expect(try await world.db.job(job.id) == job, "the failed accept changed the job")
            try expect(try await world.db.bid(late.id, viewer: .admin)?.status == .submitted, "the late bid changed")
        },
        StorageConformanceCheck("changeSet.expectVersion.contractorProfile") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let profile = world.fixtures.contractorProfile(for: world.contractor.id, trades: [world.plumbing.id])
            try await world.commit(.insertContractorProfile(profile))
            let first = world.fixtures.bid(on: job.id, by: world.contractor.id, at: world.next())
            try await world.commit(.expectVersion(.contractorProfile(profile.userID), version: 1), .insertBid(first))
            // An admin's vetting decision moves the profile on: a bid decided on the old profile must not land.
            var vetted = profile
            vetted.vetting = .rejected
            var changes = ChangeSet()
            changes.update(vetted)
            try await world.db.commit(changes)
            let other = try await world.insertJob(title: "Another")
            let late = world.fixtures.bid(on: other.id, by: world.contractor.id, at: world.next())
            try await expectStorageError(.versionConflict, "expectVersion of a profile with an old version") {
                try await world.commit(.insertBid(late), .expectVersion(.contractorProfile(profile.userID), version: 1))
            }
            try expect(
                try await world.db.bids(job: other.id, viewer: .admin).isEmpty, "a set failing its expectVersion of a profile wrote its bid")
            try await world.commit(.expectVersion(.contractorProfile(profile.userID), version: 2))
            try await expectStorageError(.missingRow, "expectVersion of a profile of a user without a profile") {
                try await world.commit(.expectVersion(.contractorProfile(world.contractor2.id), version: 1))
            }
        },
        StorageConformanceCheck("changeSet.expectVersion.user") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let bid = world.fixtures.bid(on: job.id, by: world.contractor.id, at: world.next())
            try await world.commit(.expectVersion(.user(world.contractor.id), version: world.contractor.version), .insertBid(bid))
            // A suspension moves the user on: an accept decided on the user as it was must not land.
            var suspended = world.contractor
            suspended.suspended = true
            try await world.commit(.updateUser(suspended))
            var accept = ChangeSet()
            accept.update(try job.accepting(bid, at: world.next()))
            accept.append(.expectVersion(.user(world.contractor.id), version: world.contractor.version))
            try await expectStorageError(.versionConflict, "expectVersion of a user with an old version") { try await world.db.commit(accept) }
            try expect(try await world.db.job(job.id) == job, "a set failing its expectVersion of a user changed the job")
            try await world.commit(.expectVersion(.user(world.contractor.id), version: world.contractor.version + 1))
            try await expectStorageError(.missingRow, "expectVersion of a user that does not exist") {
                try await world.commit(.expectVersion(.user(UserID(world.fixtures.ids.next())), version: 1))
            }
        },
        StorageConformanceCheck("changeSet.manyBidUpdatesInOrder") { storage in
            // A storage may write runs of updates together; the outcome must stay that of applying them one by one.
            let world = try await ConformanceWorld.make(storage)
            let jobs = [try await world.insertJob(), try await world.insertJob(title: "Fix a second tap")]
            var bids: [Bid] = []
            for job in jobs {
                for contractor in [world.contractor, world.contractor2] { bids.append(try await world.insertBid(on: job, by: contractor)) }
            }
            let ghost = world.fixtures.bid(on: jobs[0].id, by: world.contractor.id, at: world.next())
            var stale = bids[2]
            stale.version = 7

            // The first failing update in order decides the error, and nothing of the set is written.
            let failing: [(StorageError.Code, String, [Bid])] = [
                (.missingRow, "a bid that does not exist, then a stale bid", [bids[0], ghost, stale]),
                (.versionConflict, "a stale bid, then a bid that does not exist", [bids[0], stale, ghost]),
            ]
            for (code, name, updates) in failing {
                var changes = ChangeSet()
                for bid in updates {
                    var changed = bid
                    changed.message = "Changed"
                    changes.update(changed)
                }
                try await expectStorageError(code, "updating \(name)") { try await world.db.commit(changes) }
                try expect(try await world.db.bid(bids[0].id, viewer: .admin) == bids[0], "a failed set (\(name)) changed a bid")
            }

            // Updates interleaved with events, and a bid updated twice in one set (the second update sees the first).
            var changes = ChangeSet()
            var committed: [Bid] = []
            for (index, bid) in bids.enumerated() {
                var changed = bid
                changed.message = "Update \(index) of \(trickyText)"
                committed.append(changes.update(changed))
                changes.append(
                    .appendEvent(try world.fixtures.event(job: bid.jobID, sender: world.owner.id, recipient: bid.contractorID, at: world.next())))
            }
            var again = committed[1]
            again.amount = Money(30_000, again.amount.currency)
            committed[1] = changes.update(again)
            try await world.db.commit(changes)
            for bid in committed {
                try expect(try await world.db.bid(bid.id, viewer: .admin) == bid, "a bid of a multi-update set differs after read-back")
            }
            try expect(committed[1].version == 3, "a bid updated twice in one set must be at version 3")
            let inbox = try await world.db.events(recipient: world.contractor2.id, page: PageRequest()).items
            try expect(inbox.count == 2, "the events of a multi-update set must reach their recipients")
        },
        StorageConformanceCheck("concurrency.oneWinner") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let db = world.db
            let now = world.next()
            let outcomes = try await withThrowingTaskGroup(of: StorageError.Code?.self) { group in
                for index in 0..<20 {
                    let update = try job.updated(title: "Title \(index)", description: nil, budget: nil, at: now)
                    group.addTask {
                        var changes = ChangeSet()
                        changes.update(update)
                        do {
                            try await db.commit(changes)
                            return nil
                        } catch let error as StorageError {
                            return error.code
                        }
                    }
                }
                var outcomes: [StorageError.Code?] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let winners = outcomes.filter { $0 == nil }.count
            try expect(winners == 1, "\(winners) of 20 concurrent updates from the same version succeeded, expected exactly 1")
            try expect(outcomes.allSatisfy { $0 == nil || $0 == .versionConflict }, "losers must fail with versionConflict: \(outcomes)")
            try expect(try await world.db.job(job.id)?.version == 2, "the job must end at version 2")
        },
    ]
}
