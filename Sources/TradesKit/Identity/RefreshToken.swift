public import Foundation

/// A stored refresh token: one link of a rotation chain (its family) that starts at a login.
///
/// Only the hash of the opaque token is stored. Presenting a token rotates it: it is marked used and the next token of
/// the same family is issued. Presenting a used or revoked token again means it leaked, so the whole family is revoked.
/// Not `Codable` on purpose: a token record has no business in an API response.
public struct RefreshToken: Sendable, Hashable, Identifiable {
    /// The token's id.
    public let id: RefreshTokenID
    /// The family: every token rotated from the same login.
    public let familyID: RefreshTokenFamilyID
    /// Whose session this is.
    public let userID: UserID
    /// The hex SHA-256 of the opaque token (``OpaqueToken/hash(_:)``); the token itself is never stored.
    public let tokenHash: String
    /// When it was issued.
    public let issuedAt: Date
    /// When it stops being accepted.
    public let expiresAt: Date
    /// When it was exchanged for the next token of its family; a second use is a reuse.
    public var usedAt: Date?
    /// When it was revoked (logout, reuse detected, password reset).
    public var revokedAt: Date?
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a refresh-token record.
    public init(
        id: RefreshTokenID, familyID: RefreshTokenFamilyID, userID: UserID, tokenHash: String, issuedAt: Date, expiresAt: Date,
        usedAt: Date? = nil, revokedAt: Date? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.familyID = familyID
        self.userID = userID
        self.tokenHash = tokenHash
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.revokedAt = revokedAt
        self.version = version
    }

    /// Whether the token was already exchanged or revoked: presenting it again means it leaked.
    public var isSpent: Bool { usedAt != nil || revokedAt != nil }

    /// Whether the token has expired at `now`.
    public func isExpired(at now: Date) -> Bool { now >= expiresAt }
}

extension RefreshToken: CustomStringConvertible {
    /// Identifies the token without its hash.
    public var description: String { "RefreshToken(\(id), family: \(familyID), user: \(userID))" }
}
