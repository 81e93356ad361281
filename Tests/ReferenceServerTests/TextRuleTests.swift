import Foundation
import Testing
import TradesKit

@testable import ReferenceServer

/// The OpenAPI document states core's text rules exactly, so a client (or a fuzzer) that follows the schema is never
/// refused for a text's length, and one that breaks it is.
@Suite("Text rules in the schema")
struct TextRuleTests {
    static let samples: [String] = [
        "", " ", "a", " a ", "abc", "  abc  ", "\nXczz'Ot\n#", "\nXczz'Ot\n#!", "          x", "x          y", " x          y ",
        String(repeating: "e\u{301}", count: 5), String(repeating: "e\u{301}", count: 6), "tab\there", "bell\u{7}!", "ab\u{85}cdefghij",
        "\u{A0}abc\u{A0}", "\u{2028}abcdefghijk\u{2029}", String(repeating: "a", count: 12), " " + String(repeating: "a", count: 12),
        String(repeating: "a", count: 30), String(repeating: "a", count: 31), String(repeating: "a", count: 29) + "  ",
        "Ünïcödé text", "👷🏽‍♀️ fixes pipes",
    ]

    /// Whether `text` satisfies a string schema's `pattern`, `minLength` and `maxLength` (lengths in Unicode scalars, as
    /// JSON Schema counts them).
    static func satisfies(_ text: String, _ schema: JSONValue) throws -> Bool {
        let scalars = Int64(text.unicodeScalars.count)
        if case .integer(let minimum) = schema["minLength"] ?? .null, scalars < minimum { return false }
        if case .integer(let maximum) = schema["maxLength"] ?? .null, scalars > maximum { return false }
        guard let pattern = schema["pattern"]?.stringValue else { return true }
        let expression = try NSRegularExpression(pattern: pattern)
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    @Test("Schema and validator agree on every sample, for minimums 0, 1, 3 and 10", arguments: [(0, 20), (1, 20), (3, 12), (10, 30)])
    func agree(_ bounds: (min: Int, max: Int)) throws {
        let schema = OpenAPISchema.text(min: bounds.min, max: bounds.max)
        for sample in Self.samples {
            var validator = Validator()
            _ = validator.text(sample, field: "text", min: bounds.min, max: bounds.max)
            #expect(try Self.satisfies(sample, schema) == validator.errors.isEmpty, "\(bounds) \(sample.debugDescription): \(validator.errors)")
        }
    }

    @Test("The document's dispute reason is the text rule core applies to it")
    func disputeReason() async throws {
        let harness = try await TestServer()
        let reason = harness.server.openAPIDocument["components"]?["schemas"]?["NewDispute"]?["properties"]?["reason"]
        #expect(reason == OpenAPISchema.text(min: 10, max: 5_000))
        // The request the fuzzer once found refused though it matched the document: now the document refuses it too.
        #expect(try !Self.satisfies("\nXczz'Ot\n#", try #require(reason)))
    }
}
