import Foundation
import HTTPTypes
import Hummingbird
import TradesKit

/// Cross-origin access for an allow-list of exact origins. Preflights from listed origins get `204`; from others
/// `403`. Other requests from listed origins get `Access-Control-Allow-Origin`; from others, nothing (the browser
/// then withholds the answer). No credentials mode: the API uses bearer tokens, not cookies.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let allowedOrigins: Set<String>
    let clock: any WallClock

    static let allowedMethods = "GET, POST, PUT, PATCH, DELETE"
    static let allowedHeaders = "Authorization, Content-Type, X-Tenant, X-Request-Id"
    static let exposedHeaders = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = allowedOrigins.contains(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard allowed else {
                let error = ServerError(.originNotAllowed, "This origin may not call the API")
                let (problem, headers) = ProblemMapper.problem(for: error, requestID: context.requestID, now: clock.now(), logger: context.logger)
                return problem.response(headers: headers)
            }
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlAllowMethods] = Self.allowedMethods
            response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
            response.headers[.accessControlMaxAge] = "600"
            response.headers[.vary] = "Origin"
            return response
        }
        var response = try await next(request, context)
        if allowed {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
            response.headers[.vary] = "Origin"
        }
        return response
    }
}
