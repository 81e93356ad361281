import Foundation
import HTTPTypes
import Hummingbird
import TradesKit

/// Answers every error as problem+json through ``ProblemMapper``, and tells an unknown path (`404`) from a known
/// path with the wrong method (`405` with `Allow`). A locked account's `429` carries the `RateLimit-*` headers of every
/// other `429`: the lockout's threshold as the limit, nothing remaining, and the lock's end as the reset.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let routes: [RouteSpec]
    /// Turns the instant of a `Retry-After` into seconds.
    let clock: any WallClock
    /// The failed sign-ins that lock an account key: a locked account's `RateLimit-Limit`.
    let lockoutThreshold: Int

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var error: any Error = error
            if let http = error as? HTTPError, http.status == .notFound, context.endpointPath == "NotFound" {
                let allowed = routes.filter { $0.matches(path: request.uri.path) }.map(\.method.rawValue)
                if !allowed.isEmpty {
                    var headers = HTTPFields()
                    headers[.allow] = Set(allowed).sorted().joined(separator: ", ")
                    error = ServerError(.methodNotAllowed, "This path does not accept \(request.method.rawValue)", headers: headers)
                }
            }
            let now = clock.now()
            let (problem, headers) = ProblemMapper.problem(for: error, requestID: context.requestID, now: now, logger: context.logger)
            guard let locked = error as? TradesKitError, locked.code == .accountLocked, let until = locked.retryAfter else {
                return problem.response(headers: headers)
            }
            let reset = ProblemMapper.retrySeconds(until: until, now: now)
            return problem.response(headers: RateLimiter.Decision(allowed: false, limit: lockoutThreshold, remaining: 0, resetSeconds: reset).headers)
        }
    }
}
