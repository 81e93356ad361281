import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The limits applied before routing: one `Host` header at most (RFC 9112 §3.2: a proxy that routed on another one
/// would disagree with the server about the tenant), the client's address (the peer, or, from a trusted proxy, the nearest
/// `X-Forwarded-For` hop that is not one), the body size from `Content-Length` (the body reader enforces it again for
/// chunked bodies), and the server's per-IP rate limit on every request but the liveness probe (`/health`, which does
/// no I/O).
struct RequestLimitsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let configuration: ServerConfiguration
    let limiter: RateLimiter
    /// ``ServerConfiguration/trustedProxies``, parsed (the configuration's problems list any that do not parse).
    let trustedProxies: [IPNetwork]

    init(configuration: ServerConfiguration, limiter: RateLimiter) {
        self.configuration = configuration
        self.limiter = limiter
        trustedProxies = configuration.trustedProxies.compactMap(IPNetwork.init)
    }

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        // The first `Host` is the request's authority; any other stays among its fields.
        if request.headers[Self.host] != nil { throw ServerError(.badRequest, "A request has one Host header") }
        var context = context
        context.bodyLimit = configuration.bodyLimit
        if !trustedProxies.isEmpty, let peer = context.peerAddress {
            let client = Self.forwardedClient(peer: peer, request.headers[values: .forwardedFor], trusted: trustedProxies)
            context.clientAddress = Self.clientNetwork(client)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.bodyLimit {
            throw ServerError(.payloadTooLarge, "The request body is larger than \(configuration.bodyLimit) bytes")
        }
        // Every request counts but the liveness probe: a test of the raw path (say, for a `/v1/` prefix) would let
        // `//v1/...` through, which the router still matches. `/ready` reads storage, so it counts too (an orchestrator
        // probing every few seconds stays far below any sensible limit).
        if request.uri.path != "/health" {
            let limits = configuration.rateLimits
            try limiter.enforce("ip:\(context.clientAddress)", limit: limits.requestsPerIPPerWindow, windowSeconds: limits.windowSeconds)
        }
        return try await next(request, context)
    }

    /// The key of a client for rate limits: an IPv4 address as it is; an IPv6 address by its /64 network, as one
    /// subscriber is usually given a whole /64 and could otherwise take a fresh key per request; an IPv4-mapped IPv6
    /// address as its IPv4 address. Anything that does not parse is returned unchanged.
    static func clientNetwork(_ address: String) -> String {
        guard address.utf8.contains(UInt8(ascii: ":")), let bytes = IPNetwork.address(address) else { return address }
        if bytes.count == 4 { return bytes.map { String($0) }.joined(separator: ".") }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    /// The client's address as far as trusted proxies vouch for it. A peer that is not a trusted proxy is the client,
    /// whatever it says in `X-Forwarded-For`. From a trusted proxy, the hops are read from the right (each proxy appends
    /// the address it saw; every hop to the left of the first untrusted one is that client's to write): trusted hops are
    /// passed over, and the first untrusted one is the client. A hop that is not an IP address ends the walk at the last
    /// address a trusted proxy wrote, so a forged header can never become a rate-limit key of arbitrary text.
    static func forwardedClient(peer: String, _ fields: [String], trusted: [IPNetwork]) -> String {
        func isTrusted(_ address: [UInt8]) -> Bool { trusted.contains { $0.contains(address) } }
        guard let peerBytes = IPNetwork.address(peer), isTrusted(peerBytes) else { return peer }
        var client = peer
        let hops = fields.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        // Beyond a few hops there is no proxy chain, only a client padding the header.
        for hop in hops.reversed().prefix(Self.maximumForwardedHops) {
            let address = Self.hopAddress(hop.trimmingCharacters(in: .whitespaces))
            guard let bytes = IPNetwork.address(address) else { break }
            client = address
            if !isTrusted(bytes) { break }
        }
        return client
    }

    /// The address of a hop as proxies write it: an address; an IPv4 address and a port (`203.0.113.5:4711`); an IPv6
    /// address in brackets, with or without a port (`[2001:db8::1]:443`). Anything else is returned as it is, for the
    /// caller to refuse. Without this, every client whose proxy writes ports would be counted as the proxy.
    static func hopAddress(_ hop: String) -> String {
        func isPort(_ text: Substring) -> Bool { (1...5).contains(text.count) && text.allSatisfy { $0.isASCII && $0.isNumber } }
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") {
            let rest = hop[hop.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && isPort(rest.dropFirst())) else { return hop }
            return String(hop[hop.index(after: hop.startIndex)..<close])
        }
        let parts = hop.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, isPort(parts[1]) { return String(parts[0]) }
        return hop
    }

    static let host = HTTPField.Name("Host")!

    /// How many `X-Forwarded-For` hops are read at most, from the right.
    static let maximumForwardedHops = 16
}
