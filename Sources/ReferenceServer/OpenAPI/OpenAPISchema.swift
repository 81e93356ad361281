import Foundation
import HTTPTypes

/// Small builders for the JSON schemas of the OpenAPI document.
enum OpenAPISchema {
    static let uuid: JSONValue = ["type": "string", "format": "uuid"]
    static let dateTime: JSONValue = ["type": "string", "format": "date-time"]
    static let integer: JSONValue = ["type": "integer", "format": "int64"]
    static let boolean: JSONValue = ["type": "boolean"]
    static let number: JSONValue = ["type": "number"]

    /// A string, optionally bounded.
    static func string(max: Int? = nil, min: Int? = nil, pattern: String? = nil, format: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "string"]
        if let max { schema["maxLength"] = .integer(Int64(max)) }
        if let min { schema["minLength"] = .integer(Int64(min)) }
        if let pattern { schema["pattern"] = .string(pattern) }
        if let format { schema["format"] = .string(format) }
        return .object(schema)
    }

    /// Characters core refuses in text: control characters other than tab, line feed and carriage return.
    private static let allowed = #"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]"#
    /// A character that is neither white space nor a control character.
    private static let visible = #"[^\s\x00-\x1F\x7F-\x9F]"#

    /// Text as core's validator takes it: no control characters but tab and newlines, at most `max` characters as
    /// given, and at least `min` once the white space around it is trimmed: from the first character that is not
    /// white space to the last, `min` characters or more.
    static func text(min: Int = 1, max: Int) -> JSONValue {
        let pattern =
            switch min {
            case ...0: "^\(allowed)*$"
            case 1: "^\(allowed)*\(visible)\(allowed)*$"
            default: "^\(allowed)*\(visible)\(allowed){\(min - 2),}\(visible)\(allowed)*$"
            }
        return string(max: max, min: min > 0 ? min : nil, pattern: pattern)
    }

    /// An e-mail address as core's `EmailAddress` takes it.
    static var email: JSONValue {
        let local = #"[\x21-\x2B\x2D-\x3A\x3D\x3F\x41-\x7E]"#
        let label = #"[\x21-\x2B\x2D\x2F-\x3A\x3D\x3F\x41-\x7E]+"#
        return string(max: 254, pattern: "^\(local){1,64}@\(label)(\\.\(label))+$")
    }

    /// A phone number in E.164.
    static let phone = string(pattern: #"^\+[1-9][0-9]{7,14}$"#)

    /// A password: 10–128 characters.
    static let password = string(max: 128, min: 10)

    /// A number within a range.
    static func number(_ minimum: Double, _ maximum: Double) -> JSONValue {
        ["type": "number", "minimum": .number(minimum), "maximum": .number(maximum)]
    }

    /// An integer within a range.
    static func integer(_ minimum: Int64, _ maximum: Int64) -> JSONValue {
        ["type": "integer", "format": "int64", "minimum": .integer(minimum), "maximum": .integer(maximum)]
    }

    /// A string naming one of `cases`.
    static func enumeration(_ cases: [String]) -> JSONValue { ["type": "string", "enum": .array(cases.map { .string($0) })] }

    /// A reference to a component schema.
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    /// An array of `items`.
    static func array(_ items: JSONValue, max: Int? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "array", "items": items]
        if let max { schema["maxItems"] = .integer(Int64(max)) }
        return .object(schema)
    }

    /// `schema` or `null`.
    static func nullable(_ schema: JSONValue) -> JSONValue { ["anyOf": [schema, ["type": "null"]]] }

    /// A closed object: only these properties, `required` among them.
    static func object(_ properties: [(String, JSONValue)], required: [String], description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = [
            "type": "object",
            "properties": .object(Dictionary(properties, uniquingKeysWith: { first, _ in first })),
            "additionalProperties": false,
        ]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// An object whose properties are all required.
    static func record(_ properties: [(String, JSONValue)], description: String? = nil) -> JSONValue {
        object(properties, required: properties.map(\.0), description: description)
    }

    /// A list page of `item`; with `sealed`, its cursors are opaque (``CursorSeal``).
    static func list(of item: String, sealed: Bool = false) -> JSONValue {
        record([("items", array(ref(item))), ("nextCursor", nullable(string(pattern: sealed ? CursorSeal.pattern : APICursor.pattern)))])
    }
}
