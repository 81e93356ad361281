import Foundation
import HTTPTypes
import TradesKit

/// RFC 3339 timestamps in UTC with milliseconds (`2026-01-05T09:00:00.000Z`), the only form the API writes.
enum RFC3339 {
    private static let writer = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// The timestamp text of `date`.
    static func string(_ date: Date) -> String { writer.format(date) }

    /// Parses an RFC 3339 `date-time` (section 5.6): `Z` or any numeric offset up to ±23:59, any number of fractional
    /// digits (kept to the millisecond), `T`/`Z` in either case, a leap second as the second after :59.
    ///
    /// Foundation's ISO 8601 parser refuses some valid forms (offsets beyond ±18:00), and the document promises the
    /// RFC's grammar, so the grammar is parsed here; dates are proleptic Gregorian, as RFC 3339 says.
    static func date(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + digits] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2), expect("Tt"),
            let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month, of: year)).contains(day), hour <= 23, minute <= 59, second <= 60 else { return nil }
        var milliseconds = 0
        if expect(".") {
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) {
                if index - start < 3 { milliseconds = milliseconds * 10 + Int(bytes[index] - 48) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in 0..<max(0, 3 - (index - start)) { milliseconds *= 10 }
        }
        var offsetSeconds = 0
        if !expect("Zz") {
            guard index < bytes.count else { return nil }
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let offsetHour = number(2), expect(":"), let offsetMinute = number(2), offsetHour <= 23, offsetMinute <= 59 else {
                return nil
            }
            offsetSeconds = sign * (offsetHour * 3_600 + offsetMinute * 60)
        }
        guard index == bytes.count else { return nil }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds
        return Date(millisecondsSince1970: Int64(seconds) * 1_000 + Int64(milliseconds))
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
