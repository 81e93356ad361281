public import Crypto
public import Foundation

/// Lifetimes, lockout and secrets of the ``IdentityService``: part of ``Marketplace/Configuration``.
///
/// ```swift
/// var identity = IdentityConfiguration(
///     twoFactorSealingKey: SymmetricKey(data: keyFromSecretStore),
///     verificationLinkBase: "https://app.example.com/verify-email",
///     passwordResetLinkBase: "https://app.example.com/reset-password")
/// identity.lockout.threshold = 10
/// ```
public struct IdentityConfiguration: Sendable {
    /// How long a refresh token is accepted after it is issued, in seconds (default 7 days). Each rotation issues a
    /// token with a full lifetime, so an active session keeps going and an idle one ends.
    public var refreshTokenLifetime: TimeInterval
    /// How long an e-mail verification link works, in seconds (default 48 hours).
    public var emailVerificationLifetime: TimeInterval
    /// How long a password reset link works, in seconds (default 1 hour).
    public var passwordResetLifetime: TimeInterval
    /// The AES-GCM key (256 bits) that seals TOTP secrets at rest. Load it from a secret store: the default is a
    /// random key made at start-up, for development only (after a restart no existing enrolment can be opened).
    public var twoFactorSealingKey: SymmetricKey
    /// When failed logins lock an account key (default: the 5th failure, 1 minute doubling to at most 1 hour).
    public var lockout: LockoutPolicy
    /// The issuer shown in authenticator apps; `nil` (the default) uses the tenant's brand name.
    public var twoFactorIssuer: String?
    /// The page that verifies an e-mail address; the link sent is this URL with `token=<token>` added to its query.
    public var verificationLinkBase: String
    /// The page that sets a new password; the link sent is this URL with `token=<token>` added to its query.
    public var passwordResetLinkBase: String

    /// Creates a configuration; every default is the documented one.
    public init(
        refreshTokenLifetime: TimeInterval = 7 * 86_400, emailVerificationLifetime: TimeInterval = 48 * 3_600,
        passwordResetLifetime: TimeInterval = 3_600, twoFactorSealingKey: SymmetricKey? = nil, lockout: LockoutPolicy = LockoutPolicy(),
        twoFactorIssuer: String? = nil, verificationLinkBase: String = "http://127.0.0.1:8080/verify-email",
        passwordResetLinkBase: String = "http://127.0.0.1:8080/reset-password"
    ) {
        self.refreshTokenLifetime = refreshTokenLifetime
        self.emailVerificationLifetime = emailVerificationLifetime
        self.passwordResetLifetime = passwordResetLifetime
        self.twoFactorSealingKey = twoFactorSealingKey ?? SymmetricKey(size: .bits256)
        self.lockout = lockout
        self.twoFactorIssuer = twoFactorIssuer
        self.verificationLinkBase = verificationLinkBase
        self.passwordResetLinkBase = passwordResetLinkBase
    }

    /// `base` with `token=<token>` appended to its query.
    static func link(_ base: String, token: String) -> String {
        base + (base.contains("?") ? "&" : "?") + "token=" + token
    }
}
