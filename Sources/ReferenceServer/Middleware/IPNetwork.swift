import Foundation

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or a single address), for the proxies
/// whose `X-Forwarded-For` the server believes. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is its IPv4 address.
struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's address bytes (4 or 16), host bits cleared.
    let bytes: [UInt8]
    /// The prefix length in bits.
    let prefixLength: Int

    /// Parses `a.b.c.d/n`, `x:…:y/n`, or an address alone (a network of one); `nil` for anything else, including host
    /// bits set past the prefix (`10.0.0.1/8` is more likely a typo than a network).
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let bytes = Self.address(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        let length: Int
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let parsed = Int(parts[1]), (0...bits).contains(parsed) else { return nil }
            length = parsed
        } else {
            length = bits
        }
        guard Self.masked(bytes, length) == bytes else { return nil }
        self.bytes = bytes
        prefixLength = length
    }

    /// Whether `address` (4 or 16 bytes, as ``address(_:)`` gives) is in the network.
    func contains(_ address: [UInt8]) -> Bool {
        address.count == bytes.count && Self.masked(address, prefixLength) == bytes
    }

    var description: String {
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, bytes, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/\(prefixLength)"
    }

    /// The bytes of an IPv4 (4) or IPv6 (16) address; an IPv4-mapped IPv6 address gives its IPv4 bytes. `nil` when
    /// `text` is not an address.
    static func address(_ text: String) -> [UInt8]? {
        if text.utf8.contains(UInt8(ascii: ":")) {
            var bytes = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET6, text, &bytes) == 1 else { return nil }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff { return Array(bytes[12...]) }
            return bytes
        }
        var bytes = [UInt8](repeating: 0, count: 4)
        guard inet_pton(AF_INET, text, &bytes) == 1 else { return nil }
        return bytes
    }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let kept = min(8, max(0, length - index * 8))
            return kept == 8 ? byte : byte & ~(UInt8(0xff) >> kept)
        }
    }
}
