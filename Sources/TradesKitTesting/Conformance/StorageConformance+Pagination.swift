import Foundation
import TradesKit

extension StorageConformance {
    static let paginationChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("pagination.jobsStableUnderInserts") { storage in
            let world = try await ConformanceWorld.make(storage)
            // Pairs of jobs share a timestamp so the id tie-breaker matters.
            var initial: [Job] = []
            for index in 0..<5 {
                let date = world.next()
                initial.append(try await world.insertJob(title: "Job \(index)a", at: date))
                initial.append(try await world.insertJob(title: "Job \(index)b", at: date))
            }
            let expected = initial.sorted { keysetLess(($1.createdAt, $1.id.rawValue), ($0.createdAt, $0.id.rawValue)) }.map(\.id)
            var inserted = 0
            let seen = try await collectPages { cursor in
                let page = try await world.db.jobs(JobQuery(cursor: cursor, limit: 3))
                try expect(page.items.count <= 3, "a page must hold at most `limit` items")
                _ = try await world.insertJob(title: "Newer \(inserted)")
                inserted += 1
                return page
            }.map(\.id)
            try expect(Set(seen).count == seen.count, "a job was repeated across pages")
            try expect(seen == expected, "paging jobs newest first while inserting newer ones must list exactly the original jobs in order")
            let all = try await world.db.jobs(JobQuery(limit: 100)).items
            try expect(all.count == initial.count + inserted, "the jobs inserted while paging must exist")
            let exact = try await world.db.jobs(JobQuery(limit: all.count))
            try expect(exact.nextCursor == nil, "a page that holds the last item must have no nextCursor")
            let last = try requireValue(all.last, "no jobs")
            let cursor = PageCursor(after: last.createdAt, id: last.id.rawValue)
            try expect(try await world.db.jobs(JobQuery(cursor: cursor)).items.isEmpty, "a cursor past the oldest job must give an empty page")
            let first = try await world.db.jobs(JobQuery(limit: 2))
            let firstCursor = try requireValue(first.nextCursor, "a partial page must have a nextCursor")
            let lastOfPage = try requireValue(first.items.last, "an empty first page")
            try expect(
                firstCursor == PageCursor(after: lastOfPage.createdAt, id: lastOfPage.id.rawValue),
                "nextCursor must be the last item's (createdAt, id)")
        },
        StorageConformanceCheck("pagination.messagesStableUnderInserts") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            var initial: [Message] = []
            for index in 0..<4 {
                let date = world.next()
                for sender in [world.owner, world.contractor] {
                    let message = world.fixtures.message(job: job.id, sender: sender.id, body: "Message \(index)", at: date)
                    try await world.commit(.insertMessage(message))
                    initial.append(message)
                }
            }
            let otherJob = try await world.insertJob()
            try await world.commit(.insertMessage(world.fixtures.message(job: otherJob.id, sender: world.owner.id, at: world.next())))
            let expected = initial.sorted { keysetLess(($0.createdAt, $0.id.rawValue), ($1.createdAt, $1.id.rawValue)) }.map(\.id)
            var added: [MessageID] = []
            let seen = try await collectPages { cursor in
                let page = try await world.db.messages(job: job.id, page: PageRequest(cursor: cursor, limit: 3))
                let newer = world.fixtures.message(job: job.id, sender: world.owner.id, body: "Newer", at: world.next())
                try await world.commit(.insertMessage(newer))
                added.append(newer.id)
                return page
            }.map(\.id)
            try expect(Set(seen).count == seen.count, "a message was repeated across pages")
            try expect(Array(seen.prefix(expected.count)) == expected, "paging messages oldest first must list the original messages in order")
            try expect(Set(seen.dropFirst(expected.count)).isSubset(of: Set(added)), "paging messages listed another job's message")
        },
        StorageConformanceCheck("pagination.eventsFeedStableUnderInserts") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            var initial: [OutboxEvent] = []
            for _ in 0..<4 {
                let date = world.next()
                for (sender, recipient) in [(world.owner, world.contractor), (world.contractor, world.owner)] {
                    let event = try world.fixtures.event(job: job.id, sender: sender.id, recipient: recipient.id, at: date)
                    try await world.commit(.appendEvent(event))
                    initial.append(event)
                }
            }
            let unrelated = try world.fixtures.event(job: job.id, sender: world.admin.id, recipient: world.contractor2.id, at: world.next())
            try await world.commit(.appendEvent(unrelated))
            let expected = initial.sorted { keysetLess(($0.occurredAt, $0.id.rawValue), ($1.occurredAt, $1.id.rawValue)) }.map(\.id)
            var added: [EventID] = []
            let seen = try await collectPages { cursor in
                let page = try await world.db.events(recipient: world.owner.id, page: PageRequest(cursor: cursor, limit: 3))
                let newer = try world.fixtures.event(job: job.id, sender: world.contractor.id, recipient: world.owner.id, at: world.next())
                try await world.commit(.appendEvent(newer))
                added.append(newer.id)
                return page
            }.map(\.id)
            try expect(Set(seen).count == seen.count, "an event was repeated across feed pages")
            try expect(Array(seen.prefix(expected.count)) == expected, "the feed must list the recipient's events oldest first")
            try expect(Set(seen.dropFirst(expected.count)).isSubset(of: Set(added)), "the feed listed an event of other recipients")
            let forOther = try await world.db.events(recipient: world.contractor2.id, page: PageRequest()).items.map(\.id)
            try expect(forOther == [unrelated.id], "events(recipient:) must list only events naming the recipient")
            let everything = try await collectPages { cursor in
                try await world.db.events(recipient: nil, page: PageRequest(cursor: cursor, limit: 4))
            }
            try expect(everything.count == initial.count + 1 + added.count, "events(recipient: nil) must list every event of the tenant")
        },
        StorageConformanceCheck("pagination.otherListings") { storage in
            let world = try await ConformanceWorld.make(storage)
            // Users: ascending by creation; role filter.
            let users = try await collectPages { cursor in try await world.db.users(role: nil, page: PageRequest(cursor: cursor, limit: 2)) }
            try expect(
                users.map(\.id) == [world.owner, world.otherOwner, world.contractor, world.contractor2, world.admin].map(\.id),
                "users(role:page:) must list users oldest first across pages")
            let contractors = try await world.db.users(role: .contractor, page: PageRequest()).items
            try expect(contractors.map(\.id) == [world.contractor.id, world.contractor2.id], "users(role:) must filter by role")
            // A contractor's bids: newest first.
            var bids: [Bid] = []
            for _ in 0..<5 {
                let job = try await world.insertJob()
                bids.append(try await world.insertBid(on: job))
            }
            let listed = try await collectPages { cursor in
                try await world.db.bids(contractor: world.contractor.id, page: PageRequest(cursor: cursor, limit: 2))
            }
            try expect(listed == bids.reversed(), "bids(contractor:) must list the contractor's bids newest first across pages")
            // Reviews about a subject: newest first.
            var reviews: [Review] = []
            for bid in bids {
                let review = world.fixtures.review(job: bid.jobID, author: world.owner.id, subject: world.contractor.id, at: world.next())
                try await world.commit(.insertReview(review))
                reviews.append(review)
            }
            let at = world.next()
            let listedReviews = try await collectPages { cursor in
                try await world.db.reviews(subject: world.contractor.id, visibleAt: at, page: PageRequest(cursor: cursor, limit: 2))
            }
            try expect(listedReviews == reviews.reversed(), "reviews(subject:) must list newest first across pages")
            // Disputes: newest first.
            var disputes: [Dispute] = []
            for bid in bids {
                let dispute = world.fixtures.dispute(job: bid.jobID, openedBy: world.owner.id, respondent: world.contractor.id, at: world.next())
                try await world.commit(.insertDispute(dispute))
                disputes.append(dispute)
            }
            let listedDisputes = try await collectPages { cursor in
                try await world.db.disputes(participant: nil, statuses: nil, page: PageRequest(cursor: cursor, limit: 2))
            }
            try expect(listedDisputes == disputes.reversed(), "disputes() must list newest first across pages")
        },
    ]
}
