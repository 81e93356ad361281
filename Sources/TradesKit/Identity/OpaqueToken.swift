import Crypto
import Foundation

/// Bearer secrets handed to clients (refresh tokens, links in e-mails): 32 random bytes, base64url without padding.
///
/// Storages keep only ``hash(_:)`` of a token, never the token itself, so a leaked database holds nothing a client
/// could present.
public enum OpaqueToken {
    /// The longest token core will look at; anything longer cannot be one of ours and is refused before hashing.
    static let maximumLength = 256

    /// A new token from the system's cryptographically secure generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(randomBytes(32, using: &generator))
    }

    /// The stored form of a token: the lower-case hex SHA-256 of its UTF-8 bytes.
    public static func hash(_ token: String) -> String {
        hex(SHA256.hash(data: Data(token.utf8)))
    }

    /// Whether `token` is shaped like one of ours (1–256 base64url characters), checked before any lookup; an HTTP
    /// layer refuses other input as malformed with the same rule.
    public static func isWellFormed(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= maximumLength
            && token.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
    }

    /// `count` bytes from `generator`.
    static func randomBytes(_ count: Int, using generator: inout some RandomNumberGenerator) -> Data {
        Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Base64url (RFC 4648 §5) without padding.
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Lower-case hex of a digest or any byte sequence.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var result: [UInt8] = []
        for byte in bytes {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Compares two strings in time that depends only on their lengths, not on where they first differ.
    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
