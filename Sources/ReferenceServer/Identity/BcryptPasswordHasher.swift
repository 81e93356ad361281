import Crypto
import Foundation
import HTTPTypes
import HummingbirdBcrypt
import NIOCore
public import NIOPosix
public import TradesKit

/// The production ``TradesKit/PasswordHasher``: bcrypt (hummingbird-auth), run on a thread pool so that hashing,
/// which takes a quarter of a second at cost 12 by design, never blocks an event loop.
///
/// By default hashes run on ``hashingPool``, one thread fewer than the machine has cores: a storm of logins then
/// queues for that pool and leaves a core to the event loops, so other routes stay responsive (on one core, one thread).
///
/// bcrypt reads at most 72 bytes and stops at a NUL byte; a longer password, or one with a NUL, is first reduced to
/// the base64 of its SHA-256, so every byte of it counts.
public struct BcryptPasswordHasher: PasswordHasher {
    /// The cost (log2 of the rounds) of new hashes.
    public let cost: Int
    private let threadPool: NIOThreadPool

    /// The process-wide pool of the default hasher: `max(1, cores - 1)` threads, started on first use, never shut down
    /// (like `NIOThreadPool.singleton`).
    public static let hashingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount - 1))
        pool.start()
        return pool
    }()

    /// Creates a hasher; `cost` must be 4…31 (12 by default).
    public init(cost: Int = 12, threadPool: NIOThreadPool = hashingPool) throws {
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

    /// Whether `hash` is not a bcrypt hash of this hasher's cost (`$2b$12$…` has cost 12).
    public func needsRehash(_ hash: String) -> Bool {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, let hashCost = Int(parts[2]) else { return true }
        return hashCost != cost
    }

    static func prepared(_ password: String) -> String {
        guard password.utf8.count > 72 || password.utf8.contains(0) else { return password }
        return Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
