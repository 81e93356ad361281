import Foundation
import Testing
import TradesKit
import TradesKitTesting

@Suite("Disputes, reviews, messages and the outbox")
struct DisputeReviewMessageTests {
    enum Stage: String, CaseIterable, Sendable { case awarded, inProgress, completed }

    /// A job at `stage` with an accepted bid of 20000 from contractor 0.
    func job(at stage: Stage, _ t: TestMarket, _ world: TestMarket.World) async throws -> Job {
        let (job, bids) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        if stage != .awarded { _ = try await t.market.jobs.start(by: world.contractors[0], job.id) }
        if stage == .completed { _ = try await t.market.jobs.complete(by: world.contractors[0], job.id) }
        return job
    }

    @Test(
        "an admin's resolution moves the money as decided, from every disputable stage",
        arguments: Stage.allCases, [DisputeOutcome.release, .partialRefund(Money(5_000, .usd)), .fullRefund])
    func resolutions(stage: Stage, outcome: DisputeOutcome) async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let job = try await job(at: stage, t, world)
        let pro = world.contractors[0]

        let dispute = try await t.market.disputes.open(by: world.owner, job: job.id, reason: "The sink still leaks after the repair.")
        #expect(dispute.status == .awaitingResponse)
        #expect(dispute.respondent == pro.userID)
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .disputed)
        await expectError(.invalidTransition) { try await t.market.disputes.open(by: pro, job: job.id, reason: "A second dispute on the same job") }
        await expectError(.forbidden) { try await t.market.disputes.respond(by: world.owner, dispute.id, response: "Answering my own dispute") }
        await expectError(.notFound) { try await t.market.disputes.get(by: world.otherOwner, dispute.id) }
        let answered = try await t.market.disputes.respond(by: pro, dispute.id, response: "It was a different pipe.")
        #expect(answered.status == .underReview)
        await expectError(.forbidden) { try await t.market.disputes.resolve(by: world.owner, dispute.id, outcome: outcome, note: "mine") }
        // The admins' queue: the unresolved disputes of every participant, and no one else's view.
        #expect(try await t.market.disputes.queue(by: world.admin).items.map(\.id) == [dispute.id])
        await expectError(.forbidden) { try await t.market.disputes.queue(by: world.owner) }
        await expectError(.forbidden) { try await t.market.disputes.queue(by: pro) }

        let resolved = try await t.market.disputes.resolve(by: world.admin, dispute.id, outcome: outcome, note: "Decided on the evidence.")
        #expect(resolved.status == .resolved)
        #expect(try await t.market.disputes.queue(by: world.admin).items.isEmpty, "a resolved dispute left the queue")
        #expect(try await t.market.disputes.queue(by: world.admin, statuses: [.resolved]).items.map(\.id) == [dispute.id])
        #expect(resolved.resolution?.outcome == outcome)
        #expect(try await t.market.jobs.get(by: world.owner, job.id).status == .closed)
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        switch outcome {
        case .release:
            #expect(escrow.status == .released)
            #expect(escrow.releasedAmount == Money(18_000, .usd))
        case .partialRefund:
            #expect(escrow.status == .partiallyRefunded)
            #expect(escrow.refundedAmount == Money(5_000, .usd))
            #expect(escrow.platformFee == Money(1_500, .usd))
            #expect(escrow.releasedAmount == Money(13_500, .usd))
        case .fullRefund:
            #expect(escrow.status == (stage == .awarded ? .cancelled : .refunded))
            #expect(escrow.releasedAmount.amount == 0)
        }
        let ledger = try await t.market.payments.ledger(by: world.admin, job: job.id)
        #expect(Ledger.unbalancedTransactions(in: ledger).isEmpty)
        let balances = Ledger.balances(of: ledger)
        #expect(balances[.escrowHeld, default: 0] == 0)
        #expect(balances[.authorizationsReceivable, default: 0] == 0)
        #expect(balances[.platformRevenue, default: 0] == -escrow.platformFee.amount)
        #expect(balances[.processorBalance, default: 0] == escrow.platformFee.amount, "the processor keeps the fee and nothing else")
        // Each movement is its own transaction: what went back to the homeowner is told apart from what was released.
        func moved(_ kind: LedgerTransactionKind) -> Int64 {
            -ledger.filter { $0.kind == kind && $0.account == .processorBalance }.reduce(0) { $0 + $1.amount.amount }
        }
        #expect(moved(.refund) == escrow.refundedAmount.amount || escrow.status == .cancelled)
        #expect(moved(.release) == escrow.releasedAmount.amount)
        await expectError(.invalidTransition) { try await t.market.disputes.resolve(by: world.admin, dispute.id, outcome: .release, note: "again") }
    }

    @Test("partial refunds must be positive, in the job's currency, and less than the payment")
    func partialRefundValidation() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let job = try await job(at: .completed, t, world)
        let dispute = try await t.market.disputes.open(by: world.contractors[0], job: job.id, reason: "The homeowner will not approve the job.")
        for bad in [Money(0, .usd), Money(-5, .usd), Money(20_000, .usd), Money(500, .eur)] {
            await expectError(.validationFailed) {
                try await t.market.disputes.resolve(by: world.admin, dispute.id, outcome: .partialRefund(bad), note: "bad")
            }
        }
        #expect(try await t.market.disputes.get(by: world.admin, dispute.id).status == .awaitingResponse)
        await expectError(.invalidTransition) {
            try await t.market.disputes.open(by: world.owner, job: try await t.postJob(world).id, reason: "Open jobs cannot be disputed")
        }
    }

    @Test("reviews stay hidden until both are in, or until the window ends")
    func reviewVisibility() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let pro = world.contractors[0]
        let job = try await job(at: .completed, t, world)
        await expectError(.invalidTransition) { try await t.market.reviews.submit(by: world.owner, job: job.id, rating: 5, text: "Too early") }
        _ = try await t.market.jobs.approve(by: world.owner, job.id)
        await expectError(.validationFailed) { try await t.market.reviews.submit(by: world.owner, job: job.id, rating: 6, text: "") }
        await expectError(.notFound) { try await t.market.reviews.submit(by: world.otherOwner, job: job.id, rating: 1, text: "Not my job") }

        let ownerReview = try await t.market.reviews.submit(by: world.owner, job: job.id, rating: 4, text: "Good work")
        #expect(try await t.market.reviews.forJob(by: pro, job: job.id).isEmpty, "the subject cannot see it before replying")
        #expect(try await t.market.reviews.forJob(by: world.owner, job: job.id).map(\.id) == [ownerReview.id])
        #expect(try await t.market.users.publicProfile(by: world.otherOwner, pro.userID).rating.count == 0)
        await expectError(.conflict) { try await t.market.reviews.submit(by: world.owner, job: job.id, rating: 5, text: "Again") }

        t.clock.advance(by: 3_600)
        _ = try await t.market.reviews.submit(by: pro, job: job.id, rating: 5, text: "Great client")
        await expectError(.notFound) { try await t.market.reviews.forJob(by: world.otherOwner, job: job.id) }
        #expect(try await t.market.reviews.forJob(by: pro, job: job.id).count == 2)
        let rating = try await t.market.users.publicProfile(by: world.otherOwner, pro.userID).rating
        #expect(rating == RatingSummary(count: 1, ratingSum: 4))
        // In public, a review names neither its author nor its job, and dates itself to the month only.
        let about = try await t.market.reviews.about(by: world.otherOwner, user: world.owner.userID).items
        #expect(
            about == [
                PublicReview(
                    try #require(try await t.market.reviews.forJob(by: pro, job: job.id).first { $0.authorID == pro.userID }), subjectRole: .homeowner
                )
            ])
        #expect(about.first?.authorRole == .contractor && about.first?.rating == 5)
        #expect(about.first?.month == String(ISO8601DateFormatter().string(from: t.clock.now()).prefix(7)))
        await expectError(.notFound) { try await t.market.reviews.about(by: world.otherOwner, user: UserID(UUID())) }
    }

    @Test("two reviews committed at once are both shown: the later one finds the first")
    func simultaneousReviews() async throws {
        let t = try TestMarket(.memory)
        let world = try await t.makeWorld(contractors: 1)
        let pro = world.contractors[0]
        let job = try await job(at: .completed, t, world)
        _ = try await t.market.jobs.approve(by: world.owner, job.id)
        let storage = try #require(t.storage as? MemoryStorage)
        // The contractor's review commits between the homeowner's reads and the homeowner's commit.
        storage.beforeNextCommit {
            do {
                _ = try await t.market.reviews.submit(by: pro, job: job.id, rating: 4, text: "Clear brief")
            } catch {
                Issue.record("the contractor's review failed: \(error)")
            }
        }
        _ = try await t.market.reviews.submit(by: world.owner, job: job.id, rating: 5, text: "Spotless")
        let now = t.clock.now()
        let reviews = try await t.market.reviews.forJob(by: world.admin, job: job.id)
        #expect(reviews.count == 2 && reviews.allSatisfy { $0.isVisible(at: now) }, "\(reviews.map(\.visibleFrom))")
    }

    @Test("a losing bidder sees neither the closed job nor its reviews, which would name who won")
    func losingBidderSeesNoReviews() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 2)
        let job = try await job(at: .completed, t, world)
        _ = try await t.market.jobs.approve(by: world.owner, job.id)
        _ = try await t.market.reviews.submit(by: world.owner, job: job.id, rating: 5, text: "Spotless")
        let loser = world.contractors[1]
        await expectError(.notFound) { try await t.market.jobs.get(by: loser, job.id) }
        await expectError(.notFound) { try await t.market.reviews.forJob(by: loser, job: job.id) }
        #expect(try await t.market.reviews.forJob(by: world.contractors[0], job: job.id).isEmpty, "hidden until both are in")
        #expect(try await t.market.reviews.forJob(by: world.admin, job: job.id).count == 1)
    }

    @Test("a completed job can be disputed until its auto-approval is due, not after")
    func disputeWindow() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let late = try await job(at: .completed, t, world)
        t.clock.advance(by: Double(world.tenant.settings.policies.autoApproveAfterSeconds) - 1)
        let inTime = try await job(at: .completed, t, world)
        _ = try await t.market.disputes.open(by: world.owner, job: inTime.id, reason: "The tiles are cracked again.")
        t.clock.advance(by: 1)
        await expectError(.invalidTransition) {
            try await t.market.disputes.open(by: world.owner, job: late.id, reason: "The sink still leaks after the repair.")
        }
        await expectError(.invalidTransition) {
            try await t.market.disputes.open(by: world.contractors[0], job: late.id, reason: "The client will not answer me.")
        }
        #expect(try await t.market.jobs.runAutoApprovals(in: world.tenant.id) == 1)
        #expect(try await t.market.jobs.get(by: world.owner, late.id).status == .closed)
    }

    @Test("a lone review becomes visible when the window ends, and the window then closes")
    func reviewWindow() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let job = try await job(at: .completed, t, world)
        _ = try await t.market.jobs.approve(by: world.owner, job.id)
        _ = try await t.market.reviews.submit(by: world.owner, job: job.id, rating: 2, text: "Late")
        let pro = world.contractors[0].userID
        #expect(try await t.market.users.publicProfile(by: world.admin, pro).rating.count == 0)
        t.clock.advance(by: Double(world.tenant.settings.policies.reviewWindowSeconds))
        #expect(try await t.market.users.publicProfile(by: world.admin, pro).rating == RatingSummary(count: 1, ratingSum: 2))
        await expectError(.invalidTransition) {
            try await t.market.reviews.submit(by: world.contractors[0], job: job.id, rating: 5, text: "Too late")
        }
    }

    @Test("messages are between the owner and the awarded contractor; admins may read")
    func messaging() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 2)
        let (job, bids) = try await t.jobWithBids(world)
        await expectError(.forbidden) { try await t.market.messages.post(by: world.owner, job: job.id, body: "Before award") }
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        var sent: [MessageID] = []
        for index in 0..<5 {
            let sender = index.isMultiple(of: 2) ? world.owner : world.contractors[0]
            sent.append(try await t.market.messages.post(by: sender, job: job.id, body: "Message \(index)").id)
            t.clock.advance(by: 1)
        }
        await expectError(.notFound) { try await t.market.messages.post(by: world.contractors[1], job: job.id, body: "I lost") }
        await expectError(.notFound) { try await t.market.messages.list(by: world.contractors[1], job: job.id) }
        await expectError(.notFound) { try await t.market.messages.list(by: world.otherOwner, job: job.id) }
        await expectError(.validationFailed) { try await t.market.messages.post(by: world.owner, job: job.id, body: "   ") }
        let first = try await t.market.messages.list(by: world.admin, job: job.id, page: PageRequest(limit: 2))
        let rest = try await t.market.messages.list(by: world.contractors[0], job: job.id, page: PageRequest(cursor: first.nextCursor, limit: 10))
        #expect((first.items + rest.items).map(\.id) == sent)
        #expect(rest.nextCursor == nil)
    }

    @Test("the outbox hands events to one consumer at a time, retries with backoff, and dead-letters")
    func outbox() async throws {
        let t = try TestMarket()
        let world = try await t.makeWorld(contractors: 1)
        let tenant = world.tenant.id
        let all = try await t.allEvents(world)
        let claimed = try await t.market.events.claim(in: tenant, limit: 3, lease: 60)
        #expect(claimed.map(\.id) == all.prefix(3).map(\.id))
        let second = try await t.market.events.claim(in: tenant, limit: 1_000, lease: 60)
        #expect(Set(second.map(\.id)).isDisjoint(with: claimed.map(\.id)), "a leased event is not handed out twice")
        try await t.market.events.markDelivered(in: tenant, second.map(\.id))

        let policy = EventService.RetryPolicy(maxAttempts: 3, initialDelay: 10, maximumDelay: 100)
        var event = claimed[0]
        let retryAt = try await t.market.events.markFailed(in: tenant, event, reason: "smtp 451", policy: policy)
        #expect(retryAt == t.clock.now().addingTimeInterval(10))
        t.clock.advance(by: 60)
        let again = try await t.market.events.claim(in: tenant, limit: 10)
        #expect(Set(again.map(\.id)) == Set(claimed.map(\.id)), "expired leases and due retries come back")
        event = try #require(again.first { $0.id == claimed[0].id })
        #expect(event.delivery.attempts == 1)
        #expect(try await t.market.events.markFailed(in: tenant, event, reason: "smtp 451", policy: policy) != nil)
        t.clock.advance(by: 60)
        event = try #require(try await t.market.events.claim(in: tenant, limit: 10).first { $0.id == claimed[0].id })
        // A provider's answer may hold anything: control characters are replaced, lines and tabs kept.
        #expect(try await t.market.events.markFailed(in: tenant, event, reason: "smtp 550\u{0}\u{1B}[0m\n\tno", policy: policy) == nil)
        let dead = try await t.market.events.deadLetters(in: tenant)
        #expect(dead.map(\.id) == [claimed[0].id])
        #expect(dead.first?.delivery.lastError == "smtp 550\u{FFFD}\u{FFFD}[0m\n\tno")
        t.clock.advance(by: 3_600)
        #expect(try await t.market.events.claim(in: tenant, limit: 100).contains { $0.id == claimed[0].id } == false)
    }
}
