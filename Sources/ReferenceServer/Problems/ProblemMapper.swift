public import Foundation
public import HTTPTypes
import Hummingbird
public import Logging
import TradesKit

/// The one place that turns any error into an RFC 9457 problem: core's ``TradesKit/TradesKitError`` codes, the
/// server's own ``ServerError`` codes, Hummingbird's `HTTPError`s, and anything unexpected (a 500 that says nothing
/// about its cause; the cause goes to the log, by type only).
public enum ProblemMapper {
    /// The status and title of a problem code.
    public struct Kind: Sendable, Hashable {
        /// The HTTP status.
        public let status: HTTPResponse.Status
        /// The title shared by every occurrence.
        public let title: String
    }

    /// Status and title of every core error code.
    static let coreKinds: [TradesKitError.Code: Kind] = [
        .notFound: Kind(status: .notFound, title: "Not found"),
        .forbidden: Kind(status: .forbidden, title: "Forbidden"),
        .validationFailed: Kind(status: .unprocessableContent, title: "The input is not valid"),
        .invalidTransition: Kind(status: .conflict, title: "Not allowed in the current state"),
        .conflict: Kind(status: .conflict, title: "Conflict"),
        .paymentFailed: Kind(status: HTTPResponse.Status(code: 402), title: "Payment failed"),
        .storageUnavailable: Kind(status: .serviceUnavailable, title: "Service unavailable"),
        .currencyMismatch: Kind(status: .unprocessableContent, title: "Currency mismatch"),
        .amountOverflow: Kind(status: .unprocessableContent, title: "Amount out of range"),
        .suspended: Kind(status: .forbidden, title: "Account suspended"),
        .unauthenticated: Kind(status: .unauthorized, title: "Authentication required"),
        // The password was right: the client resends the login with `totpCode`.
        .twoFactorRequired: Kind(status: .unauthorized, title: "Two-factor code required"),
        // Not 401: a client that refreshes its session on 401 would retry a wrong code at /2fa/confirm for nothing.
        .invalidTwoFactorCode: Kind(status: .forbidden, title: "Two-factor code not accepted"),
        // Not 401 either: the session is fine, the password confirming a change is not.
        .wrongPassword: Kind(status: .forbidden, title: "Password not accepted"),
        .accountLocked: Kind(status: .tooManyRequests, title: "Account locked"),
        // Unknown, used and expired links look the same; the client asks for a new one.
        .invalidToken: Kind(status: .forbidden, title: "Link not valid"),
        .notConfigured: Kind(status: .serviceUnavailable, title: "Not configured"),
        .deliveryFailed: Kind(status: .serviceUnavailable, title: "Delivery failed"),
    ]

    /// Status and title of every server error code.
    static let serverKinds: [ServerError.Code: Kind] = [
        .unauthenticated: Kind(status: .unauthorized, title: "Authentication required"),
        .rateLimited: Kind(status: .tooManyRequests, title: "Too many requests"),
        .malformedBody: Kind(status: .badRequest, title: "Malformed request body"),
        .unsupportedMediaType: Kind(status: .unsupportedMediaType, title: "Unsupported media type"),
        .payloadTooLarge: Kind(status: .contentTooLarge, title: "Request body too large"),
        .routeNotFound: Kind(status: .notFound, title: "No such route"),
        .methodNotAllowed: Kind(status: .methodNotAllowed, title: "Method not allowed"),
        .tenantRequired: Kind(status: .badRequest, title: "Tenant required"),
        .metricsNotServed: Kind(status: .forbidden, title: "Metrics not served"),
        .unknownTenant: Kind(status: .notFound, title: "Unknown tenant"),
        .badRequest: Kind(status: .badRequest, title: "Bad request"),
        .originNotAllowed: Kind(status: .forbidden, title: "Origin not allowed"),
        .notReady: Kind(status: .serviceUnavailable, title: "Not ready"),
        .internalError: Kind(status: .internalServerError, title: "Internal error"),
    ]

    /// Every problem code the server can answer with, and its status: the OpenAPI document lists them.
    public static var allCodes: [(code: String, status: Int)] {
        // Core and server share `unauthenticated` (401), listed once.
        var statuses: [String: Int] = [:]
        for (code, kind) in coreKinds { statuses[code.rawValue] = kind.status.code }
        for (code, kind) in serverKinds { statuses[code.rawValue] = kind.status.code }
        return statuses.map { (code: $0.key, status: $0.value) }.sorted { $0.code < $1.code }
    }

    /// The problem for `error`, and the headers that go with it; `now` turns a core error's
    /// ``TradesKit/TradesKitError/retryAfter`` into `Retry-After` seconds.
    public static func problem(for error: any Error, requestID: String?, now: Date, logger: Logger) -> (Problem, HTTPFields) {
        switch error {
        case let error as TradesKitError:
            // An unknown future code keeps its name and gets a generic 400.
            let kind = coreKinds[error.code] ?? Kind(status: .badRequest, title: "Request refused")
            var headers = HTTPFields()
            if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retrySeconds(until: retryAfter, now: now)) }
            return (
                Problem(
                    code: error.code.rawValue, title: kind.title, status: kind.status, detail: error.message, requestID: requestID,
                    errors: error.fieldErrors), headers
            )
        case let error as ServerError:
            return (problem(error, requestID: requestID), error.headers)
        case let error as StorageError:
            // A storage call outside core's services (the tenant directory's): answered and logged as core does.
            logger.log(level: error.logLevel, "Storage error", metadata: ["tradeskit.storage_error": "\(error.code)"])
            return problem(for: error.serviceError, requestID: requestID, now: now, logger: logger)
        case let error as any HTTPResponseError:
            return (problem(httpStatus: error.status, requestID: requestID), [:])
        case is DecodingError:
            return (problem(ServerError(.malformedBody, "The request body is not valid JSON"), requestID: requestID), [:])
        default:
            logger.error("Unexpected error", metadata: ["tradeskit.error_type": "\(String(reflecting: type(of: error)))"])
            return (problem(ServerError(.internalError, "The server could not complete the request"), requestID: requestID), [:])
        }
    }

    /// Whole seconds from `now` until `date`, rounded up and at least 1, as `Retry-After` takes them.
    static func retrySeconds(until date: Date, now: Date) -> Int64 {
        max(1, Int64(date.timeIntervalSince(now).rounded(.up)))
    }

    /// The problem for a server error.
    static func problem(_ error: ServerError, requestID: String?) -> Problem {
        let kind = serverKinds[error.code] ?? Kind(status: .badRequest, title: "Request refused")
        return Problem(code: error.code.rawValue, title: kind.title, status: kind.status, detail: error.detail, requestID: requestID)
    }

    /// Hummingbird's own errors carry only a status (and sometimes a message meant for developers, not shown).
    static func problem(httpStatus status: HTTPResponse.Status, requestID: String?) -> Problem {
        switch status {
        case .notFound:
            return problem(ServerError(.routeNotFound, "No route matches this path"), requestID: requestID)
        case .contentTooLarge:
            return problem(ServerError(.payloadTooLarge, "The request body is larger than the server accepts"), requestID: requestID)
        case .unsupportedMediaType:
            return problem(ServerError(.unsupportedMediaType, "The request body must be application/json"), requestID: requestID)
        case .methodNotAllowed:
            return problem(ServerError(.methodNotAllowed, "This path does not accept this method"), requestID: requestID)
        case .unauthorized:
            return problem(ServerError.unauthenticated(), requestID: requestID)
        default:
            let code = status.code >= 500 ? "internal_error" : "bad_request"
            let title = status.code >= 500 ? "Internal error" : "Bad request"
            return Problem(code: code, title: title, status: status, detail: status.reasonPhrase, requestID: requestID)
        }
    }
}
