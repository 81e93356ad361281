import Crypto
import Foundation
import HTTPTypes
import TradesKit

/// Authenticates the platform operator by a configured bearer secret, compared in constant time.
struct OperatorAuthenticator: Sendable {
    /// SHA-256 of the secret: comparing fixed-length digests leaks neither the secret's content nor its length.
    private let digest: [UInt8]?

    init(secret: String?) {
        digest = secret.map { Array(SHA256.hash(data: Data($0.utf8))) }
    }

    /// The operator identity when `presented` is the secret; `nil` otherwise or when no secret is configured.
    func authenticate(_ presented: String) -> PlatformOperator? {
        guard let digest else { return nil }
        let candidate = Array(SHA256.hash(data: Data(presented.utf8)))
        var difference: UInt8 = 0
        for (left, right) in zip(digest, candidate) { difference |= left ^ right }
        return difference == 0 ? PlatformOperator(label: "http-operator") : nil
    }
}
