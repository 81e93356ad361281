import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The limits applied before routing: the client's address (the peer, or the last `X-Forwarded-For` hop behind a
/// trusted proxy), the body size from `Content-Length` (the body reader enforces it again for chunked bodies), and
/// the per-IP rate limit on the API.
struct RequestLimitsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let configuration: ServerConfiguration
    let limiter: RateLimiter

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = configuration.bodyLimit
        if configuration.trustForwardedFor, let address = Self.forwardedClient(request.headers[values: .forwardedFor]) {
            context.clientAddress = address
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.bodyLimit {
            throw ServerError(.payloadTooLarge, "The request body is larger than \(configuration.bodyLimit) bytes")
        }
        if request.uri.path.hasPrefix("/v1/") {
            let limits = configuration.rateLimits
            try limiter.enforce("ip:\(context.clientAddress)", limit: limits.requestsPerIPPerWindow, windowSeconds: limits.windowSeconds)
        }
        return try await next(request, context)
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
