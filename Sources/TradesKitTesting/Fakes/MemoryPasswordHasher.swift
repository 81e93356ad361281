public import TradesKit

/// A fast, deterministic ``PasswordHasher`` for tests. NOT for production: its digest (FNV-1a) is not a password hash.
///
/// Hashes look like `memory$<salt>$<hex digest>` (`memory<generation>$…` past generation 1); the salt is a counter, so
/// equal passwords still hash differently. Hashes of every generation verify; those of another generation need a
/// rehash, as a bcrypt hash of an older cost does.
public final class MemoryPasswordHasher: PasswordHasher, Sendable {
    private struct State: Sendable {
        var salts = 0
        var hashCalls = 0
        var verifyCalls = 0
        var failures = FailureQueue()
    }

    private let state = Locked(State())
    private let scheme: String

    /// Creates a hasher whose new hashes are of `generation` (1 by default).
    public init(generation: Int = 1) {
        scheme = generation == 1 ? "memory" : "memory\(generation)"
    }

    /// How many times ``hash(_:)`` was called.
    public var hashCalls: Int { state.current.hashCalls }

    /// How many times ``verify(_:against:)`` was called.
    public var verifyCalls: Int { state.current.verifyCalls }

    /// Makes the next call (after any already scripted) throw `error`.
    public func failNext(with error: any Error) { state.withLock { $0.failures.add(error) } }

    /// A salted, non-cryptographic digest of `password`.
    public func hash(_ password: String) async throws -> String {
        let salt = try state.withLock { state in
            state.hashCalls += 1
            if let error = state.failures.next() { throw error }
            state.salts += 1
            return "s\(state.salts)"
        }
        return "\(scheme)$\(salt)$\(Self.digest(salt + ":" + password))"
    }

    /// Whether `hash` is of another generation.
    public func needsRehash(_ hash: String) -> Bool { !hash.hasPrefix(scheme + "$") }

    /// Whether `password` produced `hash`; `false` for anything not made by this hasher.
    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try state.withLock { state in
            state.verifyCalls += 1
            if let error = state.failures.next() { throw error }
        }
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("memory") else { return false }
        return Self.digest(parts[1] + ":" + password) == parts[2]
    }

    private static func digest(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
