import Foundation
import Testing
import TradesKit
import TradesKitTesting

/// A provider's failure whose description quotes personal data, as providers' errors do.
private struct ProviderRefused: Error, CustomStringConvertible {
    var description: String { "550 mailbox owner@acme.example unavailable" }
}

/// An e-mail provider that takes 70 seconds of the manual clock per message.
private struct SlowEmailSender: EmailSender {
    let clock: ManualClock
    let inner: MemoryEmailSender

    func send(_ message: EmailMessage) async throws -> String {
        clock.advance(by: 70)
        return try await inner.send(message)
    }
}

@Suite("Notifications")
struct NotificationTests {
    struct Setup {
        let t: TestMarket
        let world: TestMarket.World
        let sms: MemorySMSSender
        let service: NotificationService
    }

    /// A tenant with an SMS sender; the owner and the first contractor gave phone numbers. The outbox of the set-up
    /// (registrations) is delivered, and what it sent forgotten.
    private func setUp(_ configuration: NotificationService.Configuration = .init()) async throws -> Setup {
        let t = try TestMarket()
        let world = try await t.makeWorld(smsSender: "AcmeTrades")
        _ = try await t.market.users.update(by: world.owner, world.owner.userID, .init(phone: "+14155550100"))
        _ = try await t.market.users.update(by: world.contractors[0], world.contractors[0].userID, .init(phone: "+14155550101"))
        let sms = MemorySMSSender()
        let service = NotificationService(marketplace: t.market, email: t.email, sms: sms, configuration: configuration)
        _ = try await service.deliverPending(in: world.tenant.id, limit: 500)
        t.email.reset()
        return Setup(t: t, world: world, sms: sms, service: service)
    }

    private func address(_ principal: Principal, _ s: Setup) async throws -> String {
        try await s.t.market.users.get(by: s.world.admin, principal.userID).email.value
    }

    private func subjects(to principal: Principal, _ s: Setup) async throws -> [String] {
        let address = try await address(principal, s)
        return s.t.email.sent.filter { $0.to.value == address }.map(\.subject)
    }

    @Test("a job's whole flow tells each party what concerns them, by e-mail, and by SMS what needs acting on")
    func wholeFlow() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        let (job, bids) = try await t.jobWithBids(world)
        _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
        let first = try await s.service.deliverPending(in: world.tenant.id)
        #expect(first.retried == 0 && first.deadLettered == 0 && first.delivered > 0)

        let owner = try await subjects(to: world.owner, s)
        #expect(owner.filter { $0 == "New bid on “Fix the kitchen sink”" }.count == 3)
        #expect(owner.contains("Your payment for “Fix the kitchen sink” is held"))
        #expect(!owner.contains { $0.contains("accepted") }, "the owner is not told of their own accept")
        #expect(try await subjects(to: world.contractors[0], s) == ["Your bid on “Fix the kitchen sink” was accepted"])
        for loser in world.contractors.dropFirst() {
            #expect(try await subjects(to: loser, s) == ["Your bid on “Fix the kitchen sink” was not chosen"])
        }
        // A bidder never learns another's amount: the declined bidders' mail names none, the winner's only their own.
        let declinedAddresses = Set(try await [address(world.contractors[1], s), address(world.contractors[2], s)])
        for message in t.email.sent where declinedAddresses.contains(message.to.value) {
            #expect(!message.text.contains("USD") && !message.subject.contains("USD"))
        }
        let winner = try #require(t.email.sent.first { $0.subject.contains("accepted") })
        #expect(winner.text.contains("USD 200.00") && !winner.text.contains("USD 210.00"))
        #expect(winner.text.hasPrefix("Hello pro0@acme.example,\n\n") && winner.text.hasSuffix("— acme\n"))
        #expect(t.email.sent.allSatisfy { $0.from.value == "no-reply@acme.example" && $0.reference?.hasSuffix(":email") == true })
        #expect(s.sms.sent.map(\.body) == ["acme: Your bid on “Fix the kitchen sink” was accepted"])
        #expect(s.sms.sent.first?.from == "AcmeTrades" && s.sms.sent.first?.to.value == "+14155550101")

        // Delivered once: the next run finds nothing.
        let again = try await s.service.deliverPending(in: world.tenant.id)
        #expect(again == NotificationService.Report())
        t.email.reset()

        let pro = world.contractors[0]
        _ = try await t.market.jobs.start(by: pro, job.id)
        _ = try await t.market.jobs.complete(by: pro, job.id)
        _ = try await t.market.jobs.approve(by: world.owner, job.id)
        _ = try await s.service.deliverPending(in: world.tenant.id)
        #expect(
            try await subjects(to: world.owner, s) == [
                "Work on “Fix the kitchen sink” has started", "Work on “Fix the kitchen sink” is complete: please review it",
            ])
        #expect(
            try await subjects(to: pro, s) == [
                "Your work on “Fix the kitchen sink” was approved by the homeowner", "Payment for “Fix the kitchen sink” is on its way",
            ])
        #expect(
            s.sms.sent.map(\.body).suffix(2) == [
                "acme: Work on “Fix the kitchen sink” is complete: please review it", "acme: Payment for “Fix the kitchen sink” is on its way",
            ])
    }

    @Test("e-mail goes to verified addresses only, SMS to users with a number, and a suspended user hears only of their suspension")
    func whoIsReached() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        try await t.setEmailVerified(false, world.contractors[1])
        _ = try await t.market.users.setSuspended(by: world.admin, world.contractors[2].userID, suspended: true)
        let job = try await t.postJob(world)
        _ = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd)))
        _ = try await t.market.jobs.cancel(by: world.owner, job.id)
        _ = try await s.service.deliverPending(in: world.tenant.id)

        #expect(try await subjects(to: world.contractors[1], s).isEmpty, "an unverified address is never written to")
        #expect(try await subjects(to: world.contractors[2], s) == ["Your account is suspended"])
        #expect(try await subjects(to: world.contractors[0], s) == ["Your bid on “Fix the kitchen sink” was not chosen"])
        #expect(s.sms.sent.isEmpty, "nothing here needs an SMS")
        // A number is not verified: SMS, too, goes only to users who verified their address.
        try await t.setEmailVerified(false, world.owner)
        let awarded = try await t.postJob(world)
        let won = try await t.market.bids.submit(by: world.contractors[0], on: awarded.id, .init(amount: Money(20_000, .usd)))
        _ = try await t.market.bids.accept(by: world.owner, won.id)
        _ = try await t.market.jobs.start(by: world.contractors[0], awarded.id)
        _ = try await t.market.jobs.complete(by: world.contractors[0], awarded.id)
        _ = try await s.service.deliverPending(in: world.tenant.id)
        #expect(s.sms.sent.map(\.to.value) == ["+14155550101"], "the winner's SMS only; not the owner's 'please review'")
        try await t.setEmailVerified(true, world.owner)

        // A channel the user turned off is not used; the other still is.
        _ = try await t.market.users.update(by: world.contractors[0], world.contractors[0].userID, .init(notifyByEmail: false))
        let quiet = try await t.postJob(world)
        let quietBid = try await t.market.bids.submit(by: world.contractors[0], on: quiet.id, .init(amount: Money(20_000, .usd)))
        let before = try await subjects(to: world.contractors[0], s).count
        s.sms.reset()
        _ = try await t.market.bids.accept(by: world.owner, quietBid.id)
        _ = try await s.service.deliverPending(in: world.tenant.id)
        #expect(try await subjects(to: world.contractors[0], s).count == before, "e-mail turned off")
        #expect(s.sms.sent.map(\.to.value) == ["+14155550101"], "SMS still on")
        _ = try await t.market.users.update(by: world.contractors[0], world.contractors[0].userID, .init(notifyByEmail: true, notifyBySMS: false))

        // Without a sender in the tenant's branding, or without an SMS port, no SMS at all.
        s.sms.reset()
        let noSMS = NotificationService(marketplace: t.market, email: t.email)
        let other = try await t.postJob(world)
        let winner = try await t.market.bids.submit(by: world.contractors[0], on: other.id, .init(amount: Money(20_000, .usd)))
        _ = try await t.market.bids.accept(by: world.owner, winner.id)
        _ = try await noSMS.deliverPending(in: world.tenant.id)
        #expect(s.sms.sent.isEmpty)
        #expect(try await subjects(to: world.contractors[0], s).last == "Your bid on “Fix the kitchen sink” was accepted")
    }

    @Test("a failed send is retried with backoff, the whole event again; in the end it is dead-lettered, with no personal data kept")
    func failuresAreRetriedThenDeadLettered() async throws {
        let s = try await setUp(.init(retryPolicy: EventService.RetryPolicy(maxAttempts: 2, initialDelay: 30)))
        let (t, world) = (s.t, s.world)
        let job = try await t.postJob(world)
        _ = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd)))
        t.email.failNext(with: ProviderRefused())
        var report = try await s.service.deliverPending(in: world.tenant.id)
        #expect(report.retried == 1 && report.emails == 0 && report.delivered == 1, "\(report)")  // job.posted tells nobody
        #expect(try await s.service.deliverPending(in: world.tenant.id) == NotificationService.Report(), "not before its backoff")
        t.clock.advance(by: 30)
        report = try await s.service.deliverPending(in: world.tenant.id)
        #expect(report.delivered == 1 && report.emails == 1)
        #expect(try await subjects(to: world.owner, s) == ["New bid on “Fix the kitchen sink”"])

        _ = try await t.market.bids.submit(by: world.contractors[1], on: job.id, .init(amount: Money(21_000, .usd)))
        t.email.failNext(with: ProviderRefused())
        t.email.failNext(with: ProviderRefused())
        #expect(try await s.service.deliverPending(in: world.tenant.id).retried == 1)
        t.clock.advance(by: 30)
        #expect(try await s.service.deliverPending(in: world.tenant.id).deadLettered == 1)
        let dead = try await t.market.events.deadLetters(in: world.tenant.id)
        #expect(dead.map(\.type) == [BidSubmitted.eventType])
        #expect(dead.first?.delivery.lastError == "ProviderRefused", "the reason names the failure, not the address it quoted")
        t.clock.advance(by: 3_600)
        #expect(try await s.service.deliverPending(in: world.tenant.id) == NotificationService.Report(), "a dead letter is not retried")
    }

    @Test("a partner's own composer words the notices; one naming a user the event does not is not sent; tenants stay apart")
    func ownComposerAndIsolation() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        let other = try await t.makeWorld(slug: "globex")
        let intruder = world.otherOwner.userID
        let composer = NoticeComposer { context in
            guard let bid = try context.event.decode(BidSubmitted.self) else { return [] }
            return [
                Notice(recipient: bid.ownerID, headline: "Ka-ching: \(context.jobTitle ?? "?")", text: "\(bid.amount)"),
                Notice(recipient: intruder, headline: "Not yours", text: "\(bid.amount)"),
            ]
        }
        let service = NotificationService(marketplace: t.market, email: t.email, composer: composer)
        let job = try await t.postJob(world, title: "Paint the fence")
        _ = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd)))
        let globexJob = try await t.postJob(other)
        _ = try await t.market.bids.submit(by: other.contractors[0], on: globexJob.id, .init(amount: Money(20_000, .usd)))

        #expect(try await service.deliverPending(in: world.tenant.id).emails == 1)
        #expect(t.email.sent.map(\.subject) == ["Ka-ching: Paint the fence"] && t.email.sent.first?.text.contains("USD 200.00") == true)
        #expect(try await subjects(to: world.otherOwner, s).isEmpty)
        // The other tenant's events were not claimed: its own run delivers them, in its own branding.
        t.email.reset()
        _ = try await service.deliverPending(in: other.tenant.id)
        #expect(t.email.sent.map(\.from.value) == ["no-reply@globex.example"])
    }

    @Test("a run whose sends are slow stops before its claim runs out, and the next run sends the rest, each once")
    func slowSendsStopBeforeTheLeaseEnds() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        let slow = NotificationService(marketplace: t.market, email: SlowEmailSender(clock: t.clock, inner: t.email))
        let job = try await t.postJob(world)
        for (index, contractor) in world.contractors.enumerated() {
            _ = try await t.market.bids.submit(by: contractor, on: job.id, .init(amount: Money(20_000 + Int64(index), .usd)))
        }
        // job.posted (nobody told), then two bids at 70 s each: the third would start with less than a minute left.
        let first = try await slow.deliverPending(in: world.tenant.id)
        #expect(first.delivered == 3 && first.emails == 2, "\(first)")
        #expect(try await slow.deliverPending(in: world.tenant.id) == NotificationService.Report(), "still claimed by the first run")
        t.clock.advance(by: 60)
        let second = try await slow.deliverPending(in: world.tenant.id)
        #expect(second.delivered == 1 && second.emails == 1, "\(second)")
        #expect(try await subjects(to: world.owner, s).count == 3, "each bid told once")
    }

    @Test("events older than the maximum age when first reached are marked delivered unsent: switching notices on tells no backlog")
    func backlogIsNotTold() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        let job = try await t.postJob(world)
        _ = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd)))
        t.clock.advance(by: 86_400 + 1)
        _ = try await t.market.bids.submit(by: world.contractors[1], on: job.id, .init(amount: Money(21_000, .usd)))
        let report = try await s.service.deliverPending(in: world.tenant.id)
        #expect(report.expired == 2 && report.delivered == 1 && report.emails == 1, "\(report)")  // job.posted and the first bid
        #expect(try await subjects(to: world.owner, s) == ["New bid on “Fix the kitchen sink”"])
        #expect(try await s.service.deliverPending(in: world.tenant.id) == NotificationService.Report(), "expired events are not pending")
    }

    @Test("a recipient the provider refuses for good is dropped and logged; the event's other notices count, and it is not retried")
    func rejectedRecipientIsDropped() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        let job = try await t.postJob(world)
        let bid = try await t.market.bids.submit(by: world.contractors[0], on: job.id, .init(amount: Money(20_000, .usd)))
        _ = try await s.service.deliverPending(in: world.tenant.id)
        t.email.failNext(with: NoticeRejected(code: "bounced"))
        _ = try await t.market.bids.accept(by: world.owner, bid.id)
        let report = try await s.service.deliverPending(in: world.tenant.id)
        // bid.accepted: the winner's e-mail bounced, their SMS went; payment.held and the job's award told as usual.
        #expect(report.rejected == 1 && report.retried == 0 && report.sms == 1, "\(report)")
        #expect(s.sms.sent.map(\.body) == ["acme: Your bid on “Fix the kitchen sink” was accepted"])
        t.clock.advance(by: 3_600)
        #expect(try await s.service.deliverPending(in: world.tenant.id) == NotificationService.Report())
        #expect(s.sms.sent.count == 1, "not sent again")
    }

    @Test("an event the composer cannot read is dead-lettered at once, not retried eight times")
    func unreadableEventsAreDeadLetteredAtOnce() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        struct Garbled: Error {}
        let service = NotificationService(marketplace: t.market, email: t.email, composer: NoticeComposer { _ in throw Garbled() })
        _ = try await t.postJob(world)
        let report = try await service.deliverPending(in: world.tenant.id)
        #expect(report.deadLettered == 1 && report.retried == 0, "\(report)")
        let dead = try await t.market.events.deadLetters(in: world.tenant.id)
        #expect(dead.map(\.type) == [JobPosted.eventType] && dead.first?.delivery.lastError == "unreadable: Garbled")
    }

    @Test("a cancellation after award tells both parties; a contractor's own profile edit is not news to them, an admin's vetting is")
    func cancellationAndVetting() async throws {
        let s = try await setUp()
        let (t, world) = (s.t, s.world)
        let pro = world.contractors[0]
        let job = try await t.postJob(world)
        let bid = try await t.market.bids.submit(by: pro, on: job.id, .init(amount: Money(20_000, .usd)))
        _ = try await t.market.bids.accept(by: world.owner, bid.id)
        _ = try await s.service.deliverPending(in: world.tenant.id)
        t.email.reset()
        _ = try await t.market.jobs.cancel(by: pro, job.id)
        _ = try await t.market.contractors.setVetting(by: world.admin, pro.userID, .approved)
        // An approved contractor who changes their trades goes back to pending, by their own act.
        _ = try await t.market.contractors.saveProfile(
            by: pro,
            .init(headline: "Pro 0", trades: [world.plumbing.id, world.roofing.id], serviceArea: GeoCircle(center: TestMarket.home, radiusKm: 30)))
        #expect(try await t.market.contractors.profile(by: world.admin, pro.userID).vetting == .pending)
        _ = try await s.service.deliverPending(in: world.tenant.id)
        #expect(try await subjects(to: world.owner, s).contains("The job “Fix the kitchen sink” was cancelled"))
        let proSubjects = try await subjects(to: pro, s)
        #expect(proSubjects.contains("The job “Fix the kitchen sink” was cancelled"))
        #expect(proSubjects.filter { $0.hasPrefix("Your contractor profile") } == ["Your contractor profile is approved"], "\(proSubjects)")
    }
}
