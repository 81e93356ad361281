import Crypto
import Foundation
import HTTPTypes
import TradesKit

/// A configured bearer secret, compared in constant time.
struct BearerSecret: Sendable {
    /// SHA-256 of the secret: comparing fixed-length digests leaks neither the secret's content nor its length.
    private let digest: [UInt8]?

    init(_ secret: String?) {
        digest = secret.map { Array(SHA256.hash(data: Data($0.utf8))) }
    }

    /// Whether a secret is configured at all.
    var isConfigured: Bool { digest != nil }

    /// Whether `presented` is the secret; `false` when none is configured.
    func matches(_ presented: String) -> Bool {
        guard let digest else { return false }
        let candidate = Array(SHA256.hash(data: Data(presented.utf8)))
        var difference: UInt8 = 0
        for (left, right) in zip(digest, candidate) { difference |= left ^ right }
        return difference == 0
    }
}

/// Authenticates the platform operator by a configured bearer secret.
struct OperatorAuthenticator: Sendable {
    private let secret: BearerSecret

    init(secret: String?) {
        self.secret = BearerSecret(secret)
    }

    /// The operator identity when `presented` is the secret; `nil` otherwise or when no secret is configured.
    func authenticate(_ presented: String) -> PlatformOperator? {
        secret.matches(presented) ? PlatformOperator(label: "http-operator") : nil
    }
}
