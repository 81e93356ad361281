import Foundation
import TradesKit

/// Text that storages must keep byte for byte: unicode, quotes, and SQL that must never run.
let trickyText = "Robert'); DROP TABLE jobs;-- \"quoted\" ünïcödé 🛠️ 中文 \\ % _ \n second line"

extension StorageConformance {
    static let roundTripChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("roundTrip.tenant") { storage in
            let clock = ManualClock()
            let fixtures = Fixtures()
            var tenant = fixtures.tenant(slug: "acme", at: clock.now())
            tenant.displayName = trickyText
            tenant.settings.branding.logoURL = "https://example.com/logo.png"
            tenant.settings.policies.vettingRequiredToBid = true
            var plain = fixtures.tenant(slug: "plain", currency: .eur, feeBasisPoints: 0, at: clock.now().addingTimeInterval(1))
            plain.settings.branding.smsSender = nil
            for value in [tenant, plain] {
                var changes = ChangeSet()
                changes.append(.insertTenant(value))
                try await storage.tenant(value.id).commit(changes)
                let read = try await storage.tenant(value.id).tenantRecord()
                try expect(read == value, "tenant read back differs: \(String(describing: read)) vs \(value)")
                let bySlug = try await storage.tenant(slug: value.slug)
                try expect(bySlug == value, "tenant(slug:) read back differs")
            }
        },
        StorageConformanceCheck("roundTrip.userAndProfile") { storage in
            let world = try await ConformanceWorld.make(storage)
            var full = try world.fixtures.user(
                .contractor, email: "Full.Name+tag@Example.COM", displayName: trickyText, phone: "+14155550123",
                at: world.next())
            full.passwordHash = "memory$s1$0123456789abcdef"
            full.suspended = true
            full.sessionGeneration = 7
            full.notifications = NotificationPreferences(email: false, sms: true)
            var bare = try world.fixtures.user(.homeowner, at: world.next())
            bare.emailVerified = false
            try await world.commit(.insertUser(full), .insertUser(bare))
            try expect(try await world.db.user(full.id) == full, "user with every optional set differs after read-back")
            try expect(try await world.db.user(bare.id) == bare, "user with optionals nil differs after read-back")
            try expect(try await world.db.user(email: full.email) == full, "user(email:) did not find the user")
            var ended = bare
            ended.sessionGeneration = 1
            ended.notifications = NotificationPreferences(email: true, sms: false)
            try await world.commit(.updateUser(ended))
            ended.version += 1
            try expect(try await world.db.user(bare.id) == ended, "a user's session generation or notification preferences differ after an update")
            var profile = world.fixtures.contractorProfile(
                for: full.id, trades: [world.plumbing.id, world.roofing.id],
                center: GeoPoint(latitude: -33.8688, longitude: 151.2093), radiusKm: 12.5)
            profile.headline = trickyText
            profile.licence = Licence(number: "LIC-42", region: "NSW", expiresAt: world.next())
            profile.insuranceExpiresAt = world.next()
            let bareProfile = world.fixtures.contractorProfile(for: world.contractor.id, trades: [], vetting: .pending)
            try await world.commit(.insertContractorProfile(profile), .insertContractorProfile(bareProfile))
            try expect(try await world.db.contractorProfile(full.id) == profile, "contractor profile differs after read-back")
            try expect(try await world.db.contractorProfile(world.contractor.id) == bareProfile, "bare contractor profile differs")
            try expect(try await world.db.contractorProfile(bare.id) == nil, "a user without a profile has one")
        },
        StorageConformanceCheck("roundTrip.categories") { storage in
            let world = try await ConformanceWorld.make(storage)
            let extra = TradeCategory(id: world.fixtures.ids.make(), slug: "a-tricky", name: trickyText)
            try await world.commit(.insertCategory(extra))
            try expect(try await world.db.category(extra.id) == extra, "category differs after read-back")
            let all = try await world.db.categories()
            let expected = [world.plumbing, world.roofing, extra].sorted { $0.name < $1.name }
            try expect(Set(all) == Set(expected), "categories() does not list exactly the tenant's categories")
            try expect(all.map(\.name) == all.map(\.name).sorted(), "categories() is not ordered by name")
        },
        StorageConformanceCheck("roundTrip.jobAndBid") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob(
                title: trickyText, description: trickyText,
                location: GeoPoint(latitude: 40.712776, longitude: -74.005974))
            try expect(try await world.db.job(job.id) == job, "job with optionals nil differs after read-back")
            let bid = try await world.insertBid(on: job, amount: 9_223_372_036_854_775_807)
            try expect(try await world.db.bid(bid.id, viewer: .admin) == bid, "bid differs after read-back (Int64.max amount)")
            var full = world.fixtures.job(owner: world.owner.id, category: world.roofing.id, status: .closed, at: world.next())
            full.acceptedBidID = bid.id
            full.contractorID = world.contractor.id
            full.updatedAt = world.next()
            full.completedAt = world.next()
            full.closedAt = world.next()
            full.version = 7
            try await world.commit(.insertJob(full))
            try expect(try await world.db.job(full.id) == full, "job with every optional set differs after read-back")
        },
        StorageConformanceCheck("roundTrip.escrowAndLedger") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let bid = try await world.insertBid(on: job)
            let escrow = world.fixtures.escrow(job: job, bid: bid, status: .authorizationPending, paymentReference: nil, at: world.next())
            try await world.commit(.insertEscrow(escrow))
            try expect(try await world.db.escrow(job: job.id) == escrow, "escrow with optionals nil differs after read-back")
            var settled = try escrow.holding(reference: "pi_'; DROP TABLE escrows;--", at: world.next())
            settled = try settled.capturing(at: world.next())
            settled = try settled.settling(
                refund: Money(5_000, .usd), contractor: Money(18_000, .usd), fee: Money(2_000, .usd),
                transferReference: "tr_123", at: world.next())
            var changes = ChangeSet()
            let committed = changes.update(settled)
            try await world.db.commit(changes)
            try expect(try await world.db.escrow(job: job.id) == committed, "escrow with every field set differs after read-back")
            let hold = try world.fixtures.holdTransaction(job: job.id, amount: bid.amount, at: world.next())
            let capture = try LedgerTransaction(
                kind: .capture, jobID: job.id, lines: Ledger.capture(bid.amount), at: world.next(),
                ids: world.fixtures.ids)
            try await world.commit(.insertLedgerTransaction(hold), .insertLedgerTransaction(capture))
            let entries = try await world.db.ledgerEntries(job: job.id)
            try expect(Set(entries) == Set(hold.entries + capture.entries), "ledger entries differ after read-back")
            try expect(entries.count == hold.entries.count + capture.entries.count, "ledger entries duplicated")
            try expect(zip(entries, entries.dropFirst()).allSatisfy { $0.postedAt <= $1.postedAt }, "ledger entries not in posting order")
            try expect(try await world.db.ledgerEntries(job: nil).count == entries.count, "ledgerEntries(job: nil) misses entries")
        },
        StorageConformanceCheck("roundTrip.settlementInstructions") { storage in
            let world = try await ConformanceWorld.make(storage)
            // Owed and due at three instants (two tied), owed with no due time, owed and due later, and owing nothing.
            let (early, late, now, later) = (world.next(), world.next(), world.next(), world.next())
            let shapes: [(SettlementInstruction?, Date?, Int)] = [
                (.settle(refund: Money(12_345, .usd)), late, 2), (.capture, nil, 0), (.void, early, 1), (.settle(refund: .zero(.usd)), late, 0),
                (.capture, later, 7), (nil, nil, 0),
            ]
            var escrows: [Escrow] = []
            for (instruction, due, failures) in shapes {
                let job = try await world.insertJob()
                let bid = try await world.insertBid(on: job)
                var escrow = world.fixtures.escrow(job: job, bid: bid, status: .held, paymentReference: "pi_1", at: world.next())
                escrow.instruction = instruction
                escrow.settlementDueAt = due
                escrow.settlementFailures = failures
                try await world.commit(.insertEscrow(escrow))
                try expect(try await world.db.escrow(job: job.id) == escrow, "escrow with instruction \(String(describing: instruction)) differs")
                escrows.append(escrow)
            }
            let tied = [escrows[0], escrows[3]].sorted { $0.id.rawValue.uuidString < $1.id.rawValue.uuidString }
            let due = [escrows[1], escrows[2]] + tied
            var pending = try await world.db.pendingSettlements(dueBy: now, limit: 10)
            try expect(pending == due, "pendingSettlements is not the instructions due: those without a due time, then the longest due, then by id")
            try expect(try await world.db.pendingSettlements(dueBy: now, limit: 2) == Array(due.prefix(2)), "pendingSettlements ignores its limit")
            try expect(
                try await world.db.pendingSettlements(dueBy: early, limit: 10) == Array(due.prefix(2)),
                "pendingSettlements misses an instruction due at the instant asked for, or lists one due after it")
            try expect(
                try await world.db.pendingSettlements(dueBy: later, limit: 10) == due + [escrows[4]], "pendingSettlements misses one due later")
            for limit in [0, -1, Int.min] {
                try expect(
                    try await world.db.pendingSettlements(dueBy: later, limit: limit).isEmpty, "pendingSettlements(limit: \(limit)) is not empty")
            }
            // Settling clears the instruction and the escrow leaves the list; one postponed leaves it until its new due
            // time; a new instruction joins it by its due time.
            var changes = ChangeSet()
            var settled = try escrows[2].capturing(at: world.next())
            (settled.instruction, settled.settlementDueAt, settled.settlementFailures) = (nil, nil, 0)
            changes.update(settled)
            var postponed = escrows[1]
            (postponed.settlementDueAt, postponed.settlementFailures) = (later, 1)
            let postponedCommitted = changes.update(postponed)
            var instructed = escrows[5]
            (instructed.instruction, instructed.settlementDueAt, instructed.updatedAt) = (.void, early, world.next())
            let first = changes.update(instructed)
            try await world.db.commit(changes)
            pending = try await world.db.pendingSettlements(dueBy: now, limit: 10)
            try expect(pending == [first] + tied, "pendingSettlements does not follow instructions set, postponed and cleared")
            try expect(try await world.db.escrow(job: postponed.jobID) == postponedCommitted, "a postponed escrow differs after read-back")
        },
        StorageConformanceCheck("roundTrip.heldEscrows") { storage in
            let world = try await ConformanceWorld.make(storage)
            // Opened at six instants, inserted newest first: the order is the opening's, not the insertion's.
            let opened = (0..<6).map { _ in world.next() }
            let shapes: [(EscrowStatus, SettlementInstruction?)] = [
                (.held, nil), (.held, nil), (.held, .capture), (.captured, nil), (.authorizationPending, nil), (.held, nil),
            ]
            var escrows: [Escrow] = []
            for (index, (status, instruction)) in shapes.enumerated().reversed() {
                let job = try await world.insertJob()
                let bid = try await world.insertBid(on: job)
                var escrow = world.fixtures.escrow(job: job, bid: bid, status: status, paymentReference: "pi_1", at: opened[index])
                escrow.instruction = instruction
                try await world.commit(.insertEscrow(escrow))
                escrows.insert(escrow, at: 0)
            }
            try expect(
                try await world.db.heldEscrows(openedBefore: opened[5], limit: 10) == [escrows[0], escrows[1], escrows[5]],
                "heldEscrows is not the held escrows with nothing owed, oldest first")
            try expect(
                try await world.db.heldEscrows(openedBefore: opened[1], limit: 10) == [escrows[0], escrows[1]],
                "heldEscrows does not stop at its cutoff (inclusive)")
            try expect(try await world.db.heldEscrows(openedBefore: opened[5], limit: 1) == [escrows[0]], "heldEscrows ignores its limit")
            try expect(
                try await world.db.heldEscrows(openedBefore: opened[0].addingTimeInterval(-1), limit: 10).isEmpty,
                "heldEscrows answers escrows opened after its cutoff")
            for limit in [0, -1, Int.min] {
                try expect(try await world.db.heldEscrows(openedBefore: opened[5], limit: limit).isEmpty, "heldEscrows(limit: \(limit)) is not empty")
            }
            // Captured, the first leaves the list.
            var captured = try escrows[0].capturing(at: world.next())
            captured.instruction = nil
            try await world.commit(.updateEscrow(captured))
            try expect(
                try await world.db.heldEscrows(openedBefore: opened[5], limit: 10) == [escrows[1], escrows[5]],
                "heldEscrows still answers a captured escrow")
            // Another tenant's held escrows are not this tenant's.
            let other = try await ConformanceWorld.make(storage, slug: "other", fixtures: world.fixtures, clock: world.clock)
            try expect(try await other.db.heldEscrows(openedBefore: opened[5], limit: 10).isEmpty, "heldEscrows answers another tenant's escrows")
        },
        StorageConformanceCheck("roundTrip.disputeWithResolution") { storage in
            let world = try await ConformanceWorld.make(storage)
            let outcomes: [DisputeOutcome] = [.partialRefund(Money(12_345, .usd)), .release, .fullRefund]
            for outcome in outcomes {
                let job = try await world.insertJob()
                let dispute = world.fixtures.dispute(
                    job: job.id, openedBy: world.owner.id, respondent: world.contractor.id, reason: trickyText,
                    at: world.next())
                try await world.commit(.insertDispute(dispute))
                try expect(try await world.db.dispute(dispute.id) == dispute, "dispute with optionals nil differs after read-back")
                let answered = try dispute.responding(trickyText, at: world.next())
                let resolution = DisputeResolution(outcome: outcome, note: trickyText, resolvedBy: world.admin.id, resolvedAt: world.next())
                let resolved = try answered.resolving(resolution, at: world.next())
                var changes = ChangeSet()
                let committed = changes.update(resolved)
                try await world.db.commit(changes)
                try expect(try await world.db.dispute(dispute.id) == committed, "dispute resolved with \(outcome.name) differs after read-back")
            }
        },
        StorageConformanceCheck("roundTrip.reviewMessageEvent") { storage in
            let world = try await ConformanceWorld.make(storage)
            let job = try await world.insertJob()
            let review = world.fixtures.review(
                job: job.id, author: world.owner.id, subject: world.contractor.id, rating: 4, text: trickyText,
                at: world.next(), visibleFrom: world.clock.now().addingTimeInterval(14 * 86_400))
            let message = world.fixtures.message(job: job.id, sender: world.owner.id, body: trickyText, at: world.next())
            let event = try world.fixtures.event(job: job.id, sender: world.owner.id, recipient: world.contractor.id, at: world.next())
            var failed = try world.fixtures.event(job: job.id, sender: world.contractor.id, recipient: world.owner.id, at: world.next())
            failed.delivery = OutboxEvent.Delivery(status: .pending, attempts: 3, availableAt: world.next(), lastError: trickyText)
            try await world.commit(.insertReview(review), .insertMessage(message), .appendEvent(event), .appendEvent(failed))
            try expect(try await world.db.reviews(job: job.id) == [review], "review differs after read-back")
            try expect(try await world.db.messages(job: job.id, page: PageRequest()).items == [message], "message differs after read-back")
            let events = try await world.db.events(recipient: nil, page: PageRequest()).items
            try expect(events == [event, failed], "events differ after read-back (payload, recipients, delivery)")
            var changes = ChangeSet()
            var moved = review
            moved.visibleFrom = world.next()
            let committed = changes.update(moved)
            try await world.db.commit(changes)
            try expect(try await world.db.reviews(job: job.id) == [committed], "updated review differs after read-back")
        },
    ]
}
