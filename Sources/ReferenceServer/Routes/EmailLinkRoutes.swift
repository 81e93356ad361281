import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TradesKit

/// E-mail verification and password reset: the routes that send single-use links and the ones that spend them.
///
/// The links point at the client's own pages (``TradesKit/IdentityConfiguration/verificationLinkBase`` and
/// ``TradesKit/IdentityConfiguration/passwordResetLinkBase``), which post the token from the link here.
enum EmailLinkRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/auth/verify-email", id: "verifyEmail", "Verify an e-mail address with the token of its link", tag: "Auth",
                    access: .tenant, body: "LinkToken", status: 204, response: nil, problems: [403])
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let token = body.token("token")
                try body.finish()
                guard let token else { throw ServerError(.badRequest, "Incomplete input") }
                _ = try await call.market.identity.verifyEmail(in: tenant.id, token: token)
                return Response(status: .noContent)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/verify-email/resend", id: "resendVerificationEmail",
                    "E-mail the caller a new verification link (nothing is sent once the address is verified)", tag: "Auth", access: .user,
                    status: 202, response: nil)
            ) { call in
                let principal = try call.principal()
                let tenant = try call.tenant()
                let policies = tenant.settings.policies
                // Each request sends an e-mail: as few per window as login attempts.
                try call.services.limiter.enforce(
                    "verification:\(tenant.id):\(principal.userID)", limit: policies.loginAttemptsPerWindow,
                    windowSeconds: policies.rateLimitWindowSeconds)
                try await call.market.identity.requestEmailVerification(by: principal)
                return Response(status: .accepted)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/password-reset", id: "requestPasswordReset",
                    "E-mail a password reset link if the address has an account; the answer is the same either way", tag: "Auth",
                    access: .tenant, body: "PasswordResetRequest", status: 202, response: nil)
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let email = body.string("email", maxLength: 254)
                try body.finish()
                guard let email else { throw ServerError(.badRequest, "Incomplete input") }
                // Malformed input is refused whoever asks; a well-formed address gets 202 whether or not it has an account.
                let address = try EmailAddress(email)
                let policies = tenant.settings.policies
                try call.services.limiter.enforce(
                    "reset:\(tenant.id):\(address.normalized):\(call.context.clientAddress)", limit: policies.loginAttemptsPerWindow,
                    windowSeconds: policies.rateLimitWindowSeconds)
                // And per address from anywhere, so that many clients cannot flood one mailbox. Existing or not, every
                // address is counted alike: the limit tells nothing about accounts.
                try call.services.limiter.enforce(
                    "reset:\(tenant.id):\(address.normalized)", limit: policies.loginAttemptsPerWindow,
                    windowSeconds: policies.rateLimitWindowSeconds)
                // Answered before the work is done: only an existing account costs an insert and a send, and the time
                // of the answer must not tell which addresses have one.
                let identity = call.market.identity
                let logger = call.context.logger
                call.services.background.start {
                    do {
                        try await identity.requestPasswordReset(in: tenant.id, email: address.value)
                    } catch {
                        logger.warning(
                            "A password reset request failed",
                            metadata: ["tradeskit.tenant": "\(tenant.id)", "tradeskit.error_code": "\(AuthRoutes.errorCode(error))"])
                    }
                }
                return Response(status: .accepted)
            },
            Route(
                RouteSpec(
                    .post, "/v1/auth/password-reset/confirm", id: "confirmPasswordReset",
                    "Set a new password with the token of a reset link; ends every session of the account", tag: "Auth", access: .tenant,
                    body: "PasswordResetConfirmation", status: 204, response: nil, problems: [403])
            ) { call in
                let tenant = try call.tenant()
                let body = try await call.body()
                let token = body.token("token")
                let newPassword = body.string("newPassword", maxLength: 1_000)
                try body.finish()
                guard let token, let newPassword else { throw ServerError(.badRequest, "Incomplete input") }
                _ = try await call.market.identity.confirmPasswordReset(in: tenant.id, token: token, newPassword: newPassword)
                return Response(status: .noContent)
            },
        ]
    }
}
