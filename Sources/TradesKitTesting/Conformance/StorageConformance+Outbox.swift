import Foundation
import TradesKit

extension StorageConformance {
    static let outboxChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("outbox.claimLeaseDeliver") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            var events: [OutboxEvent] = []
            for _ in 0..<4 {
                let event = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
                try await world.commit(.appendEvent(event))
                events.append(event)
            }
            var future = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            future.delivery.availableAt = world.clock.now().addingTimeInterval(3_600)
            try await world.commit(.appendEvent(future))
            let now = world.next()
            let lease = now.addingTimeInterval(60)
            let first = try await world.db.claimEvents(limit: 3, now: now, leaseUntil: lease)
            try expect(first.map(\.id) == events.prefix(3).map(\.id), "claimEvents must claim the oldest available pending events, up to limit")
            try expect(first.allSatisfy { $0.delivery.availableAt == lease }, "claimed events must be leased until leaseUntil")
            let second = try await world.db.claimEvents(limit: 10, now: now, leaseUntil: lease)
            try expect(second.map(\.id) == [events[3].id], "leased events must not be claimed again; events available later must wait")
            try expect(try await world.db.claimEvents(limit: 10, now: now, leaseUntil: lease).isEmpty, "nothing left to claim")
            try await world.db.markDelivered(first.map(\.id))
            let afterLease = lease.addingTimeInterval(1)
            let reclaimed = try await world.db.claimEvents(limit: 10, now: afterLease, leaseUntil: afterLease.addingTimeInterval(60))
            try expect(reclaimed.map(\.id) == [events[3].id], "an undelivered event must be claimable again after its lease")
            let stored = try await world.db.events(recipient: nil, page: PageRequest()).items
            try expect(stored.filter { $0.delivery.status == .delivered }.map(\.id) == first.map(\.id), "markDelivered must mark delivered")
            try await world.db.markDelivered(reclaimed.map(\.id))
            let late = future.delivery.availableAt
            let finally = try await world.db.claimEvents(limit: 10, now: late, leaseUntil: late.addingTimeInterval(60))
            try expect(finally.map(\.id) == [future.id], "an event must be claimable once availableAt <= now")
        },
        StorageConformanceCheck("outbox.failureRetryAndDeadLetter") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let retried = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            let dying = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            try await world.commit(.appendEvent(retried), .appendEvent(dying))
            let now = world.next()
            _ = try await world.db.claimEvents(limit: 10, now: now, leaseUntil: now.addingTimeInterval(30))
            let retryAt = now.addingTimeInterval(300)
            try await world.db.recordFailure(retried.id, attempts: 1, retryAt: retryAt, reason: "HTTP 503")
            try await world.db.recordFailure(dying.id, attempts: 8, retryAt: nil, reason: "HTTP 410")
            let stored = try await world.db.events(recipient: nil, page: PageRequest()).items
            let retriedNow = try requireValue(stored.first { $0.id == retried.id }, "the retried event vanished")
            try expect(
                retriedNow.delivery == OutboxEvent.Delivery(status: .pending, attempts: 1, availableAt: retryAt, lastError: "HTTP 503"),
                "recordFailure with retryAt must leave the event pending until retryAt: \(retriedNow.delivery)")
            let dead = try await world.db.deadLetters(limit: 10)
            try expect(dead.map(\.id) == [dying.id], "recordFailure without retryAt must dead-letter the event")
            try expect(
                dead.first?.delivery.status == .dead && dead.first?.delivery.attempts == 8 && dead.first?.delivery.lastError == "HTTP 410",
                "a dead letter must keep its attempts and reason")
            let beforeRetry = retryAt.addingTimeInterval(-1)
            try expect(
                try await world.db.claimEvents(limit: 10, now: beforeRetry, leaseUntil: retryAt).isEmpty,
                "an event must not be claimed before retryAt, and a dead one never")
            let claimed = try await world.db.claimEvents(limit: 10, now: retryAt, leaseUntil: retryAt.addingTimeInterval(30))
            try expect(claimed.map(\.id) == [retried.id], "a failed event must be claimable at retryAt")
            try expect(try await world.db.deadLetters(limit: 0).isEmpty, "deadLetters must honour limit")
        },
        StorageConformanceCheck("outbox.lateConsumer") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let delivered = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            let dead = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            try await world.commit(.appendEvent(delivered), .appendEvent(dead))
            let now = world.next()
            _ = try await world.db.claimEvents(limit: 10, now: now, leaseUntil: now.addingTimeInterval(30))
            // Another consumer, whose lease ran out meanwhile, delivered the first event and dead-lettered the second.
            try await world.db.markDelivered([delivered.id])
            try await world.db.recordFailure(dead.id, attempts: 8, retryAt: nil, reason: "HTTP 410")
            // The first consumer's failures come late: they change neither.
            try await world.db.recordFailure(delivered.id, attempts: 1, retryAt: now.addingTimeInterval(60), reason: "timeout")
            try await world.db.recordFailure(delivered.id, attempts: 9, retryAt: nil, reason: "timeout")
            try await world.db.recordFailure(dead.id, attempts: 2, retryAt: now.addingTimeInterval(60), reason: "timeout")
            let stored = try await world.db.events(recipient: nil, page: PageRequest()).items
            let first = try requireValue(stored.first { $0.id == delivered.id }, "the delivered event vanished")
            try expect(
                first.delivery.status == .delivered && first.delivery.attempts == 0, "a late failure changed a delivered event: \(first.delivery)")
            let deadLetters = try await world.db.deadLetters(limit: 10)
            try expect(deadLetters.map(\.id) == [dead.id] && deadLetters.first?.delivery.attempts == 8, "a late failure revived a dead letter")
            let later = now.addingTimeInterval(120)
            try expect(try await world.db.claimEvents(limit: 10, now: later, leaseUntil: later).isEmpty, "a late failure made an event claimable")
            // A delivery that succeeds after all is recorded, dead-lettered or not.
            try await world.db.markDelivered([dead.id])
            try expect(try await world.db.deadLetters(limit: 10).isEmpty, "markDelivered must take an event out of the dead letters")
        },
    ]
}
