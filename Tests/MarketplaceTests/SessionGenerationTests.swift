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
}
