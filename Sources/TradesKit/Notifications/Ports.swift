/// Sends e-mail (SendGrid in production). Delivery is driven from the outbox, never inline with a change, except for the
/// identity e-mails: their links carry a secret that is stored nowhere (not even in the outbox), so ``IdentityService``
/// sends them right after committing the token's hash.
public protocol EmailSender: Sendable {
    /// Sends one message; answers the provider's message id.
    func send(_ message: EmailMessage) async throws -> String
}

/// Sends SMS (Twilio in production).
public protocol SMSSender: Sendable {
    /// Sends one message; answers the provider's message id.
    func send(_ message: SMSMessage) async throws -> String
}

/// Sends push notifications to a user's devices.
public protocol PushSender: Sendable {
    /// Sends one notification.
    func send(_ notification: PushNotification) async throws
}

/// Turns an address into coordinates.
public protocol Geocoder: Sendable {
    /// The location of `address`, or `nil` when it cannot be found.
    func geocode(_ address: String) async throws -> GeoPoint?
}

/// Runs a background check on a contractor.
public protocol BackgroundChecker: Sendable {
    /// Starts or reads a check; answers the resulting vetting status.
    func check(contractor: UserID, tenant: TenantID) async throws -> VettingStatus
}

/// An e-mail. Its description omits the address and the body.
public struct EmailMessage: Sendable, Hashable, CustomStringConvertible {
    /// The recipient.
    public var to: EmailAddress
    /// The sender (from the tenant's branding).
    public var from: EmailAddress
    /// The subject line.
    public var subject: String
    /// The plain-text body.
    public var text: String
    /// An optional HTML body.
    public var html: String?
    /// A stable reference of what the message tells (a notice's `<event>:<user>:email`), the same when it is sent again:
    /// an adapter passes it on where the provider keeps it (SendGrid's `custom_args`), for deduplication and tracking.
    public var reference: String?

    /// Creates a message.
    public init(to: EmailAddress, from: EmailAddress, subject: String, text: String, html: String? = nil, reference: String? = nil) {
        self.to = to
        self.from = from
        self.subject = subject
        self.text = text
        self.html = html
        self.reference = reference
    }

    public var description: String { "EmailMessage(subject: \(subject))" }
}

/// An SMS. Its description omits the number and the body.
public struct SMSMessage: Sendable, Hashable, CustomStringConvertible {
    /// The recipient.
    public var to: PhoneNumber
    /// The sender id or number.
    public var from: String
    /// The text.
    public var body: String
    /// A stable reference of what the message tells (a notice's `<event>:<user>:sms`), the same when it is sent again.
    public var reference: String?

    /// Creates a message.
    public init(to: PhoneNumber, from: String, body: String, reference: String? = nil) {
        self.to = to
        self.from = from
        self.body = body
        self.reference = reference
    }

    public var description: String { "SMSMessage(\(body.count) characters)" }
}

/// A push notification to one user.
public struct PushNotification: Sendable, Hashable {
    /// The tenant.
    public var tenantID: TenantID
    /// The user.
    public var userID: UserID
    /// The title.
    public var title: String
    /// The body.
    public var body: String

    /// Creates a notification.
    public init(tenantID: TenantID, userID: UserID, title: String, body: String) {
        self.tenantID = tenantID
        self.userID = userID
        self.title = title
        self.body = body
    }
}
