public import Foundation

/// The event feed, and the outbox consumer API that notification and webhook workers use.
public struct EventService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// The caller's events, oldest first: events naming them as a recipient; every event of the tenant for an admin.
    public func feed(by principal: Principal, page: PageRequest = PageRequest()) async throws -> Page<OutboxEvent> {
        try await environment.acting("event.feed", as: principal) { store, actor in
            return try await store.events(recipient: actor.role == .admin ? nil : actor.id, page: page)
        }
    }

    /// Claims up to `limit` undelivered events of a tenant for delivery, hidden from other consumers for `lease` seconds.
    public func claim(in tenant: TenantID, limit: Int = 50, lease: TimeInterval = 60) async throws -> [OutboxEvent] {
        let now = environment.now()
        return try await environment.run("outbox.claim", tenant: tenant) {
            try await environment.storage.tenant(tenant).claimEvents(
                limit: min(500, max(1, limit)), now: now,
                leaseUntil: now.addingTimeInterval(lease).truncatedToMilliseconds)
        }
    }

    /// Marks claimed events delivered.
    public func markDelivered(in tenant: TenantID, _ ids: [EventID]) async throws {
        try await environment.run("outbox.delivered", tenant: tenant) { try await environment.storage.tenant(tenant).markDelivered(ids) }
    }

    /// Records a failed delivery: retried later with exponential backoff, or dead-lettered after `policy.maxAttempts`.
    /// Answers when it will be retried, or `nil` when dead-lettered.
    ///
    /// The reason is kept as its first 500 characters, with control characters (a provider's answer may hold any)
    /// replaced by U+FFFD: a NUL, which PostgreSQL refuses in text, must not make the failure itself fail and leave the
    /// event retried forever without its attempts counted.
    @discardableResult
    public func markFailed(in tenant: TenantID, _ event: OutboxEvent, reason: String, policy: RetryPolicy = RetryPolicy()) async throws -> Date? {
        let attempts = event.delivery.attempts + 1
        let retryAt = policy.delay(afterAttempt: attempts).map { environment.now().addingTimeInterval($0).truncatedToMilliseconds }
        try await environment.run("outbox.failed", tenant: tenant) {
            try await environment.storage.tenant(tenant).recordFailure(
                event.id, attempts: attempts, retryAt: retryAt, reason: Self.storable(reason))
        }
        return retryAt
    }

    /// `reason` as ``markFailed(in:_:reason:policy:)`` stores it.
    static func storable(_ reason: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in String(reason.prefix(500)).unicodeScalars {
            let keep = scalar == "\n" || scalar == "\t" || scalar.properties.generalCategory != .control
            scalars.append(keep ? scalar : "\u{FFFD}")
        }
        return String(scalars)
    }

    /// Dead-lettered events of a tenant, for an operator to inspect.
    public func deadLetters(in tenant: TenantID, limit: Int = 100) async throws -> [OutboxEvent] {
        try await environment.run("outbox.dead", tenant: tenant) { try await environment.storage.tenant(tenant).deadLetters(limit: limit) }
    }

    /// Exponential backoff for outbox deliveries.
    public struct RetryPolicy: Sendable, Hashable {
        /// After this many failed attempts the event is dead-lettered.
        public var maxAttempts: Int
        /// The first delay, in seconds; each later one doubles, up to ``maximumDelay``.
        public var initialDelay: TimeInterval
        /// The longest delay, in seconds.
        public var maximumDelay: TimeInterval

        /// Creates a policy (defaults: 8 attempts, 30 s doubling to at most 1 h).
        public init(maxAttempts: Int = 8, initialDelay: TimeInterval = 30, maximumDelay: TimeInterval = 3_600) {
            self.maxAttempts = maxAttempts
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }

        /// The delay before the next attempt after `attempt` failures; `nil` when it is time to give up.
        public func delay(afterAttempt attempt: Int) -> TimeInterval? {
            guard attempt < maxAttempts else { return nil }
            return min(maximumDelay, initialDelay * pow(2, Double(max(0, attempt - 1))))
        }
    }
}
