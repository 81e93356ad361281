public import Foundation

/// A single-use, expiring token sent by e-mail: an address verification or a password reset.
///
/// Only the hash of the opaque token is stored; the plain token exists in the e-mailed link alone.
public struct OneTimeToken: Sendable, Hashable, Identifiable {
    /// The token's id.
    public let id: OneTimeTokenID
    /// Whose token it is.
    public let userID: UserID
    /// What it may be used for.
    public let purpose: OneTimeTokenPurpose
    /// The hex SHA-256 of the opaque token (``OpaqueToken/hash(_:)``).
    public let tokenHash: String
    /// When it was created.
    public let createdAt: Date
    /// When it stops being accepted.
    public let expiresAt: Date
    /// When it was used; a used token is never accepted again.
    public var usedAt: Date?
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a one-time-token record.
    public init(
        id: OneTimeTokenID, userID: UserID, purpose: OneTimeTokenPurpose, tokenHash: String, createdAt: Date, expiresAt: Date,
        usedAt: Date? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.userID = userID
        self.purpose = purpose
        self.tokenHash = tokenHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.version = version
    }

    /// Whether the token may be used at `now`: never used and not expired.
    public func isUsable(at now: Date) -> Bool { usedAt == nil && now < expiresAt }
}

extension OneTimeToken: CustomStringConvertible {
    /// Identifies the token without its hash.
    public var description: String { "OneTimeToken(\(id), \(purpose.rawValue), user: \(userID))" }
}

/// What a ``OneTimeToken`` is for. A token of one purpose is never accepted for another.
public enum OneTimeTokenPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    /// Proves the user controls their e-mail address.
    case emailVerification = "email_verification"
    /// Lets the user choose a new password.
    case passwordReset = "password_reset"
}
