public import Foundation

/// Makes new identifiers. Injected so that tests can make them predictable.
public protocol IDGenerator: Sendable {
    /// A new, unique UUID.
    func next() -> UUID
}

extension IDGenerator {
    /// A new typed identifier.
    public func make<Tag>(_: Tag.Type = Tag.self) -> Identifier<Tag> { Identifier(next()) }
}

/// Time-ordered UUIDs (RFC 9562 version 7): sortable by creation, friendly to B-tree indexes.
///
/// Ids from one generator are strictly increasing even within one millisecond (RFC 9562 §6.2, method 2: the random
/// tail of the previous id plus one), so "oldest first" listings that break timestamp ties by id follow creation order.
public final class UUIDv7Generator: IDGenerator, @unchecked Sendable {
    private let clock: any WallClock
    private let lock = NSLock()
    // Guarded by `lock`.
    private var last: [UInt8] = []

    /// Creates a generator that stamps ids with `clock`'s time.
    public init(clock: any WallClock = SystemClock()) { self.clock = clock }

    public func next() -> UUID {
        let milliseconds = UInt64(max(0, clock.now().millisecondsSince1970))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        var random = SystemRandomNumberGenerator()
        for index in 6..<16 { bytes[index] = UInt8.random(in: 0...255, using: &random) }
        lock.lock()
        if !last.isEmpty, !last[0..<6].lexicographicallyPrecedes(bytes[0..<6]) {
            // Same millisecond (or a clock that stepped back): continue from the previous id.
            bytes = last
            var index = 15
            while index >= 6 {
                bytes[index] &+= 1
                if bytes[index] != 0 { break }
                index -= 1
            }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        last = bytes
        lock.unlock()
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}
