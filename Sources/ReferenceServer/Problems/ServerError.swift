import Foundation
public import HTTPTypes

/// An error of the HTTP layer itself (authentication, rate limits, malformed requests), as opposed to the
/// ``TradesKit/TradesKitError`` that core services throw. ``ProblemMapper`` turns both into problem+json.
public struct ServerError: Error, Sendable {
    /// A stable, machine-readable code; new codes can be added without breaking callers.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No valid credentials: a missing, malformed, expired or foreign token, or a wrong password.
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        /// Too many requests in the current window.
        public static let rateLimited = Code(rawValue: "rate_limited")
        /// The body is not well-formed JSON.
        public static let malformedBody = Code(rawValue: "malformed_body")
        /// The body is not `application/json`.
        public static let unsupportedMediaType = Code(rawValue: "unsupported_media_type")
        /// The body is larger than the server accepts.
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        /// No route has this path.
        public static let routeNotFound = Code(rawValue: "route_not_found")
        /// The path exists but not with this method.
        public static let methodNotAllowed = Code(rawValue: "method_not_allowed")
        /// A tenant-scoped route was called without naming a tenant (`X-Tenant` header or host).
        public static let tenantRequired = Code(rawValue: "tenant_required")
        /// The named tenant does not exist.
        public static let unknownTenant = Code(rawValue: "unknown_tenant")
        /// A query parameter or path segment is malformed.
        public static let badRequest = Code(rawValue: "bad_request")
        /// The origin is not on the CORS allow-list.
        public static let originNotAllowed = Code(rawValue: "origin_not_allowed")
        /// `/metrics` is not served: the server has no metrics token and does not serve metrics without one.
        public static let metricsNotServed = Code(rawValue: "metrics_not_served")
        /// The server cannot take traffic yet (storage unreachable or migrations pending).
        public static let notReady = Code(rawValue: "not_ready")
        /// Something failed that the client cannot fix; details are only in the server log.
        public static let internalError = Code(rawValue: "internal_error")
    }

    /// The stable code.
    public let code: Code
    /// A human-readable explanation, free of secrets and personal data.
    public let detail: String
    /// Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`…).
    public let headers: HTTPFields

    /// Creates an error.
    public init(_ code: Code, _ detail: String, headers: HTTPFields = [:]) {
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    /// The one answer to every authentication failure, so a client cannot tell which check failed.
    static func unauthenticated() -> ServerError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Bearer realm="tradeskit""#
        return ServerError(.unauthenticated, "The access token is missing, invalid or expired", headers: headers)
    }
}

extension ServerError: CustomStringConvertible {
    public var description: String { "\(code): \(detail)" }
}
