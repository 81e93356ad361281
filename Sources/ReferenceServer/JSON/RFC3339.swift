import Foundation
import HTTPTypes
import TradesKit

/// RFC 3339 timestamps in UTC with milliseconds (`2026-01-05T09:00:00.000Z`), the only form the API writes.
enum RFC3339 {
    private static let writer = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let readers = [
        Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt),
        Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt),
    ]

    /// The timestamp text of `date`.
    static func string(_ date: Date) -> String { writer.format(date) }

    /// Parses an RFC 3339 timestamp with a `Z` or numeric offset, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        guard text.count <= 40 else { return nil }
        for reader in readers {
            if let date = try? reader.parse(text) { return date.truncatedToMilliseconds }
        }
        return nil
    }
}
