import Foundation
import NIOCore
import TradesKit

/// An answer that writes its own JSON, without Codable: the answers the busiest routes send (job pages, bids,
/// messages).
///
/// The output is byte for byte what the server's `JSONEncoder` writes for the same value (sorted keys, unescaped
/// slashes, RFC 3339 timestamps, `nil` members left out unless written as `null` on purpose), so the `Encodable`
/// conformance stays the reference: `JSONWriterTests` compares the two on every conforming type, with hostile strings
/// and edge-case numbers. Conformances write their members in sorted key order.
///
/// Why: on a page of 20 jobs, Foundation's encoder (boxing every value through Codable's generic containers, a
/// dictionary per object, sorting the keys) cost about 40 % of the request's CPU; writing straight into the response
/// buffer costs a small fraction of that (docs/benchmarks.md).
protocol JSONWritable: Encodable {
    /// Writes the value as one JSON value.
    func write(to json: inout JSONWriter)
}

/// Writes JSON into a byte array (appending to an array is cheaper than to a `ByteBuffer`, byte by byte; the answer
/// is copied into a buffer once). Objects and arrays are opened and closed explicitly; members and elements get their
/// commas from the writer.
struct JSONWriter {
    private(set) var bytes: [UInt8]
    /// Whether the container being written has no member or element yet.
    private var atFirst = true
    /// A number JSON cannot hold (infinite or NaN) that was asked for, if any: the bytes are then not JSON.
    private(set) var invalidNumber: Double?

    init(capacity: Int = 1_024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: Containers

    mutating func beginObject() { open(UInt8(ascii: "{")) }

    mutating func endObject() { close(UInt8(ascii: "}")) }

    mutating func beginArray() { open(UInt8(ascii: "[")) }

    mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        atFirst = true
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        // The container just closed is a member or element of its parent, which is therefore not empty.
        atFirst = false
    }

    /// Starts a member of the object being written. Keys are the API's own names: plain ASCII, never escaped.
    mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        append(key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Starts an element of the array being written.
    mutating func element() { separate() }

    private mutating func separate() {
        if atFirst { atFirst = false } else { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    // MARK: Values

    mutating func null() { append("null") }

    mutating func integer(_ value: some BinaryInteger) { bytes.append(contentsOf: String(value).utf8) }

    /// A finite number as Foundation writes it: Swift's shortest round-tripping form, without a trailing `.0`. Validation
    /// and storage only hold finite numbers; any other is remembered in ``invalidNumber`` (``bytes(of:capacity:)``
    /// throws, as the encoder does), never a crash.
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            invalidNumber = invalidNumber ?? value
            return null()
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in writeEscaped(utf8) }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func id<Tag>(_ id: Identifier<Tag>) {
        bytes.append(UInt8(ascii: "\""))
        id.rawValue.appendLowercased(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func date(_ date: Date) {
        bytes.append(UInt8(ascii: "\""))
        RFC3339.write(date, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `{"amount":…,"currency":"…"}`.
    mutating func money(_ money: Money) {
        beginObject()
        key("amount")
        integer(money.amount)
        key("currency")
        string(money.currency.code)
        endObject()
    }

    /// `{"max":…,"min":…}`.
    mutating func budget(_ budget: BudgetRange) {
        beginObject()
        key("max")
        self.money(budget.max)
        key("min")
        self.money(budget.min)
        endObject()
    }

    /// `{"latitude":…,"longitude":…}`.
    mutating func point(_ point: GeoPoint) {
        beginObject()
        key("latitude")
        number(point.latitude)
        key("longitude")
        number(point.longitude)
        endObject()
    }

    /// Copies runs that need no escape in one write; escapes quotes, backslashes and control characters as Foundation
    /// does (`\b \t \n \f \r`, otherwise `\u00XX` in lower case). Everything else, slashes and non-ASCII included, is
    /// written as it is.
    private mutating func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            runStart = index + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            default:
                append("u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            }
        }
        if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension JSONWriter {
    /// The JSON of `value`; throws what `JSONEncoder` throws for a number JSON cannot hold.
    static func bytes<Value: JSONWritable>(of value: Value, capacity: Int = 1_024) throws -> ByteBuffer {
        var writer = JSONWriter(capacity: capacity)
        value.write(to: &writer)
        if let invalid = writer.invalidNumber {
            throw EncodingError.invalidValue(
                invalid, EncodingError.Context(codingPath: [], debugDescription: "\(Value.self) holds a number JSON cannot hold"))
        }
        return ByteBuffer(bytes: writer.bytes)
    }
}
