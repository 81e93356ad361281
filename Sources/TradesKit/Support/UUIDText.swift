public import Foundation

extension UUID {
    /// The canonical lower-case text of the UUID (`01890a5d-ac96-774b-bcce-b302099a8057`), what ``Identifier`` writes.
    ///
    /// Written from the bytes with a table, without Foundation's `uuidString` (which formats through `snprintf` on Linux)
    /// and the `lowercased()` copy after it: ids are written into every answer and every row, so this is a hot path.
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: 36) { text in writeLowercased(to: text) }
    }

    /// Appends ``lowercasedString``'s 36 bytes to `bytes`, without making a string (for writers of JSON and rows).
    public func appendLowercased(to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 36))
        bytes.withUnsafeMutableBufferPointer { buffer in
            _ = writeLowercased(to: UnsafeMutableBufferPointer(rebasing: buffer[start...]))
        }
    }

    private func writeLowercased(to text: UnsafeMutableBufferPointer<UInt8>) -> Int {
        withUnsafeBytes(of: uuid) { bytes in
            var position = 0
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                text[position] = UUIDText.hexDigits[Int(byte >> 4)]
                text[position + 1] = UUIDText.hexDigits[Int(byte & 0x0F)]
                position += 2
            }
            return position
        }
    }

    /// Parses the 36-character text form, hex digits in either case; `nil` for anything else (as `UUID(uuidString:)`,
    /// without going through `sscanf`).
    public init?(canonicalText text: some StringProtocol) {
        guard let uuid = UUIDText.parse(text) else { return nil }
        self = uuid
    }
}

enum UUIDText {
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func parse(_ text: some StringProtocol) -> UUID? {
        var text = String(text)
        return text.withUTF8 { utf8 -> UUID? in
            guard utf8.count == 36 else { return nil }
            var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let parsed = withUnsafeMutableBytes(of: &raw) { bytes -> Bool in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        guard utf8[position] == UInt8(ascii: "-") else { return false }
                        position += 1
                    }
                    guard let high = nibble(utf8[position]), let low = nibble(utf8[position + 1]) else { return false }
                    bytes[index] = high << 4 | low
                    position += 2
                }
                return true
            }
            return parsed ? UUID(uuid: raw) : nil
        }
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
