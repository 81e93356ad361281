import Foundation
import HTTPTypes
import Hummingbird

/// Headers that make the API's answers inert in a browser: no sniffing, no framing, no referrer, nothing cached,
/// and HSTS when the server is told it is behind TLS.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let strictTransportSecurity: Bool

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentTypeOptions] = "nosniff"
        response.headers[.frameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        response.headers[.crossOriginResourcePolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if strictTransportSecurity { response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
        return response
    }
}
