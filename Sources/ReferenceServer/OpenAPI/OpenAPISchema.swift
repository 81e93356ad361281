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

    /// A list page of `item`.
    static func list(of item: String) -> JSONValue {
        record([("items", array(ref(item))), ("nextCursor", nullable(string()))])
    }
}
