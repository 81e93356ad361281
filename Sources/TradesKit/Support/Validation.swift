public import Foundation

/// Collects every field error of an input before failing, so a client learns all of them at once.
public struct Validator: Sendable {
    /// The errors found so far.
    public private(set) var errors: [FieldError] = []

    /// Creates an empty validator.
    public init() {}

    /// Records an error.
    public mutating func fail(_ field: String, _ code: String, _ message: String) {
        errors.append(FieldError(field: field, code: code, message: message))
    }

    /// Checks a text: at least `min` characters once trimmed, at most `max` as given (both in Unicode scalars), no control
    /// characters but tabs and newlines. Answers the trimmed text.
    @discardableResult
    public mutating func text(_ value: String, field: String, min: Int = 1, max: Int) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        // Lengths count Unicode scalars, as JSON Schema's minLength and maxLength do (so an API's schema can state these
        // rules exactly): the minimum counts what is left once the surrounding white space is trimmed, the maximum the
        // text as given.
        if trimmed.unicodeScalars.count < min {
            fail(
                field, trimmed.isEmpty ? "required" : "too_short",
                trimmed.isEmpty ? "must not be empty" : "must be at least \(min) characters")
        } else if value.unicodeScalars.count > max {
            fail(field, "too_long", "must be at most \(max) characters")
        } else if trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" && $0 != "\r" }) {
            fail(field, "invalid_characters", "must not contain control characters")
        }
        return trimmed
    }

    /// Checks a new password: 10–128 characters. Only its hash is ever stored.
    public mutating func password(_ value: String, field: String = "password") {
        if !(10...128).contains(value.unicodeScalars.count) { fail(field, "out_of_range", "must be between 10 and 128 characters") }
    }

    /// Checks that `value` lies in `range`.
    public mutating func range<T: Comparable>(_ value: T, _ range: ClosedRange<T>, field: String) {
        if !range.contains(value) { fail(field, "out_of_range", "must be between \(range.lowerBound) and \(range.upperBound)") }
    }

    /// Checks a coordinate pair.
    public mutating func point(_ point: GeoPoint, field: String) {
        if !point.latitude.isFinite || !(-90.0...90.0).contains(point.latitude) {
            fail("\(field).latitude", "out_of_range", "must be between -90 and 90")
        }
        if !point.longitude.isFinite || !(-180.0...180.0).contains(point.longitude) {
            fail("\(field).longitude", "out_of_range", "must be between -180 and 180")
        }
    }

    /// Checks a calendar date a caller supplies (an expiry, say): within the years 0000 to 9999, the range of RFC 3339
    /// (so of the HTTP API), which every storage holds as milliseconds.
    public mutating func date(_ date: Date, field: String) {
        let seconds = date.timeIntervalSince1970
        if !seconds.isFinite || !(Self.earliestDate...Self.latestDate).contains(seconds) {
            fail(field, "out_of_range", "must be within the years 0000 to 9999")
        }
    }

    /// 0000-01-01T00:00:00Z, in seconds since 1970.
    static let earliestDate: TimeInterval = -62_167_219_200
    /// 9999-12-31T23:59:59.999Z, in seconds since 1970.
    static let latestDate: TimeInterval = 253_402_300_799.999

    /// Checks an amount: positive, at most ``Money/maximumPrice``, and in the expected currency.
    public mutating func positiveAmount(_ money: Money, currency: Currency, field: String) {
        if money.currency != currency {
            fail("\(field).currency", "wrong_currency", "must be \(currency.code)")
        }
        if money.amount <= 0 { fail("\(field).amount", "must_be_positive", "must be greater than zero") }
        if money.amount > Money.maximumPrice { fail("\(field).amount", "too_large", "must be at most \(Money.maximumPrice)") }
    }

    /// Throws ``TradesKitError/Code/validationFailed`` listing every error, if there is any.
    public func check() throws(TradesKitError) {
        if !errors.isEmpty { throw TradesKitError.validation(errors) }
    }
}
