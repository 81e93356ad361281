import Foundation
import HTTPTypes
import TradesKit

/// Reads a JSON object into typed values, collecting every problem instead of stopping at the first, and refusing
/// members the endpoint does not accept (so a client cannot set tenant, role, status, owner or amount by adding a field).
///
/// ```swift
/// let body = try BodyReader(json)
/// let title = body.string("title")
/// let budget = body.object("budget") { BudgetRange(min: $0.money("min"), max: $0.money("max")) }
/// try body.finish()                // throws validation_failed listing every bad or unknown field
/// ```
final class BodyReader {
    /// Whether a member was absent, explicitly `null`, or set: PATCH bodies need all three.
    enum Presence<Value> {
        case absent
        case null
        case value(Value)

        /// The value when set.
        var value: Value? {
            if case .value(let value) = self { return value }
            return nil
        }
    }

    private final class Collector {
        var errors: [FieldError] = []
    }

    private let members: [String: JSONValue]
    private let path: String
    private let collector: Collector
    private var read: Set<String> = []

    /// A reader over a request body, which must be a JSON object.
    init(_ value: JSONValue) throws {
        guard case .object(let members) = value else {
            throw TradesKitError(
                .validationFailed, "The input is not valid",
                fieldErrors: [FieldError(field: "body", code: "invalid_type", message: "must be a JSON object")])
        }
        self.members = members
        self.path = ""
        self.collector = Collector()
    }

    private init(members: [String: JSONValue], path: String, collector: Collector) {
        self.members = members
        self.path = path
        self.collector = collector
    }

    /// The dotted name of a member, as reported in field errors.
    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Records a problem with a member.
    func fail(_ key: String, _ code: String, _ message: String) {
        collector.errors.append(FieldError(field: name(key), code: code, message: message))
    }

    /// Throws `validation_failed` listing every problem found so far and every member that was never read.
    func finish() throws {
        checkUnknown()
        if !collector.errors.isEmpty {
            throw TradesKitError(.validationFailed, "The input is not valid", fieldErrors: collector.errors)
        }
    }

    private func checkUnknown() {
        for key in members.keys.sorted() where !read.contains(key) {
            fail(key, "unknown_field", "is not accepted here")
        }
    }

    private func raw(_ key: String) -> JSONValue? {
        read.insert(key)
        return members[key]
    }

    private func presence<T>(_ key: String, _ convert: (JSONValue) -> T?) -> Presence<T> {
        guard let value = raw(key) else { return .absent }
        if case .null = value { return .null }
        guard let converted = convert(value) else { return .absent }
        return .value(converted)
    }

    private func required<T>(_ key: String, _ presence: Presence<T>) -> T? {
        switch presence {
        case .value(let value): return value
        case .null, .absent:
            // A member of the wrong type, or with bad members of its own, has already been reported.
            if !hasError(key) { fail(key, "required", "is required") }
            return nil
        }
    }

    // MARK: Strings

    /// A member that may be absent, `null` or a string of at most `maxLength` Unicode scalars (JSON Schema's
    /// `maxLength` counts code points; characters would let a short string of combining marks be megabytes long).
    func optionalString(_ key: String, maxLength: Int = 10_000) -> Presence<String> {
        presence(key) { value in
            guard case .string(let text) = value else {
                fail(key, "invalid_type", "must be a string")
                return nil
            }
            guard text.unicodeScalars.count <= maxLength else {
                fail(key, "too_long", "must be at most \(maxLength) characters")
                return nil
            }
            return text
        }
    }

    /// A required string.
    func string(_ key: String, maxLength: Int = 10_000) -> String? { required(key, optionalString(key, maxLength: maxLength)) }

    /// A required opaque token (a refresh token, or the token of an e-mailed link): 1–256 base64url characters.
    func token(_ key: String) -> String? {
        guard let text = string(key, maxLength: 256) else { return nil }
        guard OpaqueToken.isWellFormed(text) else {
            fail(key, "invalid_format", "must be a token as the server issued it")
            return nil
        }
        return text
    }

    /// A one-time code of `digits` ASCII digits, absent or set (`null` is refused).
    func optionalCode(_ key: String, digits: Int) -> Presence<String> {
        switch optionalString(key, maxLength: digits) {
        case .value(let text):
            guard text.count == digits, text.utf8.allSatisfy({ (48...57).contains($0) }) else {
                fail(key, "invalid_format", "must be \(digits) digits")
                return .absent
            }
            return .value(text)
        case .null:
            fail(key, "invalid_type", "must be a string")
            return .absent
        case .absent:
            return .absent
        }
    }

    /// A required one-time code of `digits` ASCII digits.
    func code(_ key: String, digits: Int) -> String? { required(key, optionalCode(key, digits: digits)) }

    /// A required string, or `default` when absent.
    func string(_ key: String, default fallback: String, maxLength: Int = 10_000) -> String? {
        switch optionalString(key, maxLength: maxLength) {
        case .value(let text): return text
        case .absent where !hasError(key): return fallback
        case .null:
            fail(key, "invalid_type", "must be a string")
            return nil
        case .absent: return nil
        }
    }

    /// A required member whose string names a case of `T`.
    func enumeration<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type, among allowed: [T]? = nil) -> T?
    where T.RawValue == String {
        required(key, optionalEnumeration(key, as: type, among: allowed))
    }

    /// An optional member whose string names a case of `T`, one of `allowed` when given (all cases otherwise).
    func optionalEnumeration<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type, among allowed: [T]? = nil) -> Presence<T>
    where T.RawValue == String {
        presence(key) { value in
            let cases = allowed ?? Array(T.allCases)
            guard case .string(let text) = value, let parsed = cases.first(where: { $0.rawValue == text }) else {
                fail(key, "invalid_value", "must be one of: " + cases.map(\.rawValue).joined(separator: ", "))
                return nil
            }
            return parsed
        }
    }

    /// A required UUID string.
    func id<Tag>(_ key: String, as type: Identifier<Tag>.Type = Identifier<Tag>.self) -> Identifier<Tag>? {
        required(key, presence(key) { value in parseID(value, key) })
    }

    private func parseID<Tag>(_ value: JSONValue, _ key: String) -> Identifier<Tag>? {
        guard case .string(let text) = value, let id = Identifier<Tag>(uuidString: text) else {
            fail(key, "invalid_format", "must be a UUID")
            return nil
        }
        return id
    }

    /// An optional RFC 3339 timestamp.
    func optionalDate(_ key: String) -> Presence<Date> {
        presence(key) { value in
            guard case .string(let text) = value, let date = RFC3339.date(text) else {
                fail(key, "invalid_format", "must be an RFC 3339 timestamp")
                return nil
            }
            return date
        }
    }

    /// A required RFC 3339 timestamp.
    func date(_ key: String) -> Date? { required(key, optionalDate(key)) }

    // MARK: Numbers and booleans

    /// An optional integer.
    func optionalInteger(_ key: String) -> Presence<Int64> {
        presence(key) { value in
            guard case .integer(let number) = value else {
                fail(key, "invalid_type", "must be an integer")
                return nil
            }
            return number
        }
    }

    /// A required integer.
    func integer(_ key: String) -> Int64? { required(key, optionalInteger(key)) }

    /// An optional version a decision was made on (`expectedVersion` by default): that of the record as read, 1 or more.
    func expectedVersion(_ field: String = "expectedVersion") -> Int64? {
        switch optionalInteger(field) {
        case .absent:
            return nil
        case .null:
            fail(field, "invalid_type", "must be an integer")
            return nil
        case .value(let version):
            guard version >= 1 else {
                fail(field, "out_of_range", "must be 1 or more")
                return nil
            }
            return version
        }
    }

    /// A required integer that fits `Int`.
    func int(_ key: String) -> Int? {
        guard let value = integer(key) else { return nil }
        guard let int = Int(exactly: value) else {
            fail(key, "out_of_range", "is too large")
            return nil
        }
        return int
    }

    /// An optional integer that fits `Int`, or `default` when absent.
    func int(_ key: String, default fallback: Int) -> Int? {
        switch optionalInteger(key) {
        case .absent where !hasError(key): return fallback
        case .value(let value):
            guard let int = Int(exactly: value) else {
                fail(key, "out_of_range", "is too large")
                return nil
            }
            return int
        case .null:
            fail(key, "invalid_type", "must be an integer")
            return nil
        case .absent: return nil
        }
    }

    /// A required finite number.
    func double(_ key: String) -> Double? {
        required(
            key,
            presence(key) { value in
                switch value {
                case .integer(let number): return Double(number)
                case .number(let number) where number.isFinite: return number
                default:
                    fail(key, "invalid_type", "must be a number")
                    return nil
                }
            })
    }

    /// An optional boolean: `nil` when absent (or invalid, reported); `null` is not a boolean.
    func optionalBool(_ key: String) -> Bool? {
        bool(key, default: nil)
    }

    /// An optional boolean, or `default` when absent.
    func bool(_ key: String, default fallback: Bool?) -> Bool? {
        switch presence(
            key,
            { value -> Bool? in
                guard case .bool(let flag) = value else {
                    fail(key, "invalid_type", "must be a boolean")
                    return nil
                }
                return flag
            })
        {
        case .value(let flag): return flag
        case .absent where !hasError(key): return fallback
        case .null:
            fail(key, "invalid_type", "must be a boolean")
            return nil
        case .absent: return nil
        }
    }

    private func hasError(_ key: String) -> Bool {
        let field = name(key)
        return collector.errors.contains { $0.field == field || $0.field.hasPrefix(field + ".") || $0.field.hasPrefix(field + "[") }
    }

    // MARK: Nested values

    /// A nested object read by `body`; `nil` when absent (reported as required), not an object, or invalid inside.
    func object<T>(_ key: String, _ body: (BodyReader) -> T?) -> T? {
        required(key, optionalObject(key, body))
    }

    /// A nested object that may be absent or `null`.
    func optionalObject<T>(_ key: String, _ body: (BodyReader) -> T?) -> Presence<T> {
        guard let value = raw(key) else { return .absent }
        if case .null = value { return .null }
        guard case .object(let members) = value else {
            fail(key, "invalid_type", "must be an object")
            return .absent
        }
        let nested = BodyReader(members: members, path: name(key), collector: collector)
        let before = collector.errors.count
        let result = body(nested)
        nested.checkUnknown()
        guard collector.errors.count == before, let result else { return .absent }
        return .value(result)
    }

    /// A required array whose elements are read by `element` (given the element and its field name).
    func array<T>(_ key: String, maxCount: Int = 100, _ element: (JSONValue, String) -> T?) -> [T]? {
        required(
            key,
            presence(key) { value -> [T]? in
                guard case .array(let items) = value else {
                    fail(key, "invalid_type", "must be an array")
                    return nil
                }
                guard items.count <= maxCount else {
                    fail(key, "too_many", "must have at most \(maxCount) elements")
                    return nil
                }
                // Every element is read, so each bad one is reported.
                var results: [T] = []
                var valid = true
                for (index, item) in items.enumerated() {
                    if let converted = element(item, "\(key)[\(index)]") { results.append(converted) } else { valid = false }
                }
                return valid ? results : nil
            })
    }

    /// A UUID element of an array.
    func idElement<Tag>(_ value: JSONValue, _ field: String) -> Identifier<Tag>? { parseID(value, field) }

    /// A money object `{"amount": <minor units>, "currency": "USD"}`.
    func money(_ key: String) -> Money? {
        object(key) { money in
            let amount = money.integer("amount")
            let code = money.string("currency", maxLength: 3)
            var currency: Currency?
            if let code {
                currency = Currency(code: code)
                if currency == nil { money.fail("currency", "invalid_value", "must be a supported ISO 4217 currency code") }
            }
            guard let amount, let currency else { return nil }
            return Money(amount, currency)
        }
    }

    /// A point `{"latitude": …, "longitude": …}`.
    func point(_ key: String) -> GeoPoint? {
        object(key) { point in
            let latitude = point.double("latitude")
            let longitude = point.double("longitude")
            guard let latitude, let longitude else { return nil }
            return GeoPoint(latitude: latitude, longitude: longitude)
        }
    }
}
