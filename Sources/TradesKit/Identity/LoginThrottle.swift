import Crypto
public import Foundation

/// Failed-login bookkeeping of one account key, and the lockout rule.
///
/// Keyed by ``AccountKey`` (a hash of tenant and e-mail) rather than by user, so an e-mail address that has no account
/// is throttled exactly like one that has: the answers to a guesser never tell the two apart, and no address is stored.
public struct LoginThrottle: Sendable, Hashable {
    /// The account key.
    public let key: AccountKey
    /// Failed attempts counted since the last success (or since failures were forgotten).
    public var failures: Int
    /// Until when logins are refused without looking at the password.
    public var lockedUntil: Date?
    /// When the last failure happened.
    public var lastFailureAt: Date?
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a throttle value.
    public init(key: AccountKey, failures: Int = 0, lockedUntil: Date? = nil, lastFailureAt: Date? = nil, version: Int64 = 1) {
        self.key = key
        self.failures = failures
        self.lockedUntil = lockedUntil
        self.lastFailureAt = lastFailureAt
        self.version = version
    }

    /// The instant until which logins are refused, if the key is locked at `now`.
    public func lockedUntil(at now: Date) -> Date? {
        guard let lockedUntil, lockedUntil > now else { return nil }
        return lockedUntil
    }

    /// Whether there is anything for a successful login to clear.
    public var isClear: Bool { failures == 0 && lockedUntil == nil }

    /// The throttle after one more failure at `now`: from the `threshold`-th consecutive failure on, each failure locks the
    /// key for a delay that starts at `initialDelay` and doubles per further failure, up to `maximumDelay`. Failures older
    /// than `forgetAfter` (counted from the last one) are forgotten first.
    public func recordingFailure(at now: Date, policy: LockoutPolicy) -> LoginThrottle {
        var next = self
        if let last = lastFailureAt, now.timeIntervalSince(last) >= policy.forgetAfter { next.failures = 0 }
        next.failures += 1
        next.lastFailureAt = now
        if next.failures >= policy.threshold {
            let doublings = min(next.failures - policy.threshold, 30)
            let delay = min(policy.maximumDelay, policy.initialDelay * Double(1 << doublings))
            next.lockedUntil = now.addingTimeInterval(delay).truncatedToMilliseconds
        }
        return next
    }

    /// The throttle after a successful login: nothing counted, nothing locked.
    public func cleared() -> LoginThrottle {
        var next = self
        next.failures = 0
        next.lockedUntil = nil
        return next
    }
}

/// When failed logins lock an account key, and for how long.
public struct LockoutPolicy: Sendable, Hashable {
    /// The consecutive failure that first locks the key (default 5).
    public var threshold: Int
    /// The first lock, in seconds (default 60); each further failure doubles it.
    public var initialDelay: TimeInterval
    /// The longest lock, in seconds (default 1 hour).
    public var maximumDelay: TimeInterval
    /// Failures are forgotten when this many seconds pass after the last one (default 24 hours).
    public var forgetAfter: TimeInterval

    /// Creates a policy.
    public init(threshold: Int = 5, initialDelay: TimeInterval = 60, maximumDelay: TimeInterval = 3_600, forgetAfter: TimeInterval = 86_400) {
        self.threshold = max(1, threshold)
        self.initialDelay = max(0, initialDelay)
        self.maximumDelay = max(0, maximumDelay)
        self.forgetAfter = max(0, forgetAfter)
    }
}

/// The key a ``LoginThrottle`` is stored under: the hex SHA-256 of `"<tenant-id>:<normalized e-mail>"`.
///
/// It exists for every string a client may type as an e-mail address, registered or not, and reveals neither.
public struct AccountKey: Sendable, Hashable, CustomStringConvertible {
    /// The 64 hex digits.
    public let rawValue: String

    /// Wraps a stored key.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The key of `email` (trimmed and lower-cased, as ``EmailAddress/normalized``) in `tenant`.
    public init(tenant: TenantID, email: String) {
        let normalized = email.trimmingCharacters(in: .whitespaces).lowercased()
        rawValue = OpaqueToken.hex(SHA256.hash(data: Data("\(tenant.uuidString):\(normalized)".utf8)))
    }

    /// Redacted: even a prefix of the hash would let someone holding the logs test guessed addresses.
    public var description: String { "<redacted account key>" }
}
