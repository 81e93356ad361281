public import Foundation
public import TradesKit

/// A clock that only moves when a test moves it. Always answers whole milliseconds, like every storage keeps them.
public final class ManualClock: WallClock, Sendable {
    /// The default start: Monday 2026-01-05 09:00:00 UTC.
    public static let defaultStart = Date(timeIntervalSince1970: 1_767_603_600)

    private let state: Locked<Date>

    /// Creates a clock standing at `now` (truncated to milliseconds).
    public init(now: Date = ManualClock.defaultStart) {
        state = Locked(now.truncatedToMilliseconds)
    }

    /// The current instant.
    public func now() -> Date { state.current }

    /// Moves the clock forward (or back, for a negative value) by `seconds`.
    public func advance(by seconds: TimeInterval) {
        state.withLock { $0 = $0.addingTimeInterval(seconds).truncatedToMilliseconds }
    }

    /// Sets the clock to `date` (truncated to milliseconds).
    public func set(_ date: Date) {
        state.withLock { $0 = date.truncatedToMilliseconds }
    }
}
