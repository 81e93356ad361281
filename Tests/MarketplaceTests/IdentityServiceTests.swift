import Foundation
import StorageSQLite
import TestSupport
import Testing
import TradesKit
import TradesKitTesting

/// The identity service on every storage kind, with a manual clock: sessions, links, lockout and two-factor codes.
@Suite("Identity")
struct IdentityServiceTests {
    static let email = "owner@acme.example"

    /// A market with one tenant; its homeowner signs in with `email` and ``TestMarket/password``. Without `verified`, the
    /// addresses of both homeowners are not confirmed yet (they cannot sign in, and get verification e-mails).
    func setUp(
        _ kind: StorageKind, identity: IdentityConfiguration = IdentityConfiguration(), verified: Bool = true
    ) async throws -> (TestMarket, TestMarket.World) {
        let test = try TestMarket(kind, identity: identity)
        let world = try await test.makeWorld(contractors: 0)
        if !verified { for owner in [world.owner, world.otherOwner] { try await test.setEmailVerified(false, owner) } }
        return (test, world)
    }

    /// The token of the link in the last e-mail sent.
    func linkToken(_ test: TestMarket, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let message = try #require(test.email.sent.last, sourceLocation: sourceLocation)
        let range = try #require(message.text.range(of: "token="), sourceLocation: sourceLocation)
        return String(message.text[range.upperBound...].prefix { !$0.isWhitespace })
    }

    /// The error `body` throws (failing the test when it succeeds or throws something else).
    func error<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T) async -> TradesKitError? {
        do {
            _ = try await body()
            Issue.record("Expected an error, but the call succeeded", sourceLocation: sourceLocation)
        } catch let error as TradesKitError {
            return error
        } catch {
            Issue.record("Expected a TradesKitError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test("login issues a session; refresh rotates it within its family", arguments: StorageKind.allCases)
    func loginAndRotation(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let session = try await identity.login(in: world.tenant.id, email: "  Owner@ACME.example ", password: TestMarket.password)
        #expect(session.user.id == world.owner.userID)
        #expect(session.record.tokenHash == OpaqueToken.hash(session.refreshToken))
        #expect(session.record.expiresAt == test.clock.now().addingTimeInterval(7 * 86_400))
        #expect(!"\(session)".contains(session.refreshToken))
        let db = test.storage.tenant(world.tenant.id)
        #expect(try await db.refreshToken(hash: session.record.tokenHash) == session.record)

        test.clock.advance(by: 3_600)
        let next = try await identity.refresh(in: world.tenant.id, token: session.refreshToken)
        #expect(next.refreshToken != session.refreshToken)
        #expect(next.record.familyID == session.record.familyID && next.record.id != session.record.id)
        #expect(next.record.expiresAt == test.clock.now().addingTimeInterval(7 * 86_400))
        #expect(try await db.refreshToken(hash: session.record.tokenHash)?.usedAt == test.clock.now())
        let third = try await identity.refresh(in: world.tenant.id, token: next.refreshToken)
        #expect(third.record.familyID == session.record.familyID)

        // The plain token is stored nowhere.
        if let sqlite = test.storage as? SQLiteStorage {
            let dump = try await sqlite.dumpContent()
            for token in [session.refreshToken, next.refreshToken, third.refreshToken] { #expect(!dump.contains(token)) }
            #expect(dump.contains(third.record.tokenHash))
        }
    }

    @Test("a reused token revokes its whole family, the newer sibling included", arguments: StorageKind.allCases)
    func reuseRevokesFamily(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let stolen = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        let otherDevice = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        let rotated = try await identity.refresh(in: tenant, token: stolen.refreshToken)

        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: stolen.refreshToken) }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: rotated.refreshToken) }
        let db = test.storage.tenant(tenant)
        #expect(try await db.refreshToken(hash: rotated.record.tokenHash)?.revokedAt == test.clock.now())
        // Another login's family is untouched.
        _ = try await identity.refresh(in: tenant, token: otherDevice.refreshToken)
    }

    @Test("concurrent refreshes of one token: one rotation at most, and the family ends revoked", arguments: StorageKind.allCases)
    func concurrentRefresh(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let session = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        let outcomes = await withTaskGroup(of: IdentityService.Session?.self) { group in
            for _ in 0..<4 { group.addTask { try? await identity.refresh(in: tenant, token: session.refreshToken) } }
            var outcomes: [IdentityService.Session?] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let winners = outcomes.compactMap { $0 }
        #expect(winners.count == 1)
        for winner in winners { await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: winner.refreshToken) } }
    }

    @Test("concurrent failed logins are all counted", arguments: StorageKind.allCases)
    func concurrentFailures(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<5 {
                let email = index.isMultiple(of: 2) ? "nobody@acme.example" : "NOBODY@acme.example"
                group.addTask { _ = try? await identity.login(in: tenant, email: email, password: "guess \(index)") }
            }
        }
        let throttle = try await test.storage.tenant(tenant).loginThrottle(key: AccountKey(tenant: tenant, email: "nobody@acme.example"))
        #expect(throttle?.failures == 5 && throttle?.lockedUntil == test.clock.now().addingTimeInterval(60))
    }

    @Test("refresh tokens expire; each rotation starts a full lifetime", arguments: StorageKind.allCases)
    func expiry(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        var session = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        for _ in 0..<3 {
            test.clock.advance(by: 6 * 86_400)
            session = try await identity.refresh(in: tenant, token: session.refreshToken)
        }
        test.clock.advance(by: 7 * 86_400)
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: session.refreshToken) }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: "not-a-token") }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: String(repeating: "a", count: 10_000)) }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: "") }
    }

    @Test("logout revokes the family; an unknown token is no error", arguments: StorageKind.allCases)
    func logout(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let first = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        let second = try await identity.refresh(in: tenant, token: first.refreshToken)
        let kept = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        try await identity.logout(in: tenant, token: second.refreshToken)
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: second.refreshToken) }
        try await identity.logout(in: tenant, token: OpaqueToken.generate())
        try await identity.logout(in: tenant, token: "")
        _ = try await identity.refresh(in: tenant, token: kept.refreshToken)
    }

    @Test("e-mail verification links work once and expire after 48 hours", arguments: StorageKind.allCases)
    func emailVerification(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind, verified: false)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let owner = world.owner.userID
        try await identity.requestEmailVerification(in: tenant, user: owner)
        let expired = try linkToken(test)
        test.clock.advance(by: 48 * 3_600)
        await expectError(.invalidToken) { try await identity.verifyEmail(in: tenant, token: expired) }

        try await identity.requestEmailVerification(in: tenant, user: owner)
        let message = try #require(test.email.sent.last)
        #expect(message.to.value == Self.email && message.from.value == "no-reply@acme.example")
        #expect(message.text.contains("http://127.0.0.1:8080/verify-email?token=") && message.text.contains("48 hours"))
        let token = try linkToken(test)
        #expect(token != expired)
        test.clock.advance(by: 47 * 3_600)
        let verified = try await identity.verifyEmail(in: tenant, token: token)
        #expect(verified.emailVerified && verified.id == owner)
        #expect(try await test.market.users.get(by: world.owner, owner).emailVerified)
        await expectError(.invalidToken) { try await identity.verifyEmail(in: tenant, token: token) }
        // Nothing left to verify: no e-mail.
        let sent = test.email.sent.count
        try await identity.requestEmailVerification(in: tenant, user: owner)
        #expect(test.email.sent.count == sent)
        await expectError(.notFound) { try await identity.requestEmailVerification(in: tenant, user: UserID(UUID())) }
        // A verification link is no reset link.
        try await identity.requestEmailVerification(in: tenant, user: world.otherOwner.userID)
        await expectError(.invalidToken) {
            try await identity.confirmPasswordReset(in: tenant, token: try linkToken(test), newPassword: "a brand new password")
        }
        if let sqlite = test.storage as? SQLiteStorage { #expect(!(try await sqlite.dumpContent()).contains(token)) }
    }

    @Test("until its address is confirmed, the right password answers as a wrong one and counts towards the lockout")
    func unconfirmedAddress() async throws {
        let (test, world) = try await setUp(.sqliteMemory, verified: false)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        // Registering an address with a password of one's choosing and signing in with it must not tell whether the
        // address had an account: the answer is a wrong password's, and an unknown address's.
        let right = await error { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        let wrong = await error { try await identity.login(in: tenant, email: Self.email, password: "wrong guess") }
        let unknown = await error { try await identity.login(in: tenant, email: "nobody@acme.example", password: "wrong guess") }
        #expect(right?.code == .unauthenticated && right == wrong && wrong == unknown, "\(String(describing: right))")
        // Counted like one: three more make five failures, and the key locks.
        for _ in 0..<3 {
            await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        }
        let locked = await error { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        #expect(locked?.code == .accountLocked)

        test.clock.advance(by: 60)
        try await identity.requestEmailVerification(in: tenant, user: world.owner.userID)
        _ = try await identity.verifyEmail(in: tenant, token: try linkToken(test))
        let session = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        #expect(session.user.id == world.owner.userID && session.user.emailVerified)
    }

    @Test("suspended accounts and ended sessions get no verification e-mail", arguments: [StorageKind.sqliteMemory])
    func verificationNeedsAnAccountInGoodStanding(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind, verified: false)
        defer { test.cleanup() }
        let identity = test.market.identity
        let other = world.otherOwner
        try await identity.requestEmailVerification(by: other)
        let sent = test.email.sent.count
        #expect(sent > 0 && test.email.sent.last?.to.value == "other-owner@acme.example")
        let ended = Principal(tenantID: world.tenant.id, userID: other.userID, role: .homeowner, sessionGeneration: 1)
        await expectError(.unauthenticated) { try await identity.requestEmailVerification(by: ended) }
        _ = try await test.market.users.setSuspended(by: world.admin, other.userID, suspended: true)
        await expectError(.suspended) { try await identity.requestEmailVerification(by: other) }
        try await identity.requestEmailVerification(in: world.tenant.id, user: other.userID)
        #expect(test.email.sent.count == sent)
    }

    @Test("a failed verification e-mail is reported; a failed reset e-mail is not", arguments: [StorageKind.memory])
    func deliveryFailures(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind, verified: false)
        defer { test.cleanup() }
        struct ProviderDown: Error {}
        test.email.failNext(with: ProviderDown())
        await expectError(.deliveryFailed) { try await test.market.identity.requestEmailVerification(in: world.tenant.id, user: world.owner.userID) }
        test.email.failNext(with: ProviderDown())
        try await test.market.identity.requestPasswordReset(in: world.tenant.id, email: Self.email)
        #expect(test.email.attempts == 2 && test.email.sent.isEmpty)
    }

    @Test("password reset: one use, one hour, every session revoked, lockout cleared", arguments: StorageKind.allCases)
    func passwordReset(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let session = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        for _ in 0..<3 { await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong guess!") } }
        // A reset proves the mailbox: it confirms an address that was not.
        try await test.setEmailVerified(false, world.owner)

        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        let older = try linkToken(test)
        test.clock.advance(by: 3_601)
        await expectError(.invalidToken) { try await identity.confirmPasswordReset(in: tenant, token: older, newPassword: "a brand new password") }

        try await identity.requestPasswordReset(in: tenant, email: "OWNER@acme.example")
        let first = try linkToken(test)
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        let second = try linkToken(test)
        #expect(test.email.sent.last?.text.contains("1 hour") == true)
        await expectError(.validationFailed) { try await identity.confirmPasswordReset(in: tenant, token: first, newPassword: "short") }
        let user = try await identity.confirmPasswordReset(in: tenant, token: first, newPassword: "a brand new password")
        #expect(user.emailVerified)
        await expectError(.invalidToken) { try await identity.confirmPasswordReset(in: tenant, token: first, newPassword: "another new password") }
        // Every other reset link of the user is spent with it.
        await expectError(.invalidToken) { try await identity.confirmPasswordReset(in: tenant, token: second, newPassword: "another new password") }
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: session.refreshToken) }
        // The reset cleared the three failures: four more (the old password among them) are allowed before the lock.
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        for _ in 0..<3 { await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong guess!") } }
        _ = try await identity.login(in: tenant, email: Self.email, password: "a brand new password")
    }

    @Test("a sign-in whose password check a reset overtook issues no session")
    func signInRacingAReset() async throws {
        let (test, world) = try await setUp(.memory)
        let identity = test.market.identity
        let tenant = world.tenant.id
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        let link = try linkToken(test)
        let storage = try #require(test.storage as? MemoryStorage)
        // The reset commits after the sign-in checked the old password and before it issues the session.
        storage.beforeNextCommit {
            do {
                _ = try await identity.confirmPasswordReset(in: tenant, token: link, newPassword: "a brand new password")
            } catch {
                Issue.record("the reset failed: \(error)")
            }
        }
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        _ = try await identity.login(in: tenant, email: Self.email, password: "a brand new password")
    }

    @Test("an unverified address cannot enrol; a reset that verifies it removes an enrolment made before that rule")
    func resetOfAnUnverifiedAddress() async throws {
        let (test, world) = try await setUp(.sqliteMemory)
        let identity = test.market.identity
        let tenant = world.tenant.id
        try await test.setEmailVerified(false, world.owner)
        // Whoever registered the address (not verified) may not enrol an authenticator: a reset would take it away.
        await expectError(.forbidden) { try await identity.enrollTwoFactor(by: world.owner, password: TestMarket.password) }
        #expect(try await test.storage.tenant(tenant).twoFactor(user: world.owner.userID) == nil)
        // An enrolment stored before the rule (confirmed) goes with the reset that proves the mailbox.
        var legacy = ChangeSet()
        legacy.append(
            .insertTwoFactor(
                TwoFactorEnrollment(
                    userID: world.owner.userID, sealedSecret: Data(repeating: 7, count: 48), createdAt: test.clock.now(),
                    confirmedAt: test.clock.now())))
        try await test.storage.tenant(tenant).commit(legacy)
        #expect(try await test.storage.tenant(tenant).twoFactor(user: world.owner.userID)?.isConfirmed == true)
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        _ = try await identity.confirmPasswordReset(in: tenant, token: try linkToken(test), newPassword: "the owner's own password")
        #expect(try await test.storage.tenant(tenant).twoFactor(user: world.owner.userID) == nil)
        _ = try await identity.login(in: tenant, email: Self.email, password: "the owner's own password")

        // On a verified address, a reset keeps the authenticator.
        let again = try #require(TOTP(base32Secret: try await identity.enrollTwoFactor(by: world.owner, password: "the owner's own password").secret))
        test.clock.advance(by: 30)
        _ = try await identity.confirmTwoFactor(by: world.owner, code: again.code(at: test.clock.now()))
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        _ = try await identity.confirmPasswordReset(in: tenant, token: try linkToken(test), newPassword: "yet another password")
        await expectError(.twoFactorRequired) { try await identity.login(in: tenant, email: Self.email, password: "yet another password") }
    }

    @Test("wrong codes confirming an enrolment count towards the lockout")
    func wrongConfirmationCodesLock() async throws {
        let (test, world) = try await setUp(.memory, verified: true)
        let identity = test.market.identity
        let totp = try #require(TOTP(base32Secret: try await identity.enrollTwoFactor(by: world.owner, password: TestMarket.password).secret))
        let wrong = totp.codeNotAccepted(at: test.clock.now())
        for _ in 0..<5 { await expectError(.invalidTwoFactorCode) { try await identity.confirmTwoFactor(by: world.owner, code: wrong) } }
        await expectError(.accountLocked) { try await identity.confirmTwoFactor(by: world.owner, code: totp.code(at: test.clock.now())) }
        await expectError(.accountLocked) { try await identity.login(in: world.tenant.id, email: Self.email, password: TestMarket.password) }
    }

    @Test("unknown e-mail and wrong password answer the same; reset requests look the same", arguments: StorageKind.allCases)
    func noEnumeration(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let wrongPassword = await error { try await identity.login(in: tenant, email: Self.email, password: "wrong password") }
        let unknown = await error { try await identity.login(in: tenant, email: "nobody@acme.example", password: "wrong password") }
        let malformed = await error { try await identity.login(in: tenant, email: "not an address", password: "wrong password") }
        #expect(wrongPassword?.code == .unauthenticated)
        #expect(wrongPassword == unknown && unknown == malformed)
        #expect(wrongPassword.map { !"\($0)".contains(Self.email) } == true)

        let sent = test.email.sent.count
        try await identity.requestPasswordReset(in: tenant, email: "nobody@acme.example")
        try await identity.requestPasswordReset(in: tenant, email: "not an address")
        #expect(test.email.sent.count == sent)
        try await identity.requestPasswordReset(in: tenant, email: Self.email)
        #expect(test.email.sent.count == sent + 1)

        // Unknown addresses are throttled exactly like known ones (each has one failure so far).
        for _ in 0..<4 {
            let known = await error { try await identity.login(in: tenant, email: Self.email, password: "guess") }
            let stranger = await error { try await identity.login(in: tenant, email: "Nobody@Acme.example", password: "guess") }
            #expect(known?.code == .unauthenticated && known == stranger)
        }
        let knownLocked = await error { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        let strangerLocked = await error { try await identity.login(in: tenant, email: "nobody@acme.example", password: "guess") }
        #expect(knownLocked?.code == .accountLocked && knownLocked == strangerLocked)
    }

    @Test("lockout: the fifth failure locks for 1 minute, then 2, 4…; success clears it", arguments: StorageKind.allCases)
    func lockout(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        for _ in 0..<5 { await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong guess") } }
        var locked = await error { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        #expect(locked?.code == .accountLocked && locked?.retryAfter == test.clock.now().addingTimeInterval(60))
        test.clock.advance(by: 30)
        locked = await error { try await identity.login(in: tenant, email: Self.email, password: "wrong guess") }
        #expect(locked?.code == .accountLocked && locked?.retryAfter == test.clock.now().addingTimeInterval(30), "a locked key counts nothing")

        test.clock.advance(by: 30)
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong guess") }
        locked = await error { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        #expect(locked?.retryAfter == test.clock.now().addingTimeInterval(120))
        test.clock.advance(by: 120)
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong guess") }
        locked = await error { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        #expect(locked?.retryAfter == test.clock.now().addingTimeInterval(240))
        test.clock.advance(by: 240)

        _ = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        for _ in 0..<4 { await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong guess") } }
        _ = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        // Another account of the tenant was never affected.
        _ = try await identity.login(in: tenant, email: "other-owner@acme.example", password: TestMarket.password)
    }

    @Test("a custom lockout policy applies", arguments: [StorageKind.memory])
    func customPolicy(_ kind: StorageKind) async throws {
        let policy = LockoutPolicy(threshold: 2, initialDelay: 10, maximumDelay: 15)
        let (test, world) = try await setUp(kind, identity: IdentityConfiguration(lockout: policy))
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        for _ in 0..<2 { await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "nope") } }
        var locked = await error { try await identity.login(in: tenant, email: Self.email, password: "nope") }
        #expect(locked?.retryAfter == test.clock.now().addingTimeInterval(10))
        test.clock.advance(by: 10)
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "nope") }
        locked = await error { try await identity.login(in: tenant, email: Self.email, password: "nope") }
        #expect(locked?.retryAfter == test.clock.now().addingTimeInterval(15))
    }

    @Test("suspended users cannot sign in or refresh", arguments: StorageKind.allCases)
    func suspended(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let session = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: true)
        // The suspension revoked the session's refresh tokens.
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: session.refreshToken) }
        await expectError(.suspended) { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong password") }
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: false)
        // Reinstating does not bring the session back, presented while suspended or not.
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: session.refreshToken) }
        let unseen = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: true)
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: false)
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: unseen.refreshToken) }
        _ = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
    }

    @Test("TOTP: enrol, confirm, codes required at login, replay refused, disable", arguments: StorageKind.allCases)
    func twoFactor(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind, verified: true)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let owner = world.owner

        let abandoned = try await identity.enrollTwoFactor(by: owner, password: TestMarket.password)
        let setup = try await identity.enrollTwoFactor(by: owner, password: TestMarket.password)
        #expect(setup.secret != abandoned.secret && !"\(setup)".contains(setup.secret))
        #expect(setup.provisioningURI.hasPrefix("otpauth://totp/acme:owner%40acme.example?secret=\(setup.secret)&issuer=acme"))
        let totp = try #require(TOTP(base32Secret: setup.secret))
        let stored = try #require(try await test.storage.tenant(tenant).twoFactor(user: owner.userID))
        #expect(stored.sealedSecret.count == 12 + 20 + 16 && !stored.isConfirmed)
        // Pending: login does not ask for a code yet.
        _ = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)

        let oldSecret = try #require(TOTP(base32Secret: abandoned.secret))
        // Two secrets share a code in the window about once in 330 000 steps: then the next step shows the difference.
        while totp.acceptedStep(for: oldSecret.code(at: test.clock.now()), at: test.clock.now(), after: nil) != nil { test.clock.advance(by: 30) }
        await expectError(.invalidTwoFactorCode) { try await identity.confirmTwoFactor(by: owner, code: oldSecret.code(at: test.clock.now())) }
        _ = try await identity.confirmTwoFactor(by: owner, code: totp.code(at: test.clock.now()))
        await expectError(.invalidTransition) { try await identity.confirmTwoFactor(by: owner, code: totp.code(at: test.clock.now())) }
        await expectError(.invalidTransition) { try await identity.enrollTwoFactor(by: owner, password: TestMarket.password) }

        // A code is required only after the password was right.
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "wrong password") }
        await expectError(.twoFactorRequired) { try await identity.login(in: tenant, email: Self.email, password: TestMarket.password) }
        // The code accepted at confirmation cannot be replayed.
        await expectError(.invalidTwoFactorCode) {
            try await identity.login(in: tenant, email: Self.email, password: TestMarket.password, totpCode: totp.code(at: test.clock.now()))
        }
        test.clock.advance(by: 30)
        let code = totp.code(at: test.clock.now())
        let session = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password, totpCode: code)
        #expect(session.user.id == owner.userID)
        await expectError(.invalidTwoFactorCode) {
            try await identity.login(in: tenant, email: Self.email, password: TestMarket.password, totpCode: code)
        }
        // A code of the previous step is still accepted (clock drift), once; two steps back is not.
        test.clock.advance(by: 30)
        // Unless that code is also one of the window's (about once in 330 000 steps: then the next step).
        while totp.acceptedStep(for: totp.code(at: test.clock.now().addingTimeInterval(-60)), at: test.clock.now(), after: nil) != nil {
            test.clock.advance(by: 30)
        }
        await expectError(.invalidTwoFactorCode) {
            try await identity.login(
                in: tenant, email: Self.email, password: TestMarket.password, totpCode: totp.code(at: test.clock.now().addingTimeInterval(-60)))
        }
        test.clock.advance(by: 30)
        _ = try await identity.login(
            in: tenant, email: Self.email, password: TestMarket.password, totpCode: totp.code(at: test.clock.now().addingTimeInterval(-30)))

        // Disabling needs a fresh code.
        test.clock.advance(by: 30)
        await expectError(.invalidTwoFactorCode) { try await identity.disableTwoFactor(by: owner, code: totp.codeNotAccepted(at: test.clock.now())) }
        _ = try await identity.disableTwoFactor(by: owner, code: totp.code(at: test.clock.now()))
        #expect(try await test.storage.tenant(tenant).twoFactor(user: owner.userID) == nil)
        await expectError(.invalidTransition) { try await identity.disableTwoFactor(by: owner, code: totp.code(at: test.clock.now())) }
        _ = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        // And it can be enrolled again.
        _ = try await identity.enrollTwoFactor(by: owner, password: TestMarket.password)
    }

    @Test("wrong two-factor codes count towards the lockout", arguments: [StorageKind.sqliteMemory])
    func wrongCodesLock(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind, verified: true)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let totp = try #require(TOTP(base32Secret: try await identity.enrollTwoFactor(by: world.owner, password: TestMarket.password).secret))
        _ = try await identity.confirmTwoFactor(by: world.owner, code: totp.code(at: test.clock.now()))
        for _ in 0..<3 {
            await expectError(.invalidTwoFactorCode) {
                try await identity.login(
                    in: tenant, email: Self.email, password: TestMarket.password, totpCode: totp.codeNotAccepted(at: test.clock.now()))
            }
        }
        for _ in 0..<2 {
            await expectError(.invalidTwoFactorCode) {
                try await identity.disableTwoFactor(by: world.owner, code: totp.codeNotAccepted(at: test.clock.now()))
            }
        }
        test.clock.advance(by: 30)
        await expectError(.accountLocked) {
            try await identity.login(in: tenant, email: Self.email, password: TestMarket.password, totpCode: totp.code(at: test.clock.now()))
        }
        await expectError(.accountLocked) { try await identity.disableTwoFactor(by: world.owner, code: totp.code(at: test.clock.now())) }
    }

    @Test("enrolling needs the caller's password; wrong ones count towards the lockout", arguments: StorageKind.allCases)
    func enrolmentNeedsPassword(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind, verified: true)
        defer { test.cleanup() }
        let identity = test.market.identity
        let db = test.storage.tenant(world.tenant.id)
        for guess in ["wrong guess!", "", String(repeating: "x", count: 5_000)] {
            await expectError(.wrongPassword) { try await identity.enrollTwoFactor(by: world.owner, password: guess) }
        }
        #expect(try await db.twoFactor(user: world.owner.userID) == nil)
        // Another user's password is not the caller's.
        await expectError(.wrongPassword) { try await identity.enrollTwoFactor(by: world.admin, password: "not the admin's password") }
        for _ in 0..<2 { await expectError(.wrongPassword) { try await identity.enrollTwoFactor(by: world.owner, password: "wrong guess!") } }
        // Five failures lock the address: the right password neither enrols nor signs in until the lock ends.
        await expectError(.accountLocked) { try await identity.enrollTwoFactor(by: world.owner, password: TestMarket.password) }
        await expectError(.accountLocked) { try await identity.login(in: world.tenant.id, email: Self.email, password: TestMarket.password) }
        #expect(try await db.twoFactor(user: world.owner.userID) == nil)
        test.clock.advance(by: 61)
        _ = try await identity.enrollTwoFactor(by: world.owner, password: TestMarket.password)
        #expect(try await db.twoFactor(user: world.owner.userID) != nil)
    }

    @Test("the purge deletes idle throttles and long-expired tokens, and keeps what is still in use", arguments: StorageKind.allCases)
    func purge(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        let day: TimeInterval = 86_400
        let first = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: "nobody@acme.example", password: "a guess") }
        #expect(try await identity.purgeExpiredRecords(in: tenant) == 0)

        // A day and a second later the throttle's failure is forgotten: it goes; the session stays.
        test.clock.advance(by: day + 1)
        #expect(try await identity.purgeExpiredRecords(in: tenant) == 1)
        let second = try await identity.refresh(in: tenant, token: first.refreshToken)

        // Expired for a whole lifetime: both tokens of the family go.
        test.clock.advance(by: 15 * day)
        #expect(try await identity.purgeExpiredRecords(in: tenant) == 2)
        #expect(try await test.storage.tenant(tenant).refreshToken(hash: second.record.tokenHash) == nil)
        await expectError(.unauthenticated) { try await identity.refresh(in: tenant, token: second.refreshToken) }
        _ = try await identity.login(in: tenant, email: Self.email, password: TestMarket.password)
    }

    @Test("a sign-in stores a fresh hash once the hasher's parameters changed; wrong passwords never do", arguments: [StorageKind.sqliteMemory])
    func rehashAtSignIn(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let tenant = world.tenant.id
        let db = test.storage.tenant(tenant)
        let old = try #require(try await db.user(world.owner.userID)?.passwordHash)
        #expect(old.hasPrefix("memory$"))
        // The same data served with a hasher whose new hashes differ (a raised bcrypt cost, say).
        let hasher = MemoryPasswordHasher(generation: 2)
        let upgraded = Marketplace(storage: test.storage, payments: MemoryPaymentProcessor(), passwordHasher: hasher, clock: test.clock)
        await expectError(.unauthenticated) { try await upgraded.identity.login(in: tenant, email: Self.email, password: "wrong guess!") }
        #expect(try await db.user(world.owner.userID)?.passwordHash == old)
        // The wrong guess was also timed against the dummy hash of the current generation, made once.
        #expect(hasher.hashCalls == 1)
        _ = try await upgraded.identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        let new = try #require(try await db.user(world.owner.userID)?.passwordHash)
        #expect(new.hasPrefix("memory2$") && hasher.hashCalls == 2)
        _ = try await upgraded.identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        #expect(hasher.hashCalls == 2, "a current hash is not made again")
        // The old marketplace's hasher still verifies the new hash.
        _ = try await test.market.identity.login(in: tenant, email: Self.email, password: TestMarket.password)
    }

    @Test(
        "a wrong password checked against a cheaper, older hash takes as long as an unknown address",
        arguments: [false, true])
    func olderHashTiming(_ measuredFirst: Bool) async throws {
        let (test, world) = try await setUp(.sqliteMemory)
        defer { test.cleanup() }
        let tenant = world.tenant.id
        // The owner's hash is of generation 1; the server now hashes with generation 2, ten times slower to check (as a
        // bcrypt cost raised by three or four steps).
        let hasher = PacedPasswordHasher(current: .milliseconds(200), older: .milliseconds(20))
        let upgraded = Marketplace(storage: test.storage, payments: MemoryPaymentProcessor(), passwordHasher: hasher, clock: test.clock)
        func failedSignIn(_ email: String) async -> Duration {
            let started = ContinuousClock.now
            await expectError(.unauthenticated) { try await upgraded.identity.login(in: tenant, email: email, password: "wrong guess!") }
            return ContinuousClock.now - started
        }
        // With or without a check of the current parameters measured before, the wrong guess about an existing account
        // costs what one about an unknown address costs (a load can only lengthen both).
        if measuredFirst { #expect(await failedSignIn("nobody@acme.example") >= .milliseconds(180)) }
        #expect(await failedSignIn(Self.email) >= .milliseconds(180))
        #expect(await failedSignIn(Self.email) >= .milliseconds(180))
        // The right password is not held back, and replaces the old hash.
        _ = try await upgraded.identity.login(in: tenant, email: Self.email, password: TestMarket.password)
        #expect(try await test.storage.tenant(tenant).user(world.owner.userID)?.passwordHash?.hasPrefix("memory2$") == true)
    }

    @Test("a sealed secret opens only with its key", arguments: [StorageKind.sqliteFile])
    func sealingKey(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind, verified: true)
        defer { test.cleanup() }
        let totp = try #require(
            TOTP(base32Secret: try await test.market.identity.enrollTwoFactor(by: world.owner, password: TestMarket.password).secret))
        _ = try await test.market.identity.confirmTwoFactor(by: world.owner, code: totp.code(at: test.clock.now()))
        // The same database under a marketplace with another (random) key.
        let other = Marketplace(
            storage: test.storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher(), clock: test.clock)
        test.clock.advance(by: 30)
        let failure = await error {
            try await other.identity.login(
                in: world.tenant.id, email: Self.email, password: TestMarket.password, totpCode: totp.code(at: test.clock.now()))
        }
        #expect(failure?.code == .notConfigured)
    }

    @Test("tokens of one tenant mean nothing in another", arguments: StorageKind.allCases)
    func tenantIsolation(_ kind: StorageKind) async throws {
        let (test, acme) = try await setUp(kind)
        defer { test.cleanup() }
        let beta = try await test.makeWorld(slug: "beta", contractors: 0)
        let identity = test.market.identity
        let session = try await identity.login(in: acme.tenant.id, email: Self.email, password: TestMarket.password)
        await expectError(.unauthenticated) { try await identity.refresh(in: beta.tenant.id, token: session.refreshToken) }
        try await identity.logout(in: beta.tenant.id, token: session.refreshToken)
        await expectError(.unauthenticated) { try await identity.login(in: beta.tenant.id, email: Self.email, password: TestMarket.password) }

        try await test.setEmailVerified(false, acme.owner)
        try await identity.requestEmailVerification(in: acme.tenant.id, user: acme.owner.userID)
        let verification = try linkToken(test)
        await expectError(.invalidToken) { try await identity.verifyEmail(in: beta.tenant.id, token: verification) }
        await expectError(.notFound) { try await identity.requestEmailVerification(in: beta.tenant.id, user: acme.owner.userID) }
        try await identity.requestPasswordReset(in: acme.tenant.id, email: Self.email)
        let reset = try linkToken(test)
        await expectError(.invalidToken) {
            try await identity.confirmPasswordReset(in: beta.tenant.id, token: reset, newPassword: "taken over at last")
        }

        // Locking acme's owner out does not touch beta's owner of the same address.
        for _ in 0..<5 { _ = await error { try await identity.login(in: acme.tenant.id, email: Self.email, password: "wrong") } }
        await expectError(.accountLocked) { try await identity.login(in: acme.tenant.id, email: Self.email, password: TestMarket.password) }
        _ = try await identity.login(in: beta.tenant.id, email: "owner@beta.example", password: TestMarket.password)

        // Acme's session still works: beta's logout did nothing to it.
        _ = try await identity.refresh(in: acme.tenant.id, token: session.refreshToken)
        _ = try await identity.verifyEmail(in: acme.tenant.id, token: verification)
    }

    @Test("without an e-mail sender, e-mail operations say so, for any address")
    func withoutEmailSender() async throws {
        let clock = ManualClock()
        let market = Marketplace(
            storage: MemoryStorage(), payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher(), clock: clock)
        let tenant = TenantID(UUID())
        await expectError(.notConfigured) { try await market.identity.requestPasswordReset(in: tenant, email: "nobody@example.com") }
        await expectError(.notConfigured) { try await market.identity.requestPasswordReset(in: tenant, email: "not an address") }
        await expectError(.notConfigured) { try await market.identity.requestEmailVerification(in: tenant, user: UserID(UUID())) }
        await expectError(.notConfigured) {
            try await market.identity.signUp(
                in: tenant, .init(email: "nobody@example.com", password: "a long enough password", displayName: "N", role: .homeowner))
        }
    }

    @Test("a deferred sign-up sends nothing until its delivery runs, for a new and a taken address alike")
    func deferredSignUp() async throws {
        let (test, world) = try await setUp(.memory)
        let identity = test.market.identity
        let before = test.email.sent.count
        var deliveries: [SignUpDelivery] = []
        for email in ["fresh@acme.example", Self.email] {
            deliveries.append(
                try await identity.signUpDeferringDelivery(
                    in: world.tenant.id, .init(email: email, password: "a long enough password", displayName: "Someone", role: .homeowner)))
        }
        #expect(test.email.sent.count == before, "a deferred sign-up sent an e-mail before its delivery ran")
        for delivery in deliveries { await delivery.send() }
        #expect(test.email.sent.dropFirst(before).map(\.to.value) == ["fresh@acme.example", Self.email])
    }

    @Test("sign-up answers alike for a new and a taken address; the e-mail tells the owner which", arguments: StorageKind.allCases)
    func signUp(_ kind: StorageKind) async throws {
        let (test, world) = try await setUp(kind)
        defer { test.cleanup() }
        let identity = test.market.identity
        let tenant = world.tenant.id
        func signUp(_ email: String, _ password: String = "a long enough password", role: Role = .homeowner) async throws {
            try await identity.signUp(in: tenant, .init(email: email, password: password, displayName: "Someone", role: role))
        }
        try await signUp("fresh@acme.example")
        let link = try #require(test.email.sent.last)
        #expect(link.to.value == "fresh@acme.example" && link.text.contains("verify-email?token="))
        _ = try await identity.verifyEmail(in: tenant, token: try linkToken(test))
        _ = try await identity.login(in: tenant, email: "fresh@acme.example", password: "a long enough password")

        // A taken address: the same outcome for the caller, a notice without a link for the owner, nothing changed.
        let before = try await test.storage.tenant(tenant).user(world.owner.userID)
        try await signUp(" OWNER@acme.example", "the intruder's password", role: .contractor)
        let notice = try #require(test.email.sent.last)
        #expect(notice.to.value == Self.email && notice.subject.contains("tried to register") && !notice.text.contains("token="))
        #expect(try await test.storage.tenant(tenant).user(world.owner.userID) == before)
        await expectError(.unauthenticated) { try await identity.login(in: tenant, email: Self.email, password: "the intruder's password") }

        // A suspended owner hears nothing; bad input and the admin role are refused as by register.
        _ = try await test.market.users.setSuspended(by: world.admin, world.owner.userID, suspended: true)
        let sent = test.email.sent.count
        try await signUp(Self.email)
        #expect(test.email.sent.count == sent)
        await expectError(.validationFailed) { try await signUp("not an address", "short") }
        await expectError(.forbidden) { try await signUp("boss@acme.example", role: .admin) }
    }
}

/// A ``MemoryPasswordHasher`` of generation 2 whose checks take as long as a slow hash's would: `current` for its own
/// hashes, `older` for those of generation 1.
private struct PacedPasswordHasher: PasswordHasher {
    let current: Duration
    let older: Duration
    private let base = MemoryPasswordHasher(generation: 2)

    init(current: Duration, older: Duration) {
        self.current = current
        self.older = older
    }

    func hash(_ password: String) async throws -> String { try await base.hash(password) }
    func needsRehash(_ hash: String) -> Bool { base.needsRehash(hash) }
    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await Task.sleep(for: base.needsRehash(hash) ? older : current)
        return try await base.verify(password, against: hash)
    }
}
