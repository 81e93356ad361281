import Foundation
import ReferenceServer

/// Checks JSON values against the subset of JSON Schema the OpenAPI document uses, so that every response a test
/// sees is also checked against the document.
struct SchemaValidator {
    let components: [String: JSONValue]

    init(document: JSONValue) {
        if case .object(let schemas) = document["components"]?["schemas"] ?? .null { components = schemas } else { components = [:] }
    }

    /// Problems with `value` against `schema`, each with a JSON path.
    func problems(_ value: JSONValue, _ schema: JSONValue, path: String = "$") -> [String] {
        guard case .object(let rules) = schema else { return [] }
        if let reference = rules["$ref"]?.stringValue {
            let name = String(reference.split(separator: "/").last ?? "")
            guard let target = components[name] else { return ["\(path): unresolved \(reference)"] }
            return problems(value, target, path: path)
        }
        if case .array(let options) = rules["anyOf"] ?? .null {
            return options.contains { problems(value, $0, path: path).isEmpty } ? [] : ["\(path): matches no anyOf option"]
        }
        var found: [String] = []
        if let type = rules["type"]?.stringValue, !Self.matches(value, type: type) {
            return ["\(path): \(value) is not \(type)"]
        }
        if case .array(let cases) = rules["enum"] ?? .null, !cases.contains(value) { found.append("\(path): \(value) not in enum") }
        if let format = rules["format"]?.stringValue, let text = value.stringValue {
            if format == "uuid", UUID(uuidString: text) == nil { found.append("\(path): not a uuid") }
            if format == "date-time", (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) == nil {
                found.append("\(path): not an RFC 3339 timestamp with milliseconds")
            }
        }
        if case .object(let members) = value {
            let properties: [String: JSONValue]
            if case .object(let declared) = rules["properties"] ?? .null { properties = declared } else { properties = [:] }
            if case .array(let required) = rules["required"] ?? .null {
                for name in required.compactMap(\.stringValue) where members[name] == nil { found.append("\(path).\(name): required") }
            }
            for (name, member) in members {
                if let property = properties[name] {
                    found += problems(member, property, path: "\(path).\(name)")
                } else if let additional = rules["additionalProperties"] {
                    if additional == .bool(false) {
                        found.append("\(path).\(name): not in the schema")
                    } else {
                        found += problems(member, additional, path: "\(path).\(name)")
                    }
                }
            }
        }
        if case .array(let items) = value, let itemSchema = rules["items"] {
            for (index, item) in items.enumerated() { found += problems(item, itemSchema, path: "\(path)[\(index)]") }
        }
        return found
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("integer", .integer): true
        case ("number", .integer), ("number", .number): true
        default: false
        }
    }
}
