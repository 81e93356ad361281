import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The limits applied before routing: the client's address (the peer, or the last `X-Forwarded-For` hop behind a
/// trusted proxy), the body size from `Content-Length` (the body reader enforces it again for chunked bodies), and
/// the server's per-IP rate limit on every request but the liveness probe (`/health`, which does no I/O).
struct RequestLimitsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let configuration: ServerConfiguration
    let limiter: RateLimiter

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = configuration.bodyLimit
        if configuration.trustForwardedFor, let address = Self.forwardedClient(request.headers[values: .forwardedFor]) {
            context.clientAddress = Self.clientNetwork(address)
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
        guard address.utf8.contains(UInt8(ascii: ":")) else { return address }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return bytes[12...].map { String($0) }.joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    /// The address the trusted proxy saw: the last hop of the last `X-Forwarded-For` field (proxies append; every
    /// earlier hop is the client's to write), if it is an IPv4 or IPv6 address. Anything else leaves the peer's address.
    static func forwardedClient(_ fields: [String]) -> String? {
        guard let last = fields.last?.split(separator: ",", omittingEmptySubsequences: false).last else { return nil }
        let hop = last.trimmingCharacters(in: .whitespaces)
        // NIO parses the address (inet_pton), so a forged header cannot become a rate-limit key of arbitrary text.
        return (try? SocketAddress(ipAddress: hop, port: 0)) != nil ? hop : nil
    }
}
