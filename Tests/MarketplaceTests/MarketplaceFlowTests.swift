import Foundation
import Testing
import TradesKit
import TradesKitTesting

@Suite("The marketplace flow, on every storage")
struct MarketplaceFlowTests {
    @Test("post → bid → accept → start → complete → approve moves the money and balances the ledger", arguments: StorageKind.allCases)
    func happyPath(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld()
        let (job, bids) = try await t.jobWithBids(world)
        let winner = world.contractors[1]

        let acceptance = try await t.market.bids.accept(by: world.owner, bids[1].id)
        #expect(acceptance.job.status == .awarded)
        #expect(acceptance.job.contractorID == winner.userID)
        #expect(acceptance.accepted.status == .accepted)
        #expect(Set(acceptance.declined.map(\.id)) == Set([bids[0].id, bids[2].id]))
        #expect(acceptance.escrow.status == .held)
        #expect(acceptance.escrow.amount == Money(21_000, .usd))
        let stored = try await t.market.bids.list(by: world.owner, job: job.id)
        #expect(stored.map(\.status) == [.declined, .accepted, .declined])

        _ = try await t.market.jobs.start(by: winner, job.id)
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id).status == .captured)
        _ = try await t.market.jobs.complete(by: winner, job.id)
        let closed = try await t.market.jobs.approve(by: world.owner, job.id)
        #expect(closed.status == .closed)
        #expect(closed.closedAt == t.clock.now())

        let escrow = try await t.market.payments.escrow(by: winner, job: job.id)
        #expect(escrow.status == .released)
        #expect(escrow.platformFee == Money(2_100, .usd))
        #expect(escrow.releasedAmount == Money(18_900, .usd))

        let ledger = try await t.market.payments.ledger(by: world.admin, job: job.id)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
        let balances = Ledger.balances(of: ledger)
        #expect(balances[.escrowHeld, default: 0] == 0)
        #expect(balances[.authorizationsReceivable, default: 0] == 0)
        #expect(balances[.contractorPayable, default: 0] == 0)
        #expect(balances[.platformRevenue] == -2_100)
        #expect(balances[.processorBalance] == 2_100)
        #expect(try await t.market.payments.unbalancedTransactions(by: TestMarket.op, in: world.tenant.id).isEmpty)

        let keys = t.payments.calls.map(\.idempotencyKey)
        #expect(keys.count == 3 && keys[0].hasPrefix("accept:\(bids[1].id):"), "\(keys)")
        #expect(keys.dropFirst() == ["capture:\(job.id)", "release:\(job.id)"])

        let types = try await t.allEvents(world).map(\.type)
        for expected in ["job.posted", "bid.submitted", "bid.accepted", "bid.declined", "payment.changed", "job.status_changed"] {
            #expect(types.contains(expected), "missing \(expected)")
        }
    }

    @Test("the lifecycle refuses steps by the wrong person or in the wrong state", arguments: [StorageKind.sqliteMemory])
    func lifecycleGuards(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        let world = try await t.makeWorld()
        let (job, bids) = try await t.jobWithBids(world)
        let loser = world.contractors[0]
        let winner = world.contractors[2]

        await expectError(.forbidden) {
            try await t.market.jobs.post(
                by: winner,
                .init(
                    categoryID: world.plumbing.id, title: "Nope", description: "x",
                    location: TestMarket.home, budget: job.budget))
        }
        await expectError(.forbidden) { try await t.market.bids.accept(by: winner, bids[2].id) }
        await expectError(.notFound) { try await t.market.bids.accept(by: world.otherOwner, bids[2].id) }
        await expectError(.forbidden) { try await t.market.jobs.start(by: world.owner, job.id) }
        await expectError(.forbidden) { try await t.market.jobs.start(by: winner, job.id) }

        _ = try await t.market.bids.accept(by: world.owner, bids[2].id)
        await expectError(.invalidTransition) { try await t.market.bids.accept(by: world.owner, bids[0].id) }
        await expectError(.forbidden) { try await t.market.jobs.start(by: world.owner, job.id) }
        // The awarded job is the parties' business: to a losing bidder it no longer exists.
        await expectError(.notFound) { try await t.market.jobs.start(by: loser, job.id) }
        await expectError(.invalidTransition) { try await t.market.jobs.complete(by: winner, job.id) }
        await expectError(.invalidTransition) { try await t.market.jobs.approve(by: world.owner, job.id) }
        await expectError(.invalidTransition) { try await t.market.jobs.update(by: world.owner, job.id, .init(title: "Changed title")) }
        await expectError(.invalidTransition) { try await t.market.bids.withdraw(by: loser, bids[0].id) }
        _ = try await t.market.jobs.start(by: winner, job.id)
        await expectError(.forbidden) { try await t.market.jobs.cancel(by: world.owner, job.id) }
        await expectError(.forbidden) { try await t.market.jobs.complete(by: world.owner, job.id) }
        _ = try await t.market.jobs.complete(by: winner, job.id)
        await expectError(.forbidden) { try await t.market.jobs.approve(by: winner, job.id) }
        await expectError(.invalidTransition) { try await t.market.jobs.cancel(by: world.admin, job.id) }
    }

    @Test("withdrawing frees the contractor to bid again; one live bid per contractor per job", arguments: [StorageKind.sqliteMemory, .memory])
    func withdrawAndRebid(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        let world = try await t.makeWorld(contractors: 1)
        let job = try await t.postJob(world)
        let pro = world.contractors[0]
        let first = try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(30_000, .usd)))
        await expectError(.conflict) { try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(29_000, .usd))) }
        await expectError(.forbidden) { try await t.market.bids.withdraw(by: world.owner, first.id) }
        let withdrawn = try await t.market.bids.withdraw(by: pro, first.id)
        #expect(withdrawn.status == .withdrawn)
        let second = try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(29_000, .usd)))
        #expect(try await t.market.bids.list(by: pro, job: job.id).map(\.id) == [first.id, second.id])
    }

    @Test("a job with a live bid cannot be edited: the bidders priced what it said", arguments: [StorageKind.sqliteMemory, .memory])
    func editingAfterBids(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        let world = try await t.makeWorld(contractors: 2)
        let job = try await t.postJob(world)
        let edited = try await t.market.jobs.update(by: world.owner, job.id, .init(description: "It drips, and the washer is gone"))
        let bid = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(30_000, .usd)))
        let higher = BudgetRange(min: job.budget.min, max: Money(job.budget.max.amount + 10_000, job.budget.max.currency))
        for update in [JobService.Update(title: "Replace the boiler"), .init(description: "And the boiler"), .init(budget: higher)] {
            await expectError(.invalidTransition) { try await t.market.jobs.update(by: world.owner, job.id, update) }
        }
        #expect(try await t.market.jobs.get(by: world.owner, job.id) == edited, "nothing of a refused edit is written")
        // An edit that changes nothing is no edit: it answers the job as it is, and writes nothing.
        for update in [JobService.Update(), .init(title: edited.title, description: edited.description, budget: edited.budget)] {
            #expect(try await t.market.jobs.update(by: world.owner, job.id, update) == edited)
        }
        #expect(try await t.market.jobs.get(by: world.owner, job.id) == edited)
        // A withdrawn bid binds nobody: with no live bid left the job can be edited, and bid on again.
        _ = try await t.market.bids.withdraw(by: world.contractors[0], bid.id)
        #expect(try await t.market.jobs.update(by: world.owner, job.id, .init(title: "Replace the boiler")).title == "Replace the boiler")
        _ = try await t.market.bids.submit(by: world.contractors[1], on: job.id, .init(amount: Money(90_000, .usd)))
        await expectError(.invalidTransition) { try await t.market.jobs.update(by: world.owner, job.id, .init(title: "Fix the tap")) }
    }

    @Test("an edit and a bid that race: whichever commits second is refused, and nothing of it is written")
    func editAndBidRace() async throws {
        let t = try TestMarket(.memory)
        let world = try await t.makeWorld(contractors: 1)
        let storage = try #require(t.storage as? MemoryStorage)
        let pro = world.contractors[0]
        // Commits `other` between the next operation's read and its commit.
        func interleave(_ other: @escaping @Sendable () async throws -> Void) {
            storage.beforeNextCommit {
                do { try await other() } catch { Issue.record("the interleaved change failed: \(error)") }
            }
        }

        // The bid commits first: the edit finds a live bid on its retry.
        let bidFirst = try await t.postJob(world)
        interleave { _ = try await t.market.bids.submit(by: pro, on: bidFirst.id, .init(amount: Money(30_000, .usd))) }
        await expectError(.invalidTransition) { try await t.market.jobs.update(by: world.owner, bidFirst.id, .init(title: "Replace the boiler")) }
        #expect(try await t.market.jobs.get(by: world.owner, bidFirst.id).title == bidFirst.title)
        #expect(try await t.market.bids.list(by: world.owner, job: bidFirst.id).map(\.status) == [.submitted])

        // The edit commits first: the bid priced the old text, and its retry finds the job changed.
        let editFirst = try await t.postJob(world)
        interleave { _ = try await t.market.jobs.update(by: world.owner, editFirst.id, .init(description: "And replace the boiler")) }
        await expectError(.conflict) { try await t.market.bids.submit(by: pro, on: editFirst.id, .init(amount: Money(30_000, .usd))) }
        #expect(try await t.market.bids.list(by: world.owner, job: editFirst.id).isEmpty)

        // A bid naming the version it prices is refused on any other; without a race too.
        let current = try await t.market.jobs.get(by: pro, editFirst.id)
        await expectError(.conflict) {
            try await t.market.bids.submit(by: pro, on: editFirst.id, .init(amount: Money(30_000, .usd), jobVersion: editFirst.version))
        }
        await expectError(.validationFailed) {
            try await t.market.bids.submit(by: pro, on: editFirst.id, .init(amount: Money(30_000, .usd), jobVersion: 0))
        }
        let placed = try await t.market.bids.submit(by: pro, on: editFirst.id, .init(amount: Money(90_000, .usd), jobVersion: current.version))
        #expect(placed.status == .submitted && current.version == editFirst.version + 1)
    }

    @Test("an approved contractor who changes what was vetted is vetted again; other edits and rejections stand")
    func vettingFollowsTheProfile() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1, vetting: true)
        let pro = world.contractors[0]
        let job = try await t.postJob(world)
        let area = GeoCircle(center: TestMarket.home, radiusKm: 50)
        func save(trades: [CategoryID], licence: Licence? = nil, headline: String = "") async throws -> ContractorProfile {
            try await t.market.contractors.saveProfile(by: pro, .init(headline: headline, trades: trades, serviceArea: area, licence: licence))
        }
        let licence = Licence(number: "LIC-1", region: "CA", expiresAt: t.clock.now().addingTimeInterval(365 * 86_400))
        _ = try await save(trades: [world.plumbing.id], licence: licence)
        _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .approved)
        // The headline, the service area and the order of the trades were not vetted.
        #expect(try await save(trades: [world.plumbing.id], licence: licence, headline: "Fast and tidy").vetting == .approved)
        _ = try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .usd)))

        func vettingEvents() async throws -> Int {
            try await t.storage.tenant(world.tenant.id).events(recipient: nil, page: PageRequest(limit: 200)).items
                .filter { $0.type == ContractorVettingChanged.eventType }.count
        }
        let events = try await vettingEvents()
        let changed = try await save(trades: [world.plumbing.id], licence: Licence(number: "FORGED-9", region: "CA", expiresAt: licence.expiresAt))
        #expect(changed.vetting == .pending)
        #expect(try await vettingEvents() == events + 1)
        let other = try await t.postJob(world, title: "Another sink")
        await expectError(.forbidden) { try await t.market.bids.submit(by: pro, on: other.id, .init(amount: Money(20_000, .usd))) }
        _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .approved)
        #expect(try await save(trades: [world.plumbing.id, world.roofing.id]).vetting == .pending)

        _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .rejected)
        #expect(try await save(trades: [world.plumbing.id], licence: licence).vetting == .rejected)
    }

    @Test("a vetting revoked between a bid's read and its commit refuses the bid")
    func vettingRevokedDuringABid() async throws {
        let t = try TestMarket(.memory)
        let world = try await t.makeWorld(contractors: 1, vetting: true)
        let pro = world.contractors[0]
        let job = try await t.postJob(world)
        _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .approved)
        let storage = try #require(t.storage as? MemoryStorage)
        // The admin's decision commits after the bid read the approved profile and before the bid commits.
        storage.beforeNextCommit {
            do {
                _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .rejected)
            } catch {
                Issue.record("revoking the vetting failed: \(error)")
            }
        }
        await expectError(.forbidden) { try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .usd))) }
        #expect(try await t.market.bids.list(by: world.owner, job: job.id).isEmpty, "the bid landed after the vetting was revoked")
        #expect(try await t.market.contractors.profile(by: world.admin, pro.userID).vetting == .rejected)
    }

    @Test("a bid whose contractor was suspended, or lost the vetting the tenant requires, cannot be accepted; no money is held")
    func acceptNeedsAnAvailableBidder() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 2, vetting: true)
        for pro in world.contractors { _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .approved) }
        let (job, bids) = try await t.jobWithBids(world)
        _ = try await t.market.users.setSuspended(by: world.admin, world.contractors[0].userID, suspended: true)
        await expectError(.invalidTransition) { try await t.market.bids.accept(by: world.owner, bids[0].id) }
        _ = try await t.market.contractors.setVetting(by: world.admin, world.contractors[1].userID, .rejected)
        await expectError(.invalidTransition) { try await t.market.bids.accept(by: world.owner, bids[1].id) }
        #expect(t.payments.calls.isEmpty, "money was authorised for a bid that cannot be accepted")
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .open)
        // Reinstated, the contractor can be hired again.
        _ = try await t.market.users.setSuspended(by: world.admin, world.contractors[0].userID, suspended: false)
        #expect(try await t.market.bids.accept(by: world.owner, bids[0].id).job.status == .awarded)
    }

    @Test("a suspension between an accept's read and its commit refuses the accept and voids its authorisation")
    func suspensionDuringAnAccept() async throws {
        let t = try TestMarket(.memory)
        let world = try await t.makeWorld(contractors: 1)
        let pro = world.contractors[0]
        let (job, bids) = try await t.jobWithBids(world)
        let storage = try #require(t.storage as? MemoryStorage)
        storage.beforeNextCommit {
            do {
                _ = try await t.market.users.setSuspended(by: world.admin, pro.userID, suspended: true)
            } catch {
                Issue.record("suspending the contractor failed: \(error)")
            }
        }
        await expectError(.invalidTransition) { try await t.market.bids.accept(by: world.owner, bids[0].id) }
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .open)
        let authorisations = t.payments.calls.compactMap { call -> String? in
            if case .authorize(let request) = call { return request.idempotencyKey }
            return nil
        }
        #expect(authorisations.count == 1 && authorisations[0].hasPrefix("accept:\(bids[0].id):"), "\(authorisations)")
        #expect(t.payments.calls.contains { if case .void = $0 { true } else { false } }, "the abandoned authorisation was not voided")
        // Reinstated, the contractor is accepted with money held anew: the voided authorisation is not replayed.
        _ = try await t.market.users.setSuspended(by: world.admin, pro.userID, suspended: false)
        let acceptance = try await t.market.bids.accept(by: world.owner, bids[0].id)
        let reference = try #require(acceptance.escrow.paymentReference)
        let payment = try #require(t.payments.payment(reference: reference))
        #expect(acceptance.escrow.status == .held && !payment.voided, "the escrow holds a voided authorisation")
    }

    @Test("a contractor suspended between a bid's read and its commit places no bid; an owner suspended during an accept holds no money")
    func suspensionDuringABidOrAccept() async throws {
        let t = try TestMarket(.memory)
        let world = try await t.makeWorld(contractors: 2)
        let job = try await t.postJob(world)
        let storage = try #require(t.storage as? MemoryStorage)
        let pro = world.contractors[0]
        storage.beforeNextCommit {
            do {
                _ = try await t.market.users.setSuspended(by: world.admin, pro.userID, suspended: true)
            } catch {
                Issue.record("suspending the contractor failed: \(error)")
            }
        }
        await expectError(.suspended) { try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .usd))) }
        #expect(try await t.market.bids.list(by: world.owner, job: job.id).isEmpty, "the suspended contractor's bid landed")

        let bid = try await t.market.bids.submit(by: world.contractors[1], on: job.id, .init(amount: Money(21_000, .usd)))
        storage.beforeNextCommit {
            do {
                _ = try await t.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: true)
            } catch {
                Issue.record("suspending the owner failed: \(error)")
            }
        }
        await expectError(.suspended) { try await t.market.bids.accept(by: world.owner, bid.id) }
        _ = try await t.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: false)
        #expect(try await t.market.jobs.get(by: world.admin, job.id).status == .open)
        #expect(t.payments.calls.contains { if case .void = $0 { true } else { false } }, "the suspended owner's authorisation was kept")
    }

    @Test("a caller suspended between the read and the commit changes nothing: posting, messaging, starting, disputing, withdrawing")
    func suspensionOutrunsNoChange() async throws {
        let t = try TestMarket(.memory)
        let world = try await t.makeWorld(contractors: 2)
        let storage = try #require(t.storage as? MemoryStorage)
        let (job, bids) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        let winner = world.contractors[0]
        let other = try await t.postJob(world, title: "Paint the fence")
        let loose = try await t.market.bids.submit(by: world.contractors[1], on: other.id, .init(amount: Money(20_000, .usd)))

        /// Runs `action` by `caller` with the caller suspended just before its commit: it must fail as suspended.
        func suspendedDuring(_ caller: Principal, _ name: String, _ action: @escaping () async throws -> Void) async throws {
            storage.beforeNextCommit {
                do {
                    _ = try await t.market.users.setSuspended(by: world.admin, caller.userID, suspended: true)
                } catch {
                    Issue.record("suspending for \(name) failed: \(error)")
                }
            }
            await expectError(.suspended) { try await action() }
            _ = try await t.market.users.setSuspended(by: world.admin, caller.userID, suspended: false)
        }
        let before = try await t.allEvents(world).count
        try await suspendedDuring(world.owner, "a message") { _ = try await t.market.messages.post(by: world.owner, job: job.id, body: "Hello?") }
        try await suspendedDuring(world.owner, "a job") { _ = try await t.postJob(world) }
        try await suspendedDuring(winner, "a start") { _ = try await t.market.jobs.start(by: winner, job.id) }
        try await suspendedDuring(winner, "a dispute") {
            _ = try await t.market.disputes.open(by: winner, job: job.id, reason: "The owner will not let me in.")
        }
        try await suspendedDuring(world.contractors[1], "a withdrawal") { _ = try await t.market.bids.withdraw(by: world.contractors[1], loose.id) }

        #expect(try await t.market.messages.list(by: world.owner, job: job.id).items.isEmpty)
        #expect(try await t.market.jobs.get(by: world.admin, job.id).status == .awarded)
        #expect(try await t.market.disputes.list(by: world.admin).items.isEmpty)
        #expect(try await t.market.bids.list(by: world.admin, job: other.id).map(\.status) == [.submitted])
        #expect(try await t.market.jobs.search(by: world.admin, JobQuery()).items.count == 2, "the suspended owner's job landed")
        // Only the suspensions and reinstatements were recorded (two events each), nothing of the refused changes.
        let events = try await t.allEvents(world)
        #expect(events.count - before == 10, "\(events.dropFirst(before).map(\.type))")
    }

    @Test("a job keeps the currency it was posted in when the tenant's changes")
    func jobKeepsItsCurrency() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let job = try await t.postJob(world)
        var settings = world.tenant.settings
        settings.currency = .eur
        _ = try await t.market.tenants.updateSettings(by: TestMarket.op, tenant: world.tenant.id, settings)
        let euros = BudgetRange(min: Money(10_000, .eur), max: Money(60_000, .eur))
        await expectError(.validationFailed) { try await t.market.jobs.update(by: world.owner, job.id, .init(budget: euros)) }
        let dollars = BudgetRange(min: Money(10_000, .usd), max: Money(60_000, .usd))
        #expect(try await t.market.jobs.update(by: world.owner, job.id, .init(budget: dollars)).budget == dollars)
        let bid = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd)))
        #expect(try await t.market.bids.accept(by: world.owner, bid.id).escrow.amount == Money(20_000, .usd))
    }

    @Test("bidding rules: trades, service area, vetting, currency, open jobs, a profile")
    func biddingRules() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1, vetting: true)
        let pro = world.contractors[0]
        let job = try await t.postJob(world)
        await expectError(.forbidden) { try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .usd))) }
        _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .approved)
        await expectError(.validationFailed) { try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .eur))) }
        await expectError(.validationFailed) { try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(0, .usd))) }
        // No price beyond Money.maximumPrice, so nothing derived from prices can overflow.
        await expectError(.validationFailed) {
            try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(Money.maximumPrice + 1, .usd)))
        }
        await expectError(.validationFailed) {
            try await t.market.jobs.post(
                by: world.owner,
                .init(
                    categoryID: world.plumbing.id, title: "A palace", description: "Gold taps", location: TestMarket.home,
                    budget: BudgetRange(min: Money(1, .usd), max: Money(Int64.max, .usd))))
        }
        let priciest = try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(Money.maximumPrice, .usd)))
        _ = try await t.market.bids.withdraw(by: pro, priciest.id)

        let roofJob = try await t.market.jobs.post(
            by: world.owner,
            .init(
                categoryID: world.roofing.id, title: "Roof leak", description: "Tiles",
                location: TestMarket.home, budget: job.budget))
        await expectError(.forbidden) { try await t.market.bids.submit(by: pro, on: roofJob.id, .init(amount: Money(20_000, .usd))) }
        let farJob = try await t.market.jobs.post(
            by: world.owner,
            .init(
                categoryID: world.plumbing.id, title: "Far away", description: "Boston",
                location: GeoPoint(latitude: 42.36, longitude: -71.06), budget: job.budget))
        await expectError(.forbidden) { try await t.market.bids.submit(by: pro, on: farJob.id, .init(amount: Money(20_000, .usd))) }
        let noProfile = try await t.register(world.tenant, "new@acme.example", .contractor)
        await expectError(.forbidden) { try await t.market.bids.submit(by: noProfile, on: job.id, .init(amount: Money(20_000, .usd))) }
        await expectError(.forbidden) { try await t.market.bids.submit(by: world.owner, on: job.id, .init(amount: Money(20_000, .usd))) }

        let bid = try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .usd)))
        #expect(bid.status == .submitted)
        _ = try await t.market.jobs.cancel(by: world.owner, job.id)
        #expect(try await t.market.bids.get(by: pro, bid.id).status == .declined)
        // A job that left `open` is the parties' business: to a contractor, bidder or not, it does not exist (a 409 would
        // tell a declined bidder it was cancelled rather than awarded to another).
        await expectError(.notFound) { try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .usd))) }
        let stranger = try await t.register(world.tenant, "stranger@acme.example", .contractor)
        await expectError(.notFound) { try await t.market.bids.submit(by: stranger, on: job.id, .init(amount: Money(20_000, .usd))) }
    }

    @Test("cancelling after award voids the hold; an admin cancelling work in progress refunds it", arguments: [StorageKind.sqliteMemory, .memory])
    func cancellationMoney(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        let world = try await t.makeWorld(contractors: 2)
        let (job, bids) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        let cancelled = try await t.market.jobs.cancel(by: world.contractors[0], job.id)
        #expect(cancelled.status == .cancelled)
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id).status == .cancelled)

        let (job2, bids2) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids2[1].id)
        _ = try await t.market.jobs.start(by: world.contractors[1], job2.id)
        _ = try await t.market.jobs.cancel(by: world.admin, job2.id)
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job2.id)
        #expect(escrow.status == .refunded)
        #expect(escrow.refundedAmount == escrow.amount)
        let ledger = try await t.market.payments.ledger(by: world.admin)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
        #expect(Ledger.balances(of: ledger).values.allSatisfy { $0 == 0 }, "a cancelled job leaves every account at zero")
    }

    @Test("completed jobs are approved automatically once the tenant's window passes, not a millisecond before")
    func autoApprove() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let (job, bids) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        _ = try await t.market.jobs.start(by: world.contractors[0], job.id)
        _ = try await t.market.jobs.complete(by: world.contractors[0], job.id)
        let window = Double(world.tenant.settings.policies.autoApproveAfterSeconds)
        t.clock.advance(by: window - 0.001)
        #expect(try await t.market.jobs.runAutoApprovals(in: world.tenant.id) == 0)
        t.clock.advance(by: 0.001)
        #expect(try await t.market.jobs.runAutoApprovals(in: world.tenant.id) == 1)
        #expect(try await t.market.jobs.runAutoApprovals(in: world.tenant.id) == 0)
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .closed)
        #expect(try await t.market.payments.escrow(by: world.owner, job: job.id).status == .released)
        let automatic = try await t.allEvents(world).compactMap { try $0.decode(JobStatusChanged.self) }.filter(\.automatic)
        #expect(automatic.map(\.to) == [.closed])
    }

    @Test("jobs that cannot be auto-approved yet never hold back the ones after them, however many")
    func autoApprovalWalksPastBlockedJobs() async throws {
        struct ProcessorDown: Error {}
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        var jobs: [Job] = []
        for index in 0..<3 {
            let (job, bids) = try await t.jobWithBids(world)
            _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
            // The first two captures fail when the work starts: they stay owed, and those jobs cannot be approved.
            if index < 2 { t.payments.failNext(with: ProcessorDown()) }
            _ = try await t.market.jobs.start(by: world.contractors[0], job.id)
            _ = try await t.market.jobs.complete(by: world.contractors[0], job.id)
            jobs.append(job)
            t.clock.advance(by: 1)
        }
        t.clock.advance(by: Double(world.tenant.settings.policies.autoApproveAfterSeconds))
        // A batch of one: the run walks past the two oldest, which fail, to the third.
        #expect(try await t.market.jobs.runAutoApprovals(in: world.tenant.id, limit: 1) == 1)
        var statuses: [JobStatus] = []
        for job in jobs { statuses.append(try await t.market.jobs.get(by: world.owner, job.id).status) }
        #expect(statuses == [.completed, .completed, .closed])
        #expect(try await t.market.jobs.runAutoApprovals(in: world.tenant.id, limit: 1) == 0)
    }
}
