public import Foundation
public import TradesKit

/// Deterministic, increasing UUIDs for tests: `PPPPPPPP-0000-7000-8000-000000000001`, `…0002`, … where `P` is the prefix.
///
/// Each id sorts after the previous one, both byte-wise and as a lowercase string, so orderings that break ties by id
/// are predictable.
public final class SequentialIDGenerator: IDGenerator, Sendable {
    private let prefix: UInt32
    private let counter: Locked<UInt64>

    /// Creates a generator; the first id ends in `start`. A distinct `prefix` keeps runs sharing one database apart.
    public init(prefix: UInt32 = 0, start: UInt64 = 1) {
        self.prefix = prefix
        self.counter = Locked(start)
    }

    /// The next id.
    public func next() -> UUID {
        let value = counter.withLock { counter in
            defer { counter += 1 }
            return counter
        }
        let p = prefix
        // 48 bits of counter in the last group; bytes 6 and 8 carry the version (7) and variant bits.
        return UUID(
            uuid: (
                UInt8(truncatingIfNeeded: p >> 24), UInt8(truncatingIfNeeded: p >> 16), UInt8(truncatingIfNeeded: p >> 8),
                UInt8(truncatingIfNeeded: p),
                0, 0, 0x70, 0, 0x80, 0,
                UInt8(truncatingIfNeeded: value >> 40), UInt8(truncatingIfNeeded: value >> 32), UInt8(truncatingIfNeeded: value >> 24),
                UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)
            ))
    }
}
