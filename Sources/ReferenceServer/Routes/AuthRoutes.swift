import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// Registration and login.
///
/// Access tokens come from ``TokenAuthority``; refresh, logout, e-mail verification, password reset and TOTP are the
/// identity service's, and join this list when it is wired in.
enum AuthRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/auth/register", id: "register", "Register a homeowner or contractor", tag: "Auth", access: .tenant,
                    body: "Registration", status: 201, response: "RegistrationResult", problems: [403, 409])
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let email = body.string("email", maxLength: 254)
                let password = body.string("password", maxLength: 1_000)
                let displayName = body.string("displayName", maxLength: 1_000)
                let phone = body.optionalString("phone", maxLength: 40).value
                let role = body.enumeration("role", as: Role.self)
                try body.finish()
                guard let email, let password, let displayName, let role else { throw ServerError(.badRequest, "Incomplete input") }
                let user = try await call.market.users.register(
                    in: tenant.id, .init(email: email, password: password, displayName: displayName, phone: phone, role: role))
                let token = try await call.services.tokens.issue(for: Principal(tenantID: tenant.id, userID: user.id, role: user.role))
                return try call.json(
                    RegistrationResponse(user: AccountResponse(user), accessToken: token.token, expiresIn: token.expiresIn), status: .created)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/login", id: "login", "Log in with e-mail and password", tag: "Auth", access: .tenant, body: "Login",
                    response: "TokenPair", problems: [403])
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let email = body.string("email", maxLength: 254)
                let password = body.string("password", maxLength: 1_000)
                try body.finish()
                guard let email, let password else { throw ServerError(.badRequest, "Incomplete input") }
                let policies = tenant.settings.policies
                try call.services.limiter.enforce(
                    "login:\(tenant.id):\(email.trimmingCharacters(in: .whitespaces).lowercased()):\(call.context.clientAddress)",
                    limit: policies.loginAttemptsPerWindow, windowSeconds: policies.rateLimitWindowSeconds)
                guard let user = try await call.market.users.authenticate(in: tenant.id, email: email, password: password) else {
                    throw ServerError(.unauthenticated, "The e-mail address or the password is wrong")
                }
                let token = try await call.services.tokens.issue(for: Principal(tenantID: tenant.id, userID: user.id, role: user.role))
                return try call.json(TokenResponse(token))
            },
        ]
    }
}
