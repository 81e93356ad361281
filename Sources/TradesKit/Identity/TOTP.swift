import Crypto
public import Foundation

/// Time-based one-time passwords (RFC 6238): HMAC-SHA1 over 30-second time steps, 6 digits by default.
///
/// ```swift
/// let totp = try #require(TOTP(base32Secret: setup.secret))
/// let code = totp.code(at: clock.now())
/// ```
public struct TOTP: Sendable {
    /// The length of one time step, in seconds.
    public static let period: Int64 = 30

    /// The shared secret.
    let secret: Data
    /// How many digits a code has.
    public let digits: Int

    /// Creates a generator for `secret` (RFC 4226 recommends 20 bytes) with codes of `digits` digits (6–8).
    public init(secret: Data, digits: Int = 6) {
        self.secret = secret
        self.digits = min(8, max(6, digits))
    }

    /// Creates a generator from a base32 secret, as shown to users and put in `otpauth://` URIs; `nil` if it is not base32.
    public init?(base32Secret: String, digits: Int = 6) {
        guard let secret = Base32.decode(base32Secret), !secret.isEmpty else { return nil }
        self.init(secret: secret, digits: digits)
    }

    /// The secret in unpadded base32 (RFC 4648), the form authenticator apps take.
    public var base32Secret: String { Base32.encode(secret) }

    /// The time step of `date`: whole periods since 1970.
    public static func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(period)).rounded(.down))
    }

    /// The code for the time step of `date`.
    public func code(at date: Date) -> String { code(forStep: Self.step(at: date)) }

    /// The code for a time step (RFC 4226 HOTP with the step as counter, dynamically truncated).
    public func code(forStep step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The time step whose code `code` is, looking `window` steps either side of `date`'s and only at steps after
    /// `lastAccepted` (so a code is accepted at most once); `nil` when it matches none.
    public func acceptedStep(for code: String, at date: Date, after lastAccepted: Int64?, window: Int64 = 1) -> Int64? {
        let candidate = code.filter { $0 != " " }
        guard candidate.count == digits, candidate.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let current = Self.step(at: date)
        var accepted: Int64?
        // Every step of the window is compared, so the time taken does not tell which one matched.
        for step in (current - window)...(current + window) where lastAccepted.map({ step > $0 }) ?? true {
            if OpaqueToken.constantTimeEquals(self.code(forStep: step), candidate), accepted == nil { accepted = step }
        }
        return accepted
    }

    /// The `otpauth://totp/` URI that authenticator apps scan, labelled `issuer:account`.
    public func provisioningURI(issuer: String, account: String) -> String {
        let label = Self.percentEncoded(issuer) + ":" + Self.percentEncoded(account)
        return "otpauth://totp/\(label)?secret=\(base32Secret)&issuer=\(Self.percentEncoded(issuer))"
            + "&algorithm=SHA1&digits=\(digits)&period=\(Self.period)"
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}

extension TOTP: CustomStringConvertible {
    /// Redacted: the secret never appears in logs.
    public var description: String { "TOTP(\(digits) digits, <redacted secret>)" }
}

/// Base32 (RFC 4648 §6) without padding, for TOTP secrets.
enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    static func encode(_ data: Data) -> String {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 0x1F)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 0x1F)]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes base32, ignoring case, spaces, hyphens and padding; `nil` for any other character.
    static func decode(_ text: String) -> Data? {
        var output = Data()
        var buffer: UInt32 = 0
        var bits = 0
        for scalar in text.uppercased().unicodeScalars where scalar != " " && scalar != "-" && scalar != "=" {
            guard scalar.isASCII, let index = alphabet.firstIndex(of: UInt8(scalar.value)) else { return nil }
            buffer = (buffer << 5) | UInt32(index)
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return output
    }
}
