import Foundation
import HTTPTypes
import Hummingbird

/// The limits applied before routing: the client's address (the peer, or the first `X-Forwarded-For` hop behind a
/// trusted proxy), the body size from `Content-Length` (the body reader enforces it again for chunked bodies), and
/// the per-IP rate limit on the API.
struct RequestLimitsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let configuration: ServerConfiguration
    let limiter: RateLimiter

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = configuration.bodyLimit
        if configuration.trustForwardedFor, let forwarded = request.headers[.forwardedFor],
            let first = forwarded.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !first.isEmpty, first.count <= 45
        {
            context.clientAddress = first
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
}
