import Crypto
import Foundation
import TradesKit

/// Page cursors a client can hand back but neither read nor forge: the position (milliseconds and id of the last item,
/// 24 bytes) sealed with AES-GCM under a key derived from the token signing key, in base64url.
///
/// For lists whose items hide their time and id (public reviews, whose exact time would help a losing bidder tell who
/// won): a plain cursor would carry both, and a forged one would let a client bisect its way to them. Every instance of
/// a server with the same signing key opens the others' cursors; a cursor outlives a restart, not a key rotation.
struct CursorSeal: Sendable {
    private let key: SymmetricKey

    /// The pattern of a sealed cursor: 12 bytes of nonce, 24 of position and 16 of tag, in unpadded base64url.
    static let pattern = "^[A-Za-z0-9_-]{70}$"

    init(signingKey: [UInt8]) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: signingKey), info: Data("tradeskit page cursor seal v1".utf8), outputByteCount: 32)
    }

    /// `cursor`, sealed.
    func seal(_ cursor: PageCursor) throws -> String {
        var position = Data(capacity: 24)
        withUnsafeBytes(of: cursor.milliseconds.bigEndian) { position.append(contentsOf: $0) }
        withUnsafeBytes(of: cursor.id.uuid) { position.append(contentsOf: $0) }
        guard let combined = try AES.GCM.seal(position, using: key).combined else {
            throw ServerError(.internalError, "A page cursor could not be sealed")  // only with a nonce of another size
        }
        return combined.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The position of a cursor this server sealed, or nil for anything else (malformed, tampered, another key's).
    func open(_ text: String) -> PageCursor? {
        guard text.utf8.count == 70 else { return nil }
        let base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=="
        guard let combined = Data(base64Encoded: base64), let box = try? AES.GCM.SealedBox(combined: combined),
            let position = try? AES.GCM.open(box, using: key), position.count == 24
        else { return nil }
        let bytes = [UInt8](position)
        let milliseconds = bytes[0..<8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let id = UUID(
            uuid: (
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15], bytes[16], bytes[17], bytes[18],
                bytes[19], bytes[20], bytes[21], bytes[22], bytes[23]
            ))
        return PageCursor(after: Date(millisecondsSince1970: milliseconds), id: id)
    }
}
