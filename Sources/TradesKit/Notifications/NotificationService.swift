public import Foundation
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

/// What a composer knows of an event: the event, and, for an event about a job, the job's title (which every party of
/// such an event may see; nothing else of the job, whose award a declined bidder must not learn).
public struct NoticeContext: Sendable {
    /// The event.
    public let event: OutboxEvent
    /// The title of the job the event is about, as it is when the notice is composed; `nil` for an event about a user.
    public let jobTitle: String?

    /// Creates a context.
    public init(event: OutboxEvent, jobTitle: String?) {
        self.event = event
        self.jobTitle = jobTitle
    }
}

/// Turns an outbox event into the notices it calls for: the standard ones (``standard``) or a partner's own words.
///
/// It must tell each recipient only what the event lets them see: a declined bidder never learns the winning amount.
/// A notice for a user the event does not name is not sent. An error it throws (a payload it cannot read) is taken as
/// final: the event is dead-lettered at once.
public struct NoticeComposer: Sendable {
    /// The notices for an event; none for an event nobody is told about.
    public let compose: @Sendable (NoticeContext) throws -> [Notice]

    /// Creates a composer.
    public init(_ compose: @escaping @Sendable (NoticeContext) throws -> [Notice]) {
        self.compose = compose
    }
}

/// What an ``EmailSender`` or ``SMSSender`` throws when its provider refuses one recipient for good (an address that
/// bounces, a number that cannot take SMS): ``NotificationService`` drops that notice, logs the code, and goes on with
/// the event's others. Any other error fails the whole event, which is retried.
public struct NoticeRejected: Error, Sendable, CustomStringConvertible {
    /// The provider's code for the refusal (e.g. Twilio's `21614`): never the address or number.
    public let code: String

    /// Creates the error.
    public init(code: String) { self.code = code }

    public var description: String { "NoticeRejected(\(code))" }
}

/// Delivers the marketplace's notices by e-mail and SMS, from the outbox: each run claims a tenant's pending events,
/// composes what each party is to be told (``NoticeComposer``), sends it through the ``EmailSender`` and
/// ``SMSSender`` ports, and marks the event delivered; an event whose sending failed is retried with backoff and
/// dead-lettered in the end (``Configuration/retryPolicy``).
///
/// Who is told:
/// - only the parties the event names, each only of what concerns them (see ``NoticeComposer/standard``);
/// - by e-mail only at a verified address: an address nobody proved is someone's is never written to, so typing
///   another person's address at sign-up cannot make the marketplace write to them;
/// - by SMS only for what needs acting on soon (a bid won, work to approve, a dispute to answer, money paid out), to a
///   user with a phone number and a verified e-mail address (numbers are not verified themselves yet), and only when
///   the tenant's branding names an SMS sender and an ``SMSSender`` is given;
/// - not by a channel the user turned off (``User/notifications``);
/// - a suspended user only of their suspension;
/// - nobody of an event older than ``Configuration/maximumAge`` when first reached (a backlog, say after an outage or
///   when notifications are first switched on): it is marked delivered unsent, as news that late would mislead.
///
/// Delivery is at least once: an event whose sending fails part-way is sent again whole, and a send still in flight
/// when the claim runs out may be repeated by the next run. Each message carries the notice's stable reference
/// (`<event>:<user>:<channel>`) for tracking.
///
/// The outbox's delivery state has one consumer: run this, or a consumer of your own (outbound webhooks, say), not
/// both over one tenant. The event feed does not depend on it.
public struct NotificationService: Sendable {
    /// Tunables of delivery.
    public struct Configuration: Sendable {
        /// Backoff and dead-lettering of failed events (default: 8 attempts, 30 s doubling to 1 h).
        public var retryPolicy: EventService.RetryPolicy
        /// How old an event may be when a run first reaches it and still be told (default one day).
        public var maximumAge: TimeInterval
        /// How long a run holds the events it claims (default three minutes).
        public var lease: TimeInterval
        /// How much of the claim must be left for a run to start a send (default one minute): more than a send takes,
        /// the provider adapter's timeouts and retries included, or another run may claim the event and send it too.
        /// A run that reaches it stops, and leaves the events it has not finished to the next run.
        public var leaseMargin: TimeInterval

        /// Creates a configuration.
        public init(
            retryPolicy: EventService.RetryPolicy = EventService.RetryPolicy(), maximumAge: TimeInterval = 86_400,
            lease: TimeInterval = 180, leaseMargin: TimeInterval = 60
        ) {
            self.retryPolicy = retryPolicy
            self.maximumAge = maximumAge
            self.lease = max(1, lease)
            self.leaseMargin = min(max(0, leaseMargin), self.lease)
        }
    }

    let marketplace: Marketplace
    let email: any EmailSender
    let sms: (any SMSSender)?
    let composer: NoticeComposer
    /// The tunables it was made with.
    public let configuration: Configuration

    /// Creates the service.
    public init(
        marketplace: Marketplace, email: any EmailSender, sms: (any SMSSender)? = nil, composer: NoticeComposer = .standard,
        configuration: Configuration = Configuration()
    ) {
        self.marketplace = marketplace
        self.email = email
        self.sms = sms
        self.composer = composer
        self.configuration = configuration
    }

    /// What one run did.
    public struct Report: Sendable, Hashable {
        /// Events whose notices were sent (or that called for none), marked delivered.
        public var delivered = 0
        /// Events too old to tell (``Configuration/maximumAge``), marked delivered unsent.
        public var expired = 0
        /// Events whose sending failed, to be retried.
        public var retried = 0
        /// Events given up: failed for the last time, or unreadable.
        public var deadLettered = 0
        /// E-mails sent.
        public var emails = 0
        /// SMS sent.
        public var sms = 0
        /// Notices a provider refused for good (``NoticeRejected``).
        public var rejected = 0

        /// An empty report.
        public init() {}

        /// How many claimed events the run finished with.
        public var handled: Int { delivered + expired + retried + deadLettered }
    }

    /// Delivers up to `limit` of the tenant's pending events (oldest first) and answers what was done. Runs may
    /// overlap: each event is claimed by one run at a time (``Configuration/lease``). A run stops when its task is
    /// cancelled or its claim nears its end, and leaves what it has not finished to a later run.
    public func deliverPending(in tenantID: TenantID, limit: Int = 50) async throws -> Report {
        let environment = marketplace.environment
        let store = environment.storage.tenant(tenantID)
        let tenant = try await environment.run("notification.tenant", tenant: tenantID) { try await environment.tenant(of: store) }
        let sendBy = environment.now().addingTimeInterval(configuration.lease - configuration.leaseMargin)
        let events = try await marketplace.events.claim(in: tenantID, limit: limit, lease: configuration.lease)
        var report = Report()
        for event in events {
            let outcome: Outcome
            do {
                outcome = try await deliver(event, tenant: tenant, store: store, sendBy: sendBy, report: &report)
            } catch is StopRun {
                break
            } catch is CancellationError {
                break
            } catch {
                await failed(event, error, tenant: tenantID, report: &report)
                continue
            }
            do {
                try await marketplace.events.markDelivered(in: tenantID, [event.id])
                if outcome == .expired { report.expired += 1 } else { report.delivered += 1 }
            } catch {
                // Sent, but not recorded: the event is sent again after its claim ends.
                log(.error, "A notification was sent but could not be marked delivered", event, tenantID, error)
            }
        }
        return report
    }

    private enum Outcome { case sent, expired }
    /// The run's claim is nearly over, or its task was cancelled: stop without recording a failure.
    private struct StopRun: Error {}
    /// The composer could not read the event: retrying cannot help.
    private struct Unreadable: Error { let underlying: any Error }

    /// Sends the notices of one event.
    private func deliver(_ event: OutboxEvent, tenant: Tenant, store: any TenantStorage, sendBy: Date, report: inout Report) async throws -> Outcome {
        let environment = marketplace.environment
        if environment.now().timeIntervalSince(event.occurredAt) > configuration.maximumAge { return .expired }
        var title: String?
        if !Self.userEventTypes.contains(event.type) {
            title = try await environment.run("notification.read", tenant: tenant.id) { try await store.job(JobID(event.aggregateID))?.title }
        }
        let notices: [Notice]
        do {
            notices = try composer.compose(NoticeContext(event: event, jobTitle: title))
        } catch {
            throw Unreadable(underlying: error)
        }
        let branding = tenant.settings.branding
        let from = try? EmailAddress(branding.fromEmail)
        for notice in notices where event.recipients.contains(notice.recipient) {
            let user = try await environment.run("notification.read", tenant: tenant.id) { try await store.user(notice.recipient) }
            guard let user, !user.suspended || event.type == UserSuspensionChanged.eventType, user.emailVerified else { continue }
            let reference = "\(event.id):\(user.id)"
            if notice.channels.contains(.email), user.notifications.email {
                guard let from else {
                    throw TradesKitError(.notConfigured, "The tenant's sender address is not a valid e-mail address")
                }
                let message = EmailMessage(
                    to: user.email, from: from, subject: notice.headline,
                    text: "Hello \(user.displayName),\n\n\(notice.text)\n\n— \(branding.name)\n", reference: "\(reference):email")
                try await send(.email, by: sendBy, event, tenant.id, report: &report) { _ = try await email.send(message) }
            }
            if notice.channels.contains(.sms), user.notifications.sms, let sms, let phone = user.phone, let sender = branding.smsSender {
                let message = SMSMessage(to: phone, from: sender, body: "\(branding.name): \(notice.headline)", reference: "\(reference):sms")
                try await send(.sms, by: sendBy, event, tenant.id, report: &report) { _ = try await sms.send(message) }
            }
        }
        return .sent
    }

    /// Makes one send, unless the run must stop first, and counts it in `report` (and the metrics): sent, or refused
    /// for good by the provider (dropped and logged).
    private func send(
        _ channel: Notice.Channel, by deadline: Date, _ event: OutboxEvent, _ tenant: TenantID, report: inout Report,
        _ body: () async throws -> Void
    ) async throws {
        guard !Task.isCancelled, marketplace.environment.now() < deadline else { throw StopRun() }
        do {
            try await body()
        } catch let rejected as NoticeRejected {
            marketplace.environment.logger.warning(
                "A provider refused a notice's recipient; the notice is dropped",
                metadata: [
                    "tradeskit.tenant": "\(tenant)", "tradeskit.event": "\(event.id)", "tradeskit.channel": "\(channel.rawValue)",
                    "tradeskit.provider_code": "\(rejected.code.prefix(64))",
                ])
            report.rejected += 1
            return
        }
        switch channel {
        case .email:
            NotificationMetrics.emails.increment()
            report.emails += 1
        case .sms:
            NotificationMetrics.sms.increment()
            report.sms += 1
        }
    }

    /// Records a failed event: retried later, or dead-lettered (at once when the composer cannot read it).
    private func failed(_ event: OutboxEvent, _ error: any Error, tenant: TenantID, report: inout Report) async {
        let unreadable = error is Unreadable
        let policy = unreadable ? EventService.RetryPolicy(maxAttempts: 0) : configuration.retryPolicy
        do {
            if try await marketplace.events.markFailed(in: tenant, event, reason: Self.reason(error), policy: policy) == nil {
                report.deadLettered += 1
                log(.error, unreadable ? "A notification could not be composed; it is given up" : "A notification was given up", event, tenant, error)
            } else {
                report.retried += 1
                log(.warning, "A notification failed; it will be retried", event, tenant, error)
            }
        } catch {
            // Not recorded: the event is tried again after its claim ends, its attempt not counted.
            log(.error, "A failed notification could not be recorded", event, tenant, error)
        }
    }

    private func log(_ level: Logger.Level, _ message: Logger.Message, _ event: OutboxEvent, _ tenant: TenantID, _ error: any Error) {
        marketplace.environment.logger.log(
            level: level, message,
            metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.event": "\(event.id)", "tradeskit.error": "\(Self.reason(error))"])
    }

    /// The events about a user rather than a job.
    static let userEventTypes: Set<String> = [UserRegistered.eventType, UserSuspensionChanged.eventType, ContractorVettingChanged.eventType]

    /// A failure as stored on the event and logged: its code or type, never its description (a provider's error may
    /// quote an address or a number).
    static func reason(_ error: any Error) -> String {
        if let error = error as? Unreadable { return "unreadable: \(reason(error.underlying))" }
        if let error = error as? TradesKitError { return error.code.rawValue }
        return "\(type(of: error))"
    }
}

enum NotificationMetrics {
    static let emails = Counter(label: "tradeskit_notifications_sent_total", dimensions: [("channel", "email")])
    static let sms = Counter(label: "tradeskit_notifications_sent_total", dimensions: [("channel", "sms")])
}
