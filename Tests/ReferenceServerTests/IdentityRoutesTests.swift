import Foundation
import HTTPTypes
@testable import ReferenceServer
import NIOConcurrencyHelpers
import TestSupport
import Testing
import TradesKit
import TradesKitTesting

/// Sessions, e-mailed links, lockout and two-factor authentication over HTTP (core's `IdentityService`), every answer
/// checked against the OpenAPI document.
@Suite("Identity routes")
struct IdentityRoutesTests {
    static let newPassword = "a brand new passphrase"

    @Test("Register, verify by the e-mailed link, log in, refresh, reuse of a spent refresh token ends the session, log out")
    func wholeFlow() async throws {
        let harness = try await TestServer()
        _ = try await harness.world()
        try await harness.test { api async throws in
            let email = "new@acme.example.com"
            let registered = try await api.call(
                .post, "/v1/auth/register", tenant: "acme",
                json: ["email": .string(email), "password": .string(TestServer.password), "displayName": "New", "role": "homeowner"])
            #expect(registered.status == .accepted && registered.body.isEmpty, "\(registered)")

            // Registration e-mailed a link to the client's verification page, after answering.
            let message = try #require(await Self.emails(harness).last)
            #expect(message.to.value == email && message.from.value == "hello@acme.example.com")
            let link = try #require(Self.link(in: message))
            #expect(link.hasPrefix("https://app.example.com/verify-email?token="))
            let token = try #require(Self.token(in: message))
            // Until the address is confirmed, the right password answers as a wrong one: signing in after registering
            // tells nothing about whether the address had an account.
            let early = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(email), "password": .string(TestServer.password)])
            let wrong = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: ["email": .string(email), "password": "not the password"])
            #expect(early.status == .unauthorized && early.problemCode == "unauthenticated", "\(early)")
            #expect(early.status == wrong.status && early["detail"] == wrong["detail"] && early["detail"] != nil, "\(early) vs \(wrong)")
            let verified = try await api.call(.post, "/v1/auth/verify-email", tenant: "acme", json: ["token": .string(token)])
            #expect(verified.status == .noContent, "\(verified)")
            let again = try await api.call(.post, "/v1/auth/verify-email", tenant: "acme", json: ["token": .string(token)])
            #expect(again.status == .forbidden && again.problemCode == "invalid_token", "single use: \(again)")

            // Registering a taken address answers the same; its owner is told by e-mail, and nothing changes.
            let sent = harness.emails.sent.count
            let taken = try await api.call(
                .post, "/v1/auth/register", tenant: "acme",
                json: ["email": "NEW@acme.example.com", "password": "an attacker's password", "displayName": "Mallory", "role": "contractor"])
            #expect(taken.status == .accepted && taken.body == registered.body, "\(taken)")
            #expect(await Self.emails(harness).count == sent + 1)
            let notice = try #require(harness.emails.sent.last)
            #expect(notice.to.value == email && notice.text.contains("already has") && Self.link(in: notice) == nil)
            let refused = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(email), "password": "an attacker's password"])
            #expect(refused.status == .unauthorized, "\(refused)")

            let first = try await Self.login(api, email, TestServer.password)
            #expect(first["expiresIn"] == 900 && first["tokenType"] == "Bearer")
            let me = try await api.call(.get, "/v1/me", token: first.string("accessToken"))
            #expect(me["emailVerified"] == true, "\(me)")

            // Rotation: the new pair works, the spent refresh token does not.
            let spent = try #require(first.string("refreshToken"))
            let second = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(spent)])
            #expect(second.status == .ok, "\(second)")
            let newer = try #require(second.string("refreshToken"))
            #expect(newer != spent)
            #expect(try await api.call(.get, "/v1/me", token: second.string("accessToken")).status == .ok)

            // Presenting the spent token again (a thief's copy) revokes the family: the newer token stops working too.
            let reused = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(spent)])
            #expect(reused.status == .unauthorized && reused.problemCode == "unauthenticated", "\(reused)")
            let sibling = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(newer)])
            #expect(sibling.status == .unauthorized && sibling.problemCode == "unauthenticated", "\(sibling)")

            // Logout ends a session; answering the same whatever the token.
            let third = try await Self.login(api, email, TestServer.password)
            let live = try #require(third.string("refreshToken"))
            #expect(try await api.call(.post, "/v1/auth/logout", tenant: "acme", json: ["refreshToken": .string(live)]).status == .noContent)
            #expect(try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(live)]).status == .unauthorized)
            #expect(try await api.call(.post, "/v1/auth/logout", tenant: "acme", json: ["refreshToken": .string(live)]).status == .noContent)
            let malformed = try await api.call(.post, "/v1/auth/logout", tenant: "acme", json: ["refreshToken": "not a token!"])
            #expect(malformed.status == .unprocessableContent && malformed.fieldErrors == ["refreshToken"], "\(malformed)")
        }
    }

    @Test("A refresh token expires after 7 days; a verification link after 48 hours")
    func expiry() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            let pair = try await Self.login(api, world.owner.email, TestServer.password)
            harness.clock.advance(by: 7 * 86_400)
            let late = try await api.call(
                .post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(pair.string("refreshToken") ?? "")])
            #expect(late.status == .unauthorized, "\(late)")

            // The world's access tokens expired with the clock: a fresh one asks for a new verification link (for an
            // address not confirmed yet: the session is older than the rule that sign-in needs one).
            try await harness.setEmailVerified(false, world.owner)
            let token = try await harness.server.tokens.issue(for: world.owner.principal).token
            let resent = try await api.call(.post, "/v1/auth/verify-email/resend", token: token)
            #expect(resent.status == .accepted && resent.body.isEmpty, "\(resent)")
            let link = try #require(harness.emails.sent.last.flatMap(Self.token(in:)))
            harness.clock.advance(by: 48 * 3_600)
            let expired = try await api.call(.post, "/v1/auth/verify-email", tenant: "acme", json: ["token": .string(link)])
            #expect(expired.status == .forbidden && expired.problemCode == "invalid_token", "\(expired)")
        }
    }

    @Test("Password reset: known and unknown addresses answer alike; the link sets a password once, within an hour, and ends sessions")
    func passwordReset() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let before = harness.emails.sent.count
        try await harness.test { api async throws in
            let session = try await Self.login(api, world.owner.email, TestServer.password)
            var sameID = HTTPFields()
            sameID[.requestID] = "reset-probe"
            let known = try await api.call(
                .post, "/v1/auth/password-reset", tenant: "acme", json: ["email": .string(world.owner.email)], headers: sameID)
            let unknown = try await api.call(
                .post, "/v1/auth/password-reset", tenant: "acme", json: ["email": "nobody@acme.example.com"], headers: sameID)
            #expect(known.status == .accepted && unknown.status == .accepted)
            #expect(known.body == unknown.body && known.body.isEmpty)
            #expect(Self.comparable(known.headers) == Self.comparable(unknown.headers))
            let malformed = try await api.call(.post, "/v1/auth/password-reset", tenant: "acme", json: ["email": "not an address"])
            #expect(malformed.status == .unprocessableContent && malformed.fieldErrors == ["email"], "\(malformed)")

            // The e-mail goes out after the answer; only the known address gets one.
            let sent = await Self.emails(harness)
            #expect(sent.count == before + 1 && sent.last?.to.value == world.owner.email)
            let token = try #require(sent.last.flatMap(Self.token(in:)))
            #expect(sent.last.flatMap(Self.link(in:))?.hasPrefix("https://app.example.com/reset-password?token=") == true)

            let weak = try await api.call(
                .post, "/v1/auth/password-reset/confirm", tenant: "acme", json: ["token": .string(token), "newPassword": "short"])
            #expect(weak.status == .unprocessableContent && weak.fieldErrors == ["newPassword"], "\(weak)")
            let confirmed = try await api.call(
                .post, "/v1/auth/password-reset/confirm", tenant: "acme", json: ["token": .string(token), "newPassword": .string(Self.newPassword)])
            #expect(confirmed.status == .noContent, "\(confirmed)")
            let reused = try await api.call(
                .post, "/v1/auth/password-reset/confirm", tenant: "acme", json: ["token": .string(token), "newPassword": "another new passphrase"])
            #expect(reused.status == .forbidden && reused.problemCode == "invalid_token", "\(reused)")

            // Every session of the account ended; the new password works, the old one does not.
            let refreshed = try await api.call(
                .post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(session.string("refreshToken") ?? "")])
            #expect(refreshed.status == .unauthorized, "\(refreshed)")
            let old = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(world.owner.email), "password": .string(TestServer.password)])
            #expect(old.status == .unauthorized)
            _ = try await Self.login(api, world.owner.email, Self.newPassword)

            // A link older than an hour is refused.
            _ = try await api.call(.post, "/v1/auth/password-reset", tenant: "acme", json: ["email": .string(world.owner.email)])
            let late = try #require(await Self.emails(harness).last.flatMap(Self.token(in:)))
            harness.clock.advance(by: 3_600)
            let expired = try await api.call(
                .post, "/v1/auth/password-reset/confirm", tenant: "acme", json: ["token": .string(late), "newPassword": "yet another passphrase"])
            #expect(expired.status == .forbidden && expired.problemCode == "invalid_token", "\(expired)")
        }
    }

    @Test("An unknown address and a wrong password get the same status, type and body, for the same hashing work")
    func sameAnswer() async throws {
        let hasher = CountingPasswordHasher()
        let harness = try await TestServer(passwordHasher: hasher)
        let world = try await harness.world()
        try await harness.test { api async throws in
            var sameID = HTTPFields()
            sameID[.requestID] = "login-probe"
            hasher.reset()
            let wrong = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(world.owner.email), "password": "not the password"],
                headers: sameID)
            let wrongWork = hasher.verifications
            hasher.reset()
            let unknown = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": "nobody@acme.example.com", "password": "not the password"],
                headers: sameID)
            #expect(wrong.status == .unauthorized && wrong.problemCode == "unauthenticated", "\(wrong)")
            #expect(wrong.status == unknown.status && wrong.body == unknown.body, "\(wrong) vs \(unknown)")
            #expect(Self.comparable(wrong.headers) == Self.comparable(unknown.headers))
            #expect(wrongWork == 1 && hasher.verifications == 1, "both verify one hash")
        }
    }

    @Test("Lockout: after the policy's failures 429 account_locked with Retry-After and RateLimit-*; then a correct login goes through")
    func lockout() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let policy = LockoutPolicy()
        try await harness.test { api async throws in
            let wrong: JSONValue = ["email": .string(world.owner.email), "password": "not the password"]
            for attempt in 1...policy.threshold {
                let answer = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: wrong)
                #expect(answer.status == .unauthorized, "attempt \(attempt): \(answer)")
            }
            // Locked: even the right password waits, and the answer says how long.
            let right: JSONValue = ["email": .string(world.owner.email), "password": .string(TestServer.password)]
            let locked = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: right)
            #expect(locked.status == .tooManyRequests && locked.problemCode == "account_locked", "\(locked)")
            #expect(locked.headers[.retryAfter] == String(Int(policy.initialDelay)))
            // The RateLimit-* headers of every other 429: the threshold, nothing left, and the lock's end.
            #expect(locked.headers[.rateLimitLimit] == String(policy.threshold))
            #expect(locked.headers[.rateLimitRemaining] == "0")
            #expect(locked.headers[.rateLimitReset] == String(Int(policy.initialDelay)))
            harness.clock.advance(by: policy.initialDelay - 20.5)
            #expect(try await api.call(.post, "/v1/auth/login", tenant: "acme", json: right).headers[.retryAfter] == "21")
            harness.clock.advance(by: 20.5)
            let through = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: right)
            #expect(through.status == .ok, "\(through)")

            // An address without an account locks the same way.
            let nobody: JSONValue = ["email": "nobody@acme.example.com", "password": "not the password"]
            for _ in 1...policy.threshold { _ = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: nobody) }
            let lockedToo = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: nobody)
            #expect(lockedToo.status == .tooManyRequests && lockedToo.problemCode == "account_locked", "\(lockedToo)")
        }
    }

    @Test("Two-factor: enrol, confirm, login asks for a code, a replayed code is refused, disable")
    func twoFactor() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let owner = world.owner
        try await harness.test { api async throws in
            // The password is confirmed: a session alone cannot enrol an authenticator.
            let noPassword = try await api.call(.post, "/v1/auth/2fa/enroll", as: owner, json: [:])
            #expect(noPassword.status == .unprocessableContent && noPassword.fieldErrors == ["password"], "\(noPassword)")
            let wrongPassword = try await api.call(.post, "/v1/auth/2fa/enroll", as: owner, json: ["password": "not the password"])
            #expect(wrongPassword.status == .forbidden && wrongPassword.problemCode == "wrong_password", "\(wrongPassword)")
            #expect(wrongPassword.string("otpauthUri") == nil)
            // An address nobody has proved cannot enrol (a reset by the mailbox's owner would remove the authenticator).
            try await harness.setEmailVerified(false, owner)
            let unverified = try await api.call(.post, "/v1/auth/2fa/enroll", as: owner, json: ["password": .string(TestServer.password)])
            #expect(unverified.status == .forbidden && unverified.problemCode == "forbidden", "\(unverified)")
            _ = try await harness.market.users.markEmailVerified(in: world.tenant.id, owner.id)
            let setup = try await api.call(.post, "/v1/auth/2fa/enroll", as: owner, json: ["password": .string(TestServer.password)])
            #expect(setup.status == .ok, "\(setup)")
            #expect(setup.string("otpauthUri")?.hasPrefix("otpauth://totp/acme:") == true)
            let totp = try #require(setup.string("secret").flatMap { TOTP(base32Secret: $0) })
            func code() -> String { totp.code(at: harness.clock.now()) }
            let wrongCode = totp.codeNotAccepted(at: harness.clock.now())

            // Not on until confirmed: login needs no code yet.
            _ = try await Self.login(api, owner.email, TestServer.password)
            let refused = try await api.call(.post, "/v1/auth/2fa/confirm", as: owner, json: ["code": .string(wrongCode)])
            #expect(refused.status == .forbidden && refused.problemCode == "invalid_two_factor_code", "\(refused)")
            let malformed = try await api.call(.post, "/v1/auth/2fa/confirm", as: owner, json: ["code": "12ab56"])
            #expect(malformed.status == .unprocessableContent && malformed.fieldErrors == ["code"], "\(malformed)")
            let confirmCode = code()
            let confirmed = try await api.call(.post, "/v1/auth/2fa/confirm", as: owner, json: ["code": .string(confirmCode)])
            #expect(confirmed.status == .ok && confirmed.string("refreshToken") != nil, "\(confirmed)")
            // Every session ended with the change, the caller's too: the answer is the caller's new one.
            #expect(try await api.call(.get, "/v1/me", as: owner).status == .unauthorized)
            let guarded = try #require(confirmed.string("accessToken"))
            #expect(try await api.call(.get, "/v1/me", token: guarded).status == .ok)
            #expect(
                try await api.call(.post, "/v1/auth/2fa/enroll", token: guarded, json: ["password": .string(TestServer.password)]).status == .conflict
            )

            // Login: the password alone is not enough, and the code used to confirm cannot be replayed.
            let credentials: [String: JSONValue] = ["email": .string(owner.email), "password": .string(TestServer.password)]
            let challenged = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: .object(credentials))
            #expect(challenged.status == .unauthorized && challenged.problemCode == "two_factor_required", "\(challenged)")
            #expect(challenged["type"] == "urn:tradeskit:problem:two_factor_required")
            var replay = credentials
            replay["totpCode"] = .string(confirmCode)
            let replayed = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: .object(replay))
            #expect(replayed.status == .forbidden && replayed.problemCode == "invalid_two_factor_code", "\(replayed)")
            harness.clock.advance(by: 30)
            var fresh = credentials
            fresh["totpCode"] = .string(code())
            let loggedIn = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: .object(fresh))
            #expect(loggedIn.status == .ok, "\(loggedIn)")
            let again = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: .object(fresh))
            #expect(again.status == .forbidden && again.problemCode == "invalid_two_factor_code", "the same code twice: \(again)")

            // Disable needs a current, unused code.
            let token = try #require(loggedIn.string("accessToken"))
            let stale = try await api.call(.post, "/v1/auth/2fa/disable", token: token, json: ["code": fresh["totpCode"] ?? .null])
            #expect(stale.status == .forbidden, "\(stale)")
            harness.clock.advance(by: 30)
            let disabled = try await api.call(.post, "/v1/auth/2fa/disable", token: token, json: ["code": .string(code())])
            #expect(disabled.status == .ok && disabled.string("refreshToken") != nil, "\(disabled)")
            #expect(try await api.call(.get, "/v1/me", token: token).status == .unauthorized)
            #expect(try await api.call(.get, "/v1/me", token: guarded).status == .unauthorized)
            let unguarded = try #require(disabled.string("accessToken"))
            #expect(try await api.call(.post, "/v1/auth/2fa/disable", token: unguarded, json: ["code": .string(code())]).status == .conflict)
            _ = try await Self.login(api, owner.email, TestServer.password)
        }
    }

    @Test("A refresh token of tenant A is unknown on tenant B, and stays valid on A")
    func otherTenant() async throws {
        let harness = try await TestServer()
        let acme = try await harness.world(slug: "acme")
        _ = try await harness.world(slug: "globex")
        try await harness.test { api async throws in
            let pair = try await Self.login(api, acme.owner.email, TestServer.password)
            let refreshToken = try #require(pair.string("refreshToken"))
            let foreign = try await api.call(.post, "/v1/auth/refresh", tenant: "globex", json: ["refreshToken": .string(refreshToken)])
            #expect(foreign.status == .unauthorized && foreign.problemCode == "unauthenticated", "\(foreign)")
            let home = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(refreshToken)])
            #expect(home.status == .ok, "\(home)")
        }
    }

    @Test("Tokens and links never reach the log")
    func nothingSecretLogged() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            let pair = try await Self.login(api, world.owner.email, TestServer.password)
            let refreshToken = try #require(pair.string("refreshToken"))
            _ = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(refreshToken)])
            _ = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(refreshToken)])
            _ = try await api.call(.post, "/v1/auth/password-reset", tenant: "acme", json: ["email": .string(world.owner.email)])
            let link = try #require(await Self.emails(harness).last.flatMap(Self.token(in:)))
            let logged = harness.logs.all.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
            for secret in [refreshToken, link, world.owner.email, pair.string("accessToken") ?? ""] {
                #expect(!logged.contains(secret))
            }
        }
    }

    // MARK: Helpers

    /// Logs in, expecting success.
    static func login(_ api: API, _ email: String, _ password: String) async throws -> APIResponse {
        let response = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: ["email": .string(email), "password": .string(password)])
        #expect(response.status == .ok, "\(response)")
        return response
    }

    /// The link of an identity e-mail: its line that is a URL.
    static func link(in message: EmailMessage) -> String? {
        message.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("https://") }
    }

    /// The `token` query parameter of the e-mail's link.
    static func token(in message: EmailMessage) -> String? {
        link(in: message).flatMap { URLComponents(string: $0)?.queryItems?.first { $0.name == "token" }?.value }
    }

    /// The e-mails sent, once the work the answers started has finished (an e-mail is sent after its answer).
    static func emails(_ harness: TestServer) async -> [EmailMessage] {
        await harness.server.services.background.drained()
        return harness.emails.sent
    }

    /// Header names and values, without the ones that differ between any two answers.
    static func comparable(_ headers: HTTPFields) -> [String] {
        headers.filter { $0.name != .date }.map { "\($0.name): \($0.value)" }.sorted()
    }
}

/// A ``TradesKit/PasswordHasher`` that counts verifications: the work a login does, whatever its outcome.
final class CountingPasswordHasher: PasswordHasher {
    private let inner = MemoryPasswordHasher()
    private let count = NIOLockedValueBox(0)

    var verifications: Int { count.withLockedValue { $0 } }
    func reset() { count.withLockedValue { $0 = 0 } }

    func hash(_ password: String) async throws -> String { try await inner.hash(password) }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        count.withLockedValue { $0 += 1 }
        return try await inner.verify(password, against: hash)
    }
}
