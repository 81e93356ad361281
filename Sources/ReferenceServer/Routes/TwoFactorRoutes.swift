import Foundation
import HTTPTypes
import Hummingbird
import TradesKit

/// TOTP two-factor authentication of the caller: enrol with the password, confirm with a first code, disable with a
/// current one.
///
/// Once confirmed, `/v1/auth/login` answers `two_factor_required` until the client sends `totpCode` as well.
enum TwoFactorRoutes {
    /// The digits of a code (core's ``TradesKit/TOTP`` default, which authenticator apps expect).
    static let digits = 6

    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/auth/2fa/enroll", id: "enrollTwoFactor",
                    "Start two-factor enrolment, confirming the password: a new TOTP secret for an authenticator app (again until confirmed)",
                    tag: "Auth", access: .user, body: "PasswordConfirmation", response: "TwoFactorSetup", problems: [409])
            ) { call in
                let principal = try call.principal()
                let body = try await call.body()
                let password = body.string("password", maxLength: 1_000)
                try body.finish()
                guard let password else { throw ServerError(.badRequest, "Incomplete input") }
                // A wrong password (`wrong_password`, 403) counts towards the login lockout of the caller's address.
                let setup = try await call.market.identity.enrollTwoFactor(by: principal, password: password)
                return try call.json(TwoFactorSetupResponse(setup))
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/2fa/confirm", id: "confirmTwoFactor",
                    "Turn two-factor authentication on with a first code; every session ends, and the answer is the caller's new one",
                    tag: "Auth", access: .user, body: "TwoFactorCode", response: "TokenPair", problems: [409])
            ) { call in
                let principal = try call.principal()
                let code = try await readCode(call)
                let session = try await call.market.identity.confirmTwoFactor(by: principal, code: code)
                return try await AuthRoutes.tokenPair(session, tenant: call.tenant(), call)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/2fa/disable", id: "disableTwoFactor",
                    "Turn two-factor authentication off with a current code; every session ends, and the answer is the caller's new one",
                    tag: "Auth", access: .user, body: "TwoFactorCode", response: "TokenPair", problems: [409])
            ) { call in
                let principal = try call.principal()
                let code = try await readCode(call)
                // Wrong codes count towards the login lockout of the caller's address (`account_locked`, 429).
                let session = try await call.market.identity.disableTwoFactor(by: principal, code: code)
                return try await AuthRoutes.tokenPair(session, tenant: call.tenant(), call)
            },
        ]
    }

    /// The `code` of a `TwoFactorCode` body.
    private static func readCode(_ call: Call) async throws -> String {
        let body = try await call.body()
        let code = body.code("code", digits: digits)
        try body.finish()
        guard let code else { throw ServerError(.badRequest, "Incomplete input") }
        return code
    }
}
