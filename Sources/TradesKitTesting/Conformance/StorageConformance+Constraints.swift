import Foundation
import TradesKit

extension StorageConformance {
    static let constraintChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("unique.tenantSlug") { storage in
            let world = try await ConformanceWorld.make(storage, slug: "acme")
            let twin = world.fixtures.tenant(slug: "acme", at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.tenantSlug, "a second tenant with the same slug") {
                var changes = ChangeSet()
                changes.append(.insertTenant(twin))
                try await storage.tenant(twin.id).commit(changes)
            }
            try expect(try await storage.tenant(twin.id).tenantRecord() == nil, "the duplicate tenant was stored")
            let other = try await ConformanceWorld.make(storage, slug: "beta", fixtures: world.fixtures, clock: world.clock)
            var renamed = other.tenant
            renamed.slug = "acme"
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.tenantSlug, "renaming a tenant to a taken slug") {
                try await other.commit(.updateTenant(renamed))
            }
        },
        StorageConformanceCheck("unique.userEmailCaseInsensitive") { storage in
            let world = try await ConformanceWorld.make(storage)
            let twin = try world.fixtures.user(.contractor, email: "OWNER@ACME.example.COM", at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.userEmail, "the same e-mail in another case") {
                try await world.commit(.insertUser(twin))
            }
            var moved = world.contractor
            moved.email = try EmailAddress("Owner@Acme.Example.com")
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.userEmail, "changing an e-mail to a taken one") {
                try await world.commit(.updateUser(moved))
            }
            // The same address is free in another tenant, and lookups ignore case.
            let other = try await ConformanceWorld.make(storage, slug: "beta", fixtures: world.fixtures, clock: world.clock)
            let elsewhere = try world.fixtures.user(.homeowner, email: "owner@acme.example.com", at: world.next())
            try await other.commit(.insertUser(elsewhere))
            try expect(
                try await world.db.user(email: try EmailAddress("OWNER@acme.EXAMPLE.com")) == world.owner,
                "user(email:) must compare case-insensitively")
        },
        StorageConformanceCheck("unique.categorySlug") { storage in
            let world = try await ConformanceWorld.make(storage)
            let twin = TradeCategory(id: world.fixtures.ids.make(), slug: "plumbing", name: "Plumbing again")
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.categorySlug, "a second category with the same slug") {
                try await world.commit(.insertCategory(twin))
            }
            // Every tenant has its own catalogue.
            _ = try await ConformanceWorld.make(storage, slug: "beta", fixtures: world.fixtures, clock: world.clock)
        },
        StorageConformanceCheck("unique.liveBid") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let bid = try await world.insertBid(on: job)
            let second = world.fixtures.bid(on: job.id, by: world.contractor.id, amount: 1_000, at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.liveBid, "a second live bid by the same contractor") {
                try await world.commit(.insertBid(second))
            }
            _ = try await world.insertBid(on: job, by: world.contractor2)
            let otherJob = try await world.insertJob()
            _ = try await world.insertBid(on: otherJob)
            var changes = ChangeSet()
            changes.update(try bid.withdrawing(at: world.next()))
            try await world.db.commit(changes)
            try await world.commit(.insertBid(second))
            let live = try await world.db.bids(job: job.id, viewer: .admin).filter { $0.isLive && $0.contractorID == world.contractor.id }
            try expect(live.map(\.id) == [second.id], "a new bid after withdrawal must be allowed and be the only live one")
            let accepted = try await world.award(job, to: second)
            let third = world.fixtures.bid(on: job.id, by: world.contractor.id, amount: 2_000, at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.liveBid, "a bid beside an accepted bid") {
                try await world.commit(.insertBid(third))
            }
            _ = accepted
        },
        StorageConformanceCheck("unique.escrowJob") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let bid = try await world.insertBid(on: job)
            try await world.commit(.insertEscrow(world.fixtures.escrow(job: job, bid: bid, at: world.next())))
            let twin = world.fixtures.escrow(job: job, bid: bid, at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.escrowJob, "a second escrow for a job") {
                try await world.commit(.insertEscrow(twin))
            }
        },
        StorageConformanceCheck("unique.openDispute") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let first = world.fixtures.dispute(job: job.id, openedBy: world.owner.id, respondent: world.contractor.id, at: world.next())
            try await world.commit(.insertDispute(first))
            let second = world.fixtures.dispute(job: job.id, openedBy: world.contractor.id, respondent: world.owner.id, at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.openDispute, "a second unresolved dispute") {
                try await world.commit(.insertDispute(second))
            }
            try expect(try await world.db.openDispute(job: job.id) == first, "openDispute(job:) must answer the unresolved dispute")
            var changes = ChangeSet()
            let resolution = DisputeResolution(outcome: .release, note: "Done", resolvedBy: world.admin.id, resolvedAt: world.next())
            changes.update(try first.resolving(resolution, at: world.next()))
            try await world.db.commit(changes)
            try expect(try await world.db.openDispute(job: job.id) == nil, "a resolved dispute is not open")
            try await world.commit(.insertDispute(second))
            try expect(try await world.db.openDispute(job: job.id) == second, "a new dispute after resolution must be allowed")
        },
        StorageConformanceCheck("unique.reviewAuthor") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            try await world.commit(
                .insertReview(
                    world.fixtures.review(
                        job: job.id, author: world.owner.id, subject: world.contractor.id,
                        at: world.next())))
            let twin = world.fixtures.review(job: job.id, author: world.owner.id, subject: world.contractor.id, rating: 1, at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.reviewAuthor, "a second review by the same author") {
                try await world.commit(.insertReview(twin))
            }
            try await world.commit(
                .insertReview(
                    world.fixtures.review(
                        job: job.id, author: world.contractor.id, subject: world.owner.id,
                        at: world.next())))
            try expect(try await world.db.reviews(job: job.id).count == 2, "the other party's review must be allowed")
        },
        StorageConformanceCheck("unique.primaryKey") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.primaryKey, "inserting a job twice") {
                try await world.commit(.insertJob(job))
            }
            var sameID = try world.fixtures.user(.homeowner, at: world.next())
            sameID = User(id: world.owner.id, email: sameID.email, displayName: "Twin", role: .homeowner, createdAt: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.primaryKey, "a user with a taken id") {
                try await world.commit(.insertUser(sameID))
            }
            let message = world.fixtures.message(job: job.id, sender: world.owner.id, at: world.next())
            try await world.commit(.insertMessage(message))
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.primaryKey, "inserting a message twice") {
                try await world.commit(.insertMessage(message))
            }
            let event = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            try await world.commit(.appendEvent(event))
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.primaryKey, "appending an event twice") {
                try await world.commit(.appendEvent(event))
            }
        },
        StorageConformanceCheck("tenants.insertOnlyThroughOwnHandle") { storage in
            let world = try await ConformanceWorld.make(storage)
            let stranger = world.fixtures.tenant(slug: "stranger", at: world.next())
            // Not a missing row nor a conflict core could retry: a misuse of the handle, refused as a failure.
            try await expectStorageError(.failure, "inserting another tenant through a tenant's handle") {
                try await world.commit(.insertTenant(stranger))
            }
            try expect(try await storage.tenant(slug: "stranger") == nil, "a tenant was inserted through another tenant's handle")
        },
    ]
}
