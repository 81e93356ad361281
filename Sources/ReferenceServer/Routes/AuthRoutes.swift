import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import TradesKit

/// Registration and sessions: login, refresh and logout over core's ``TradesKit/IdentityService``.
///
/// Access tokens come from ``TokenAuthority``; refresh tokens are core's opaque, rotating tokens. The routes of e-mailed
/// links are in ``EmailLinkRoutes``, second factors in ``TwoFactorRoutes``.
enum AuthRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/auth/register", id: "register",
                    "Register a homeowner or contractor, then sign in; the answer is the same whether or not the address has an account",
                    tag: "Auth", access: .tenant, body: "Registration", status: 202, response: nil, problems: [403])
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let email = body.string("email", maxLength: 254)
                let password = body.string("password", maxLength: 1_000)
                let displayName = body.string("displayName", maxLength: 1_000)
                let phone = body.optionalString("phone", maxLength: 40).value
                // Nobody registers as an admin: the role is refused like any value outside the schema's enumeration.
                let role = body.enumeration("role", as: Role.self, among: [.homeowner, .contractor])
                if role == nil, let email, let password, let displayName {
                    // Refused for its role: the other fields' problems, which core would list, come in the same answer.
                    let others = UserService.Registration(email: email, password: password, displayName: displayName, phone: phone, role: .homeowner)
                    for error in others.fieldErrors { body.fail(error.field, error.code, error.message) }
                }
                try body.finish()
                guard let email, let password, let displayName, let role else { throw ServerError(.badRequest, "Incomplete input") }
                // Each registration e-mails the address (a link, or a notice that it has an account): as few per window
                // and address as login attempts.
                let policies = tenant.settings.policies
                try call.services.limiter.enforce(
                    "register:\(tenant.id):\(email.trimmingCharacters(in: .whitespaces).lowercased())", limit: policies.loginAttemptsPerWindow,
                    windowSeconds: policies.rateLimitWindowSeconds)
                // A taken address is not told apart from a new one (no enumeration): its owner gets a notice instead of a
                // link. The client signs in once the address is confirmed; before, sign-in answers 401 as for a wrong
                // password or an unknown address. The e-mail goes out after the answer, whose time then tells nothing.
                let delivery = try await call.market.identity.signUpDeferringDelivery(
                    in: tenant.id, .init(email: email, password: password, displayName: displayName, phone: phone, role: role))
                call.services.background.start { await delivery.send() }
                return Response(status: .accepted)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/login", id: "login", "Log in with e-mail and password, and a TOTP code when two-factor is on",
                    tag: "Auth", access: .tenant, body: "Login", response: "TokenPair", problems: [403])
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let email = body.string("email", maxLength: 254)
                let password = body.string("password", maxLength: 1_000)
                let totpCode = body.optionalCode("totpCode", digits: TwoFactorRoutes.digits).value
                try body.finish()
                guard let email, let password else { throw ServerError(.badRequest, "Incomplete input") }
                let policies = tenant.settings.policies
                try call.services.limiter.enforce(
                    "login:\(tenant.id):\(email.trimmingCharacters(in: .whitespaces).lowercased()):\(call.context.clientAddress)",
                    limit: policies.loginAttemptsPerWindow, windowSeconds: policies.rateLimitWindowSeconds)
                // Core answers an unknown address and a wrong password alike (same error, same hashing work) and locks
                // an account key after repeated failures (`account_locked`, 429 with Retry-After).
                let session = try await call.market.identity.login(in: tenant.id, email: email, password: password, totpCode: totpCode)
                return try await tokenPair(session, tenant: tenant, call)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/refresh", id: "refresh", "Exchange a refresh token for new tokens; a reused one ends its session",
                    tag: "Auth", access: .tenant, body: "RefreshTokenInput", response: "TokenPair", problems: [403])
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let refreshToken = body.token("refreshToken")
                try body.finish()
                guard let refreshToken else { throw ServerError(.badRequest, "Incomplete input") }
                // Another tenant's token is unknown here: 401 like any other.
                let session = try await call.market.identity.refresh(in: tenant.id, token: refreshToken)
                return try await tokenPair(session, tenant: tenant, call)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/logout", id: "logout", "End the session of a refresh token (every token of its family)", tag: "Auth",
                    access: .tenant, body: "RefreshTokenInput", status: 204, response: nil)
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let refreshToken = body.token("refreshToken")
                try body.finish()
                guard let refreshToken else { throw ServerError(.badRequest, "Incomplete input") }
                // An unknown or spent token has no session to end: the same 204, so the answer tells nothing.
                try await call.market.identity.logout(in: tenant.id, token: refreshToken)
                return Response(status: .noContent)
            },
        ]
    }

    /// The answer to a login or refresh: a new access token for the session's user, and the session's refresh token.
    /// The answer of a route that opens a session: a new access token and the session's refresh token.
    static func tokenPair(_ session: IdentityService.Session, tenant: Tenant, _ call: Call) async throws -> Response {
        let access = try await call.services.tokens.issue(for: Principal(tenantID: tenant.id, user: session.user))
        return try call.json(TokenResponse(access, refreshToken: session.refreshToken))
    }

    /// A stable name for why a side effect failed, for logs: core's code, or the error's type (never its text).
    static func errorCode(_ error: any Error) -> String {
        (error as? TradesKitError)?.code.rawValue ?? String(reflecting: type(of: error))
    }
}
