public import Foundation

/// The source of "now" for every rule that depends on time (windows, expiries, deadlines).
///
/// Core never calls `Date()` itself: tests drive time with `ManualClock` from TradesKitTesting.
public protocol WallClock: Sendable {
    /// The current instant. Implementations should return whole milliseconds (see ``Foundation/Date/truncatedToMilliseconds``).
    func now() -> Date
}

/// The system's real-time clock, truncated to milliseconds so values round-trip through storage exactly.
public struct SystemClock: WallClock {
    /// Creates the system clock.
    public init() {}
    public func now() -> Date { Date().truncatedToMilliseconds }
}

extension Date {
    /// Creates a date from whole milliseconds since 1970, the unit every storage uses.
    public init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// Whole milliseconds since 1970 (rounded to the nearest millisecond), clamped to what `Int64` holds: callers'
    /// dates are validated long before (``Validator/date(_:field:)``), and an instant out of range must not crash.
    public var millisecondsSince1970: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite else { return milliseconds > 0 ? .max : .min }
        return Int64(exactly: milliseconds) ?? (milliseconds > 0 ? .max : .min)
    }

    /// The same instant with sub-millisecond precision dropped.
    public var truncatedToMilliseconds: Date {
        let milliseconds = timeIntervalSince1970 * 1000
        let nearest = milliseconds.rounded()
        // A date made from whole milliseconds can land a hair below them in binary floating point: keep it whole.
        let whole = abs(milliseconds - nearest) < 1e-3 ? nearest : milliseconds.rounded(.down)
        return Date(millisecondsSince1970: Int64(whole))
    }
}
