public import Foundation

/// The error every TradesKit service throws: a stable ``Code``, a message safe to show, and field-level details.
///
/// Messages never contain secrets or personal data (passwords, tokens, e-mail addresses, phone numbers),
/// so an error may be logged or returned to a client as it is.
public struct TradesKitError: Error, Sendable, Hashable {
    /// A stable, machine-readable error code. New codes can be added without breaking callers.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The thing does not exist, or the caller may not know that it exists (another tenant's id looks the same).
        public static let notFound = Code(rawValue: "not_found")
        /// The caller is known but not allowed to do this.
        public static let forbidden = Code(rawValue: "forbidden")
        /// The input broke one or more field rules; see ``TradesKitError/fieldErrors``.
        public static let validationFailed = Code(rawValue: "validation_failed")
        /// The change is not allowed in the current state (e.g. accepting a bid on a closed job).
        public static let invalidTransition = Code(rawValue: "invalid_transition")
        /// The change collides with existing data (a duplicate, or a concurrent change that kept winning).
        public static let conflict = Code(rawValue: "conflict")
        /// The payment processor refused or failed.
        public static let paymentFailed = Code(rawValue: "payment_failed")
        /// Storage could not be reached or failed.
        public static let storageUnavailable = Code(rawValue: "storage_unavailable")
        /// Two amounts in different currencies were combined.
        public static let currencyMismatch = Code(rawValue: "currency_mismatch")
        /// An amount computation overflowed `Int64`.
        public static let amountOverflow = Code(rawValue: "amount_overflow")
        /// The caller's account is suspended.
        public static let suspended = Code(rawValue: "account_suspended")
        /// The credentials or the session token are not valid. A wrong password and an unknown e-mail address answer
        /// the same error, so a caller cannot learn which addresses have accounts.
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        /// The password was right, and the account needs a two-factor code too.
        public static let twoFactorRequired = Code(rawValue: "two_factor_required")
        /// The two-factor code is wrong, or was already used.
        public static let invalidTwoFactorCode = Code(rawValue: "invalid_two_factor_code")
        /// A signed-in caller confirming a sensitive change gave a password that is not theirs.
        public static let wrongPassword = Code(rawValue: "wrong_password")
        /// Too many failed logins: the account key is locked until ``TradesKitError/retryAfter``.
        public static let accountLocked = Code(rawValue: "account_locked")
        /// An e-mailed link's token is unknown, used, or expired.
        public static let invalidToken = Code(rawValue: "invalid_token")
        /// The operation needs a provider the marketplace was created without (such as an ``EmailSender``).
        public static let notConfigured = Code(rawValue: "not_configured")
        /// A provider (such as the ``EmailSender``) failed to deliver.
        public static let deliveryFailed = Code(rawValue: "delivery_failed")
    }

    /// The stable code.
    public let code: Code
    /// A human-readable message, free of personal data.
    public let message: String
    /// Field-level problems, for ``Code/validationFailed``.
    public let fieldErrors: [FieldError]
    /// When the caller may try again, for ``Code/accountLocked`` (an HTTP layer answers it as `Retry-After`).
    public let retryAfter: Date?

    /// Creates an error.
    public init(_ code: Code, _ message: String, fieldErrors: [FieldError] = [], retryAfter: Date? = nil) {
        self.code = code
        self.message = message
        self.fieldErrors = fieldErrors
        self.retryAfter = retryAfter
    }

    static func notFound(_ what: String) -> Self { Self(.notFound, "\(what) not found") }
    static func forbidden(_ message: String) -> Self { Self(.forbidden, message) }
    static func invalidTransition(_ message: String) -> Self { Self(.invalidTransition, message) }

    /// Refuses a decision made on a version of a record that is no longer current (`expected` is `nil` when the caller
    /// named none). Thrown inside a storage run, it is not retried: a fresh read cannot make the caller's view current.
    static func expect(_ version: Int64, toBe expected: Int64?, _ what: String) throws(TradesKitError) {
        guard let expected, expected != version else { return }
        throw Self(.conflict, "\(what) changed since version \(expected); read it again and decide on what it says now")
    }

    /// A decision refused because a movement of the same money, decided earlier, is still owed by the processor.
    static let paymentStillOwed = Self(.conflict, "A payment for this job is still being processed; try again shortly")

    static func validation(_ errors: [FieldError]) -> Self {
        Self(.validationFailed, "The input is not valid", fieldErrors: errors)
    }
}

extension TradesKitError: CustomStringConvertible {
    public var description: String {
        guard !fieldErrors.isEmpty else { return "\(code): \(message)" }
        return "\(code): \(message) (" + fieldErrors.map(\.description).joined(separator: "; ") + ")"
    }
}

/// One bad field: where, a stable code, and a message that does not echo the value.
public struct FieldError: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The field's name in the input, e.g. `title` or `budget.max`.
    public let field: String
    /// A stable code such as `too_long`, `required`, `out_of_range`, `invalid_format`.
    public let code: String
    /// A human-readable explanation.
    public let message: String

    /// Creates a field error.
    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
