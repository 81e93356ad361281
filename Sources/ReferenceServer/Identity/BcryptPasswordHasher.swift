import Crypto
import Foundation
import HTTPTypes
import HummingbirdBcrypt
public import NIOPosix
public import TradesKit

/// The production ``TradesKit/PasswordHasher``: bcrypt (hummingbird-auth), run on a thread pool so that hashing,
/// which takes a quarter of a second at cost 12 by design, never blocks an event loop.
///
/// bcrypt reads at most 72 bytes and stops at a NUL byte; a longer password, or one with a NUL, is first reduced to
/// the base64 of its SHA-256, so every byte of it counts.
public struct BcryptPasswordHasher: PasswordHasher {
    /// The cost (log2 of the rounds) of new hashes.
    public let cost: Int
    private let threadPool: NIOThreadPool

    /// Creates a hasher; `cost` must be 4…31 (12 by default).
    public init(cost: Int = 12, threadPool: NIOThreadPool = .singleton) throws {
        guard (4...31).contains(cost) else { throw TradesKitError(.validationFailed, "The bcrypt cost must be between 4 and 31") }
        self.cost = cost
        self.threadPool = threadPool
    }

    public func hash(_ password: String) async throws -> String {
        let input = Self.prepared(password)
        let cost = UInt8(cost)
        return try await threadPool.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        // Only bcrypt hashes: anything else (a fake's hash, an empty string) never matches.
        guard hash.hasPrefix("$2"), hash.utf8.count == 60 else { return false }
        let input = Self.prepared(password)
        return try await threadPool.runIfActive { Bcrypt.verify(input, hash: hash) }
    }

    static func prepared(_ password: String) -> String {
        guard password.utf8.count > 72 || password.utf8.contains(0) else { return password }
        return Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
