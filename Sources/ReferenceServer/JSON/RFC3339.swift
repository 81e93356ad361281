import Foundation
import HTTPTypes
import TradesKit

/// RFC 3339 timestamps in UTC with milliseconds (`2026-01-05T09:00:00.000Z`), the only form the API writes.
enum RFC3339 {
    /// The timestamp text of `date`, to the nearest millisecond (as storage keeps it, `Date.millisecondsSince1970`).
    ///
    /// Written by hand, not with `Date.ISO8601FormatStyle`, which costs microseconds per timestamp (every answer carries
    /// several) and, worse, truncates the binary fraction: it wrote `.998` for a stored `.999`, and switches to the Julian
    /// calendar before 1582. The test holds this writer to the parser below and to the format style's seconds.
    static func string(_ date: Date) -> String {
        var text = [UInt8]()
        text.reserveCapacity(24)
        write(date, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the timestamp text of `date` (24 bytes) to `text`.
    static func write(_ date: Date, to text: inout [UInt8]) {
        // RFC 3339 has no form beyond years 0…9999: such a date (only a bug makes one) is clamped, never a crash.
        let scaled = (date.timeIntervalSince1970 * 1_000).rounded()
        let milliseconds: Int64 =
            scaled.isNaN || scaled < -62_167_219_200_000 ? -62_167_219_200_000 : scaled > 253_402_300_799_999 ? 253_402_300_799_999 : Int64(scaled)
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, dayMilliseconds) = millisecondOfDay < 0 ? (days - 1, millisecondOfDay + 86_400_000) : (days, millisecondOfDay)
        let (year, month, dayOfMonth) = civil(fromDaysSinceEpoch: Int(day))
        let millisecond = Int(dayMilliseconds)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        append(year, digits: 4)
        text.append(UInt8(ascii: "-"))
        append(month, digits: 2)
        text.append(UInt8(ascii: "-"))
        append(dayOfMonth, digits: 2)
        text.append(UInt8(ascii: "T"))
        append(millisecond / 3_600_000, digits: 2)
        text.append(UInt8(ascii: ":"))
        append(millisecond / 60_000 % 60, digits: 2)
        text.append(UInt8(ascii: ":"))
        append(millisecond / 1_000 % 60, digits: 2)
        text.append(UInt8(ascii: "."))
        append(millisecond % 1_000, digits: 3)
        text.append(UInt8(ascii: "Z"))
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civil(fromDaysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

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
