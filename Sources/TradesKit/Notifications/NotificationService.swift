import Foundation
import CoreMetrics
import Logging

/// What one user is told about one event, and how.
public struct Notice: Sendable, Hashable {
    /// How a notice reaches its recipient.
    public enum Channel: String, Sendable, Hashable, CaseIterable {
        /// E-mail, to a verified address.
        case email
        /// SMS, to the user's phone number, when they gave one and the tenant has an SMS sender.
        case sms
    }

    /// Who is told.
    public var recipient: UserID
    /// Through which channels.
    public var channels: Set<Channel>
    /// One line: the e-mail's subject, and the whole of an SMS.
    public var headline: String
    /// The e-mail's text, below the greeting.
    public var text: String

    /// Creates a notice.
    public init(recipient: UserID, channels: Set<Channel> = [.email], headline: String, text: String) {
        self.recipient = recipient
        self.channels = channels
        self.headline = headline
        self.text = text
    }
}

/// Turns an outbox event into the notices it calls for: the standard ones (``standard``) or a partner's own words.
///
/// It gets the event and, for an event about a job, the job as it is when the notice is sent (for its title). It must
/// tell each recipient only what the event lets them see: a declined bidder never learns the winning amount.
public struct NoticeComposer: Sendable {
    /// The notices for `event`; none for an event nobody is told about.
    public let compose: @Sendable (_ event: OutboxEvent, _ job: Job?) throws -> [Notice]

    /// Creates a composer.
    public init(_ compose: @escaping @Sendable (_ event: OutboxEvent, _ job: Job?) throws -> [Notice]) {
        self.compose = compose
    }
}

/// Delivers the marketplace's notices by e-mail and SMS, from the outbox: each run claims a tenant's pending events,
/// composes what each party is to be told (``NoticeComposer``), sends it through the ``EmailSender`` and
/// ``SMSSender`` ports, and marks the event delivered; an event whose sending failed is retried with backoff and
/// dead-lettered in the end (``EventService/RetryPolicy``).
///
/// Who is told:
/// - only the parties of the event, never a user the event does not name, and never the person who acted (a bidder
///   hears nothing of their own bid);
/// - by e-mail only at a verified address: an address nobody proved is someone's is never written to, so typing
///   another person's address at sign-up cannot make the marketplace write to them;
/// - by SMS only for what needs acting on soon (a bid won, work to approve, a dispute to answer, money paid out), to
///   a user with a phone number, and only when the tenant's branding names an SMS sender (and an ``SMSSender`` is given);
/// - a suspended user only of their suspension.
///
/// Delivery is at least once: an event whose sending fails part-way is sent again whole. Each message carries the
/// notice's stable reference (`<event>:<user>:<channel>`), for a provider or mailbox that deduplicates.
///
/// The outbox's delivery state has one consumer: run this, or a consumer of your own (outbound webhooks, say), not
/// both over one tenant. The event feed does not depend on it.
public struct NotificationService: Sendable {
    let marketplace: Marketplace
    let email: any EmailSender
    let sms: (any SMSSender)?
    let composer: NoticeComposer
    let retryPolicy: EventService.RetryPolicy

    /// Creates the service.
    public init(
        marketplace: Marketplace, email: any EmailSender, sms: (any SMSSender)? = nil, composer: NoticeComposer = .standard,
        retryPolicy: EventService.RetryPolicy = EventService.RetryPolicy()
    ) {
        self.marketplace = marketplace
        self.email = email
        self.sms = sms
        self.composer = composer
        self.retryPolicy = retryPolicy
    }

    /// What one run did.
    public struct Report: Sendable, Hashable {
        /// Events claimed and delivered (including those nobody is told about).
        public var delivered = 0
        /// Events whose sending failed, to be retried.
        public var retried = 0
        /// Events whose sending failed for the last time: dead-lettered.
        public var deadLettered = 0
        /// E-mails sent.
        public var emails = 0
        /// SMS sent.
        public var sms = 0

        /// An empty report.
        public init() {}
    }

    /// Delivers up to `limit` of the tenant's pending events (oldest first) and answers what was done. Safe to run
    /// concurrently: each event is claimed by one run at a time, for three minutes; a run that has used two of them
    /// stops, and leaves the events it has not reached to the next run.
    public func deliverPending(in tenantID: TenantID, limit: Int = 50) async throws -> Report {
        let environment = marketplace.environment
        var report = Report()
        let leaseEnds = environment.now().addingTimeInterval(Self.lease)
        let events = try await marketplace.events.claim(in: tenantID, limit: limit, lease: Self.lease)
        guard !events.isEmpty else { return report }
        let store = environment.storage.tenant(tenantID)
        let tenant = try await environment.run("notification.tenant", tenant: tenantID) { try await environment.tenant(of: store) }
        for event in events {
            // The rest wait for the lease to end and the next run, rather than risk a second run sending them too.
            guard environment.now() < leaseEnds.addingTimeInterval(-Self.leaseMargin) else { break }
            do {
                let (emails, texts) = try await deliver(event, tenant: tenant, store: store)
                report.emails += emails
                report.sms += texts
            } catch {
                let reason = Self.reason(error)
                if try await marketplace.events.markFailed(in: tenantID, event, reason: reason, policy: retryPolicy) == nil {
                    report.deadLettered += 1
                    environment.logger.error(
                        "A notification was given up",
                        metadata: ["tradeskit.tenant": "\(tenantID)", "tradeskit.event": "\(event.id)", "tradeskit.error": "\(reason)"])
                } else {
                    report.retried += 1
                    environment.logger.warning(
                        "A notification failed; it will be retried",
                        metadata: ["tradeskit.tenant": "\(tenantID)", "tradeskit.event": "\(event.id)", "tradeskit.error": "\(reason)"])
                }
                continue
            }
            // Each event as soon as it is sent, not the batch at the end: a slow provider could otherwise outlast the
            // claim's lease, and another run send the first events again.
            try await marketplace.events.markDelivered(in: tenantID, [event.id])
            report.delivered += 1
        }
        return report
    }

    /// Sends the notices of one event; answers how many e-mails and SMS went out.
    private func deliver(_ event: OutboxEvent, tenant: Tenant, store: any TenantStorage) async throws -> (Int, Int) {
        let environment = marketplace.environment
        var job: Job?
        if !Self.userEventTypes.contains(event.type) {
            job = try await environment.run("notification.read", tenant: tenant.id) { try await store.job(JobID(event.aggregateID)) }
        }
        let notices = try composer.compose(event, job)
        guard !notices.isEmpty else { return (0, 0) }
        let branding = tenant.settings.branding
        var emails = 0
        var texts = 0
        for notice in notices where event.recipients.contains(notice.recipient) {
            let user = try await environment.run("notification.read", tenant: tenant.id) { try await store.user(notice.recipient) }
            guard let user, !user.suspended || event.type == UserSuspensionChanged.eventType else { continue }
            let reference = "\(event.id):\(user.id)"
            if notice.channels.contains(.email), user.emailVerified, let from = try? EmailAddress(branding.fromEmail) {
                let message = EmailMessage(
                    to: user.email, from: from, subject: notice.headline,
                    text: "Hello \(user.displayName),\n\n\(notice.text)\n\n— \(branding.name)\n", reference: "\(reference):email")
                _ = try await email.send(message)
                NotificationMetrics.emails.increment()
                emails += 1
            }
            if notice.channels.contains(.sms), let sms, let phone = user.phone, let sender = branding.smsSender {
                _ = try await sms.send(
                    SMSMessage(to: phone, from: sender, body: "\(branding.name): \(notice.headline)", reference: "\(reference):sms"))
                NotificationMetrics.sms.increment()
                texts += 1
            }
        }
        return (emails, texts)
    }

    /// How long a run holds the events it claimed, and how much of it must be left to start sending an event's
    /// notices: a send that takes longer than the margin (an adapter's own timeouts and retries) could let another
    /// run claim the event and send it too.
    static let lease: TimeInterval = 180
    static let leaseMargin: TimeInterval = 60

    /// The events about a user rather than a job.
    static let userEventTypes: Set<String> = [UserRegistered.eventType, UserSuspensionChanged.eventType, ContractorVettingChanged.eventType]

    /// A failure as stored on the event and logged: its code or type, never its description (a provider's error may
    /// quote an address or a number).
    static func reason(_ error: any Error) -> String {
        if let error = error as? TradesKitError { return error.code.rawValue }
        return "\(type(of: error))"
    }
}

enum NotificationMetrics {
    static let emails = Counter(label: "tradeskit_notifications_sent_total", dimensions: [("channel", "email")])
    static let sms = Counter(label: "tradeskit_notifications_sent_total", dimensions: [("channel", "sms")])
}
