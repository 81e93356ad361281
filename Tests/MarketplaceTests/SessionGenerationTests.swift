import Foundation
import Testing
import TradesKit
import TradesKitTesting

/// Ending sessions reaches credentials that outlive them: a principal names the session generation its credential was
/// issued in, and core refuses it once the user's generation has moved on.
@Suite("Session generations")
struct SessionGenerationTests {
    static let email = "owner@acme.example"

    /// The principal an access token minted for `session` carries.
    func principal(_ session: IdentityService.Session, _ tenant: TenantID) -> Principal {
        Principal(tenantID: tenant, user: session.user)
    }

    /// A call that needs the caller's account: succeeds while the principal's session lives.
    func me(_ test: TestMarket, _ principal: Principal) async throws -> User {
        try await test.market.users.get(by: principal, principal.userID)
    }

    @Test("logout ends every access token of the user; other sessions carry on after a refresh", arguments: StorageKind.allCases)
    func logout(_ kind: StorageKind) async throws {
        let test = try TestMarket(kind)
        defer { test.cleanup() }
        let world = try await test.makeWorld(contractors: 0)
        let tenant = world.tenant.id
        let identity = test.market.identity
        let phone = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        let laptop = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        #expect(phone.user.sessionGeneration == laptop.user.sessionGeneration)
        _ = try await me(test, principal(phone, tenant))

        try await identity.logout(in: tenant, token: phone.refreshToken)
        await expectError(.unauthenticated) { try await me(test, principal(phone, tenant)) }
        await expectError(.unauthenticated) { try await me(test, principal(laptop, tenant)) }
        // Refused on every route through core, writes included.
        await expectError(.unauthenticated) { try await test.postJob(world, by: principal(laptop, tenant)) }
        // The laptop's own session lives: its refresh answers a principal of the new generation.
        let refreshed = try await identity.refresh(in: tenant, token: laptop.refreshToken)
        #expect(refreshed.user.sessionGeneration == phone.user.sessionGeneration + 1)
        _ = try await me(test, principal(refreshed, tenant))
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: phone.refreshToken) }

        // Logging out with the already revoked token again ends nothing more.
        try await identity.logout(in: tenant, token: phone.refreshToken)
        _ = try await me(test, principal(refreshed, tenant))
        // An embedder's principal without a generation is not checked against it.
        _ = try await me(test, world.owner)
    }

    @Test("a password reset, a reused refresh token and a suspension end access tokens", arguments: StorageKind.allCases)
    func otherEnds(_ kind: StorageKind) async throws {
        let test = try TestMarket(kind)
        defer { test.cleanup() }
        let world = try await test.makeWorld(contractors: 0)
        let tenant = world.tenant.id
        let identity = test.market.identity

        // A password reset.
        let beforeReset = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        let message = try #require(test.email.sent.last)
        let range = try #require(message.text.range(of: "token="))
        let link = String(message.text[range.upperBound...].prefix { !$0.isWhitespace })
        let reset = try await identity.confirmPasswordReset(in: tenant, token: link, newPassword: "a brand new password")
        #expect(reset.sessionGeneration == beforeReset.user.sessionGeneration + 1)
        await expectError(.unauthenticated) { try await me(test, principal(beforeReset, tenant)) }

        // A reused refresh token: the thief's and the owner's access tokens both end.
        let stolen = try await identity.login(in: tenant, email: Self.email, password: "a brand new password")
        let rotated = try await identity.refresh(in: tenant, token: stolen.refreshToken)
        _ = try await me(test, principal(rotated, tenant))
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: stolen.refreshToken) }
        await expectError(.unauthenticated) { try await me(test, principal(rotated, tenant)) }

        // A suspension; reinstating does not bring the old credentials back.
        let beforeSuspension = try await identity.login(in: tenant, email: Self.email, password: "a brand new password")
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: true)
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: false)
        await expectError(.unauthenticated) { try await me(test, principal(beforeSuspension, tenant)) }
        let after = try await identity.login(in: tenant, email: Self.email, password: "a brand new password")
        #expect(after.user.sessionGeneration == beforeReset.user.sessionGeneration + 3)
        _ = try await me(test, principal(after, tenant))
    }

    @Test("a generation that moved on is refused before anything else is told", arguments: [StorageKind.sqliteMemory])
    func refusedFirst(_ kind: StorageKind) async throws {
        let test = try TestMarket(kind)
        defer { test.cleanup() }
        let world = try await test.makeWorld(contractors: 0)
        let stale = Principal(tenantID: world.tenant.id, userID: world.owner.userID, role: .homeowner, sessionGeneration: 1)
        await expectError(.unauthenticated) { try await me(test, stale) }
        // Even a principal in the wrong role learns only that its session is over.
        let wrongRole = Principal(tenantID: world.tenant.id, userID: world.owner.userID, role: .admin, sessionGeneration: 1)
        await expectError(.unauthenticated) { try await test.market.users.list(by: wrongRole) }
        let current = Principal(tenantID: world.tenant.id, userID: world.owner.userID, role: .homeowner, sessionGeneration: 0)
        _ = try await me(test, current)
    }

    @Test("turning two-factor authentication on or off ends every session and answers the caller a new one", arguments: StorageKind.allCases)
    func twoFactorChanges(_ kind: StorageKind) async throws {
        let test = try TestMarket(kind)
        defer { test.cleanup() }
        let world = try await test.makeWorld(contractors: 0)
        let tenant = world.tenant.id
        let identity = test.market.identity
        _ = try await test.market.users.markEmailVerified(in: tenant, world.owner.userID)
        // The owner on a laptop, and whoever else got the password on another machine.
        let laptop = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        let intruder = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)

        let setup = try await identity.enrollTwoFactor(by: principal(laptop, tenant), password: TestMarket.password)
        let totp = try #require(TOTP(base32Secret: setup.secret))
        let guarded = try await identity.confirmTwoFactor(by: principal(laptop, tenant), code: totp.code(at: test.clock.now()))
        #expect(guarded.user.sessionGeneration == laptop.user.sessionGeneration + 1)
        // The session opened with the password alone is over, access and refresh.
        await expectError(.unauthenticated) { try await me(test, principal(intruder, tenant)) }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: intruder.refreshToken) }
        // So is the caller's old one; the new session is the one that lives.
        await expectError(.unauthenticated) { try await me(test, principal(laptop, tenant)) }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: laptop.refreshToken) }
        _ = try await me(test, principal(guarded, tenant))
        let rotated = try await identity.refresh(in: tenant, token: guarded.refreshToken)

        // Turning it off likewise: a session opened with a code does not carry over to an account without one.
        let phone = try await identity.login(
            in: tenant, email: Self.email, password: TestMarket.password, totpCode: totp.code(at: test.clock.now().addingTimeInterval(30)))
        test.clock.advance(by: 60)
        let unguarded = try await identity.disableTwoFactor(by: principal(rotated, tenant), code: totp.code(at: test.clock.now()))
        #expect(unguarded.user.sessionGeneration == rotated.user.sessionGeneration + 1)
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: phone.refreshToken) }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: rotated.refreshToken) }
        await expectError(.unauthenticated) { try await me(test, principal(phone, tenant)) }
        _ = try await identity.refresh(in: tenant, token: unguarded.refreshToken)
    }

    @Test("a spent refresh token replayed after its family ended does not end the user's sessions again", arguments: StorageKind.allCases)
    func replayedReuse(_ kind: StorageKind) async throws {
        let test = try TestMarket(kind)
        defer { test.cleanup() }
        let world = try await test.makeWorld(contractors: 0)
        let tenant = world.tenant.id
        let identity = test.market.identity
        let first = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        _ = try await identity.refresh(in: tenant, token: first.refreshToken)
        // The first reuse ends every session: the token was copied.
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: first.refreshToken) }
        let afterReuse = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        #expect(afterReuse.user.sessionGeneration == first.user.sessionGeneration + 1)
        // Replaying it again is still refused, but signs nobody out: its family had ended already.
        for _ in 0..<3 { await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: first.refreshToken) } }
        _ = try await me(test, principal(afterReuse, tenant))
        let next = try await identity.refresh(in: tenant, token: afterReuse.refreshToken)
        #expect(next.user.sessionGeneration == afterReuse.user.sessionGeneration)
    }

    @Test("a suspension spends the links e-mailed before it: reinstating does not revive them", arguments: StorageKind.allCases)
    func suspensionSpendsLinks(_ kind: StorageKind) async throws {
        let test = try TestMarket(kind)
        defer { test.cleanup() }
        let world = try await test.makeWorld(contractors: 0)
        let tenant = world.tenant.id
        let identity = test.market.identity
        try await test.setEmailVerified(false, world.owner)
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        let reset = try #require(test.email.sent.last.flatMap { Self.token(in: $0.text) })
        try await identity.requestEmailVerification(in: tenant, user: world.owner.userID)
        let verification = try #require(test.email.sent.last.flatMap { Self.token(in: $0.text) })
        #expect(reset != verification)

        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: true)
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: false)
        await expectError(.invalidToken) { try await identity.confirmPasswordReset(in: tenant, token: reset, newPassword: "a password set later") }
        await expectError(.invalidToken) { try await identity.verifyEmail(in: tenant, token: verification) }
        #expect(try await test.storage.tenant(tenant).user(world.owner.userID)?.emailVerified == false)
        _ = try await test.market.users.markEmailVerified(in: tenant, world.owner.userID)
        _ = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        // A link sent after reinstating works.
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        let fresh = try #require(test.email.sent.last.flatMap { Self.token(in: $0.text) })
        _ = try await identity.confirmPasswordReset(in: tenant, token: fresh, newPassword: "a password set later")
    }

    /// The token of a link in an e-mail's text.
    static func token(in text: String) -> String? {
        guard let range = text.range(of: "token=") else { return nil }
        return String(text[range.upperBound...].prefix { !$0.isWhitespace })
    }
}
