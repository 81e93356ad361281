import Foundation
public import HTTPTypes

extension HTTPField.Name {
    /// `X-Request-Id`: the request's id, accepted from the client when well-formed and always answered.
    public static var requestID: Self { literal("X-Request-Id") }
    /// `X-Tenant`: the tenant slug for routes without an access token (shared mode).
    public static var tenant: Self { literal("X-Tenant") }
    /// `X-Forwarded-For`, read only when a trusted proxy sets it.
    static var forwardedFor: Self { literal("X-Forwarded-For") }
    /// `RateLimit-Limit` (draft-ietf-httpapi-ratelimit-headers).
    public static var rateLimitLimit: Self { literal("RateLimit-Limit") }
    /// `RateLimit-Remaining`.
    public static var rateLimitRemaining: Self { literal("RateLimit-Remaining") }
    /// `RateLimit-Reset`: seconds until the window resets.
    public static var rateLimitReset: Self { literal("RateLimit-Reset") }
    /// `Referrer-Policy`.
    static var referrerPolicy: Self { literal("Referrer-Policy") }
    /// `X-Frame-Options`.
    static var frameOptions: Self { literal("X-Frame-Options") }
    /// `X-Content-Type-Options`.
    static var contentTypeOptions: Self { literal("X-Content-Type-Options") }
    /// `Cross-Origin-Resource-Policy`.
    static var crossOriginResourcePolicy: Self { literal("Cross-Origin-Resource-Policy") }

    /// A field name written in this file; every one above is a valid token, so this cannot fail.
    private static func literal(_ name: String) -> Self {
        guard let field = Self(name) else { preconditionFailure("'\(name)' is not a valid HTTP field name") }
        return field
    }
}
