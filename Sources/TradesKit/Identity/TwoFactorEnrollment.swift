public import Foundation

/// A user's TOTP (RFC 6238) enrolment. At most one per user.
///
/// The shared secret is stored sealed with AES-GCM under the marketplace's key (``IdentityConfiguration/twoFactorSealingKey``),
/// bound to its tenant and user, so the database alone never reveals it. Until ``confirmedAt`` is set the enrolment is
/// pending and login does not ask for a code.
public struct TwoFactorEnrollment: Sendable, Hashable {
    /// The enrolled user.
    public let userID: UserID
    /// The AES-GCM sealed box (nonce, ciphertext and tag) of the secret.
    public var sealedSecret: Data
    /// When the enrolment was started (or restarted with a new secret).
    public var createdAt: Date
    /// When the user proved they hold the secret; `nil` while pending.
    public var confirmedAt: Date?
    /// The last TOTP time step whose code was accepted: a code of that step or an earlier one is refused (replay protection).
    public var lastAcceptedStep: Int64?
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates an enrolment value.
    public init(
        userID: UserID, sealedSecret: Data, createdAt: Date, confirmedAt: Date? = nil, lastAcceptedStep: Int64? = nil, version: Int64 = 1
    ) {
        self.userID = userID
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.lastAcceptedStep = lastAcceptedStep
        self.version = version
    }

    /// Whether the user confirmed the enrolment, so login requires a code.
    public var isConfirmed: Bool { confirmedAt != nil }
}

extension TwoFactorEnrollment: CustomStringConvertible {
    /// Identifies the enrolment without its sealed secret.
    public var description: String { "TwoFactorEnrollment(user: \(userID), confirmed: \(isConfirmed))" }
}
