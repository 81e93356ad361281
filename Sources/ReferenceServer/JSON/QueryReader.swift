import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import TradesKit

/// Reads query parameters into typed values, collecting every problem; unknown parameters are ignored.
final class QueryReader {
    private let parameters: [String: [String]]
    private var errors: [FieldError] = []

    init(_ uri: URI) {
        var parameters: [String: [String]] = [:]
        for (key, value) in uri.queryParameters { parameters[String(key), default: []].append(String(value)) }
        self.parameters = parameters
    }

    /// Records a problem that a route's own check of a parameter found, reported with the others by ``finish()``.
    func fail(_ name: String, _ code: String, _ message: String) {
        errors.append(FieldError(field: name, code: code, message: message))
    }

    /// Throws `validation_failed` listing every bad parameter.
    func finish() throws {
        if !errors.isEmpty { throw TradesKitError(.validationFailed, "The query is not valid", fieldErrors: errors) }
    }

    /// A string parameter (the last one when repeated).
    func string(_ name: String, maxLength: Int = 200) -> String? {
        guard let value = parameters[name]?.last else { return nil }
        guard value.count <= maxLength else {
            fail(name, "too_long", "must be at most \(maxLength) characters")
            return nil
        }
        return value
    }

    /// An integer parameter within `range`.
    func int(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let raw = string(name, maxLength: 20) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            fail(name, "out_of_range", "must be an integer between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return value
    }

    /// A finite number parameter.
    func double(_ name: String) -> Double? {
        guard let raw = string(name, maxLength: 40) else { return nil }
        guard let value = Double(raw), value.isFinite else {
            fail(name, "invalid_format", "must be a number")
            return nil
        }
        return value
    }

    /// A finite number parameter within `range`.
    func double(_ name: String, in range: ClosedRange<Double>) -> Double? {
        guard let value = double(name) else { return nil }
        guard range.contains(value) else {
            fail(name, "out_of_range", "must be between " + String(format: "%g", range.lowerBound) + " and " + String(format: "%g", range.upperBound))
            return nil
        }
        return value
    }

    /// A boolean parameter (`true` or `false`).
    func bool(_ name: String) -> Bool? {
        guard let raw = string(name, maxLength: 5) else { return nil }
        switch raw {
        case "true": return true
        case "false": return false
        default:
            fail(name, "invalid_format", "must be true or false")
            return nil
        }
    }

    /// A UUID parameter.
    func id<Tag>(_ name: String) -> Identifier<Tag>? {
        guard let raw = string(name, maxLength: 36) else { return nil }
        guard let id = Identifier<Tag>(uuidString: raw) else {
            fail(name, "invalid_format", "must be a UUID")
            return nil
        }
        return id
    }

    /// Cases of `T`, comma-separated and/or repeated.
    func enumerations<T: RawRepresentable & CaseIterable & Hashable>(_ name: String, as type: T.Type) -> Set<T>? where T.RawValue == String {
        guard let values = parameters[name] else { return nil }
        var result = Set<T>()
        for raw in values.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            guard let value = T(rawValue: String(raw)) else {
                fail(name, "invalid_value", "must be among: " + T.allCases.map(\.rawValue).joined(separator: ", "))
                return nil
            }
            result.insert(value)
        }
        return result
    }

    /// A page request from `cursor` and `limit` (1…100, default `defaultLimit`); with `seal`, the cursor is one it sealed.
    func page(defaultLimit: Int = 50, sealedWith seal: CursorSeal? = nil) -> PageRequest {
        let limit = int("limit", in: 1...100) ?? defaultLimit
        return PageRequest(cursor: cursor(sealedWith: seal), limit: limit)
    }

    /// The `cursor` parameter.
    func cursor(sealedWith seal: CursorSeal? = nil) -> PageCursor? {
        guard let text = string("cursor", maxLength: 120) else { return nil }
        // A sealed list takes its own cursors only, never a plain one.
        let cursor = if let seal { seal.open(text) } else { APICursor.parse(text) }
        guard let cursor else {
            fail("cursor", "invalid_format", "is not a cursor from this API")
            return nil
        }
        return cursor
    }
}
