import CoreMetrics
import Crypto
import Foundation
import Logging

/// Login with lockout and two-factor codes, rotating refresh tokens, e-mail verification and password reset.
///
/// What it answers never tells an unknown e-mail address from a wrong password, and what it stores never contains a
/// token, a TOTP secret in the clear, or (for unknown addresses) the address. The HTTP layer mints access tokens from
/// the ``Session`` it returns; refresh tokens are opaque and rotate on every use.
///
/// ```swift
/// let session = try await market.identity.login(in: tenant, email: email, password: password)
/// let next = try await market.identity.refresh(in: tenant, token: session.refreshToken)
/// ```
public struct IdentityService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    private var configuration: IdentityConfiguration { environment.identity }

    /// A signed-in session: the user, and the refresh token to hand to the client (its only copy).
    public struct Session: Sendable, Hashable, CustomStringConvertible {
        /// The signed-in user.
        public let user: User
        /// The opaque refresh token; only its hash is stored.
        public let refreshToken: String
        /// The stored record of ``refreshToken``.
        public let record: RefreshToken

        /// Identifies the session without the token.
        public var description: String { "Session(\(user), \(record))" }
    }

    /// What an authenticator app needs to start producing codes.
    public struct TwoFactorSetup: Sendable, Hashable, CustomStringConvertible {
        /// The shared secret in base32, for typing in by hand.
        public let secret: String
        /// The `otpauth://totp/` URI, usually shown as a QR code.
        public let provisioningURI: String

        /// Redacted: the secret never appears in logs.
        public var description: String { "TwoFactorSetup(<redacted>)" }
    }

    // MARK: Login and sessions

    /// Signs in with an e-mail address and password (and a TOTP code once two-factor authentication is confirmed),
    /// starting a new refresh-token family.
    ///
    /// - Throws: ``TradesKitError/Code/accountLocked`` (with ``TradesKitError/retryAfter``) while the account key is locked;
    ///   ``TradesKitError/Code/unauthenticated`` for a wrong password, an unknown address and an address not confirmed
    ///   yet alike, each counted towards the lockout; ``TradesKitError/Code/suspended``;
    ///   ``TradesKitError/Code/twoFactorRequired`` when the password was right and a code is needed;
    ///   ``TradesKitError/Code/invalidTwoFactorCode`` (counted towards the lockout).
    public func login(in tenant: TenantID, email: String, password: String, totpCode: String? = nil) async throws -> Session {
        let key = AccountKey(tenant: tenant, email: email)
        // One attempt per account key at a time: overlapping guesses would all pass the lock check below before any of
        // their failures is counted.
        return try await environment.signInGate.withKey(key) {
            try await login(in: tenant, key: key, email: email, password: password, totpCode: totpCode)
        }
    }

    private func login(in tenant: TenantID, key: AccountKey, email: String, password: String, totpCode: String?) async throws -> Session {
        let store = environment.storage.tenant(tenant)
        let address = try? EmailAddress(email)
        let now = environment.now()
        let (throttle, user) = try await environment.run("identity.login", tenant: tenant) { () -> (LoginThrottle?, User?) in
            let throttle = try await store.loginThrottle(key: key)
            guard throttle?.lockedUntil(at: now) == nil, let address else { return (throttle, nil) }
            return (throttle, try await store.user(email: address))
        }
        if let until = throttle?.lockedUntil(at: now) { throw Self.locked(until: until) }

        let storedHash = user?.passwordHash
        var verified = false
        if password.utf8.count <= Self.maximumPasswordBytes {
            verified = try await checkPassword(password, against: storedHash)
        }
        // An address not confirmed yet answers, and counts, as a wrong password. Otherwise registering an address with a
        // password of one's choosing and signing in with it would tell whether the address already had an account (the
        // sign-in fails only if it had), and would let anyone act under an address they do not own.
        guard verified, let user, user.emailVerified else {
            try await recordFailure(of: key, in: store, at: now)
            throw Self.wrongCredentials
        }
        if user.suspended { throw TradesKitError(.suspended, "This account is suspended") }

        let outcome = try await environment.run("identity.login", tenant: tenant) { () -> LoginOutcome in
            let throttle = try await store.loginThrottle(key: key)
            // Failures in another process may have locked the key while this password was checked. The answer is then
            // the one a wrong password got in the same race (they were counted against an unlocked key): answering
            // "locked" to the right password alone would tell which guess was right.
            if throttle?.lockedUntil(at: now) != nil { return .lostToLock }
            // The password was checked against the user as read before hashing. A reset (or a suspension) that
            // committed meanwhile must not be outlived by a session issued on the old password: the user is read
            // again, and the commit expects it as read.
            guard let current = try await store.user(user.id), current.passwordHash == storedHash else { return .credentialsChanged }
            if current.suspended { return .suspended }
            var changes = ChangeSet()
            changes.expectCaller(current)
            if let enrollment = try await store.twoFactor(user: user.id), enrollment.isConfirmed {
                guard let totpCode, !totpCode.isEmpty else { return .twoFactorRequired }
                let totp = try open(enrollment, tenant: tenant)
                guard let step = totp.acceptedStep(for: totpCode, at: now, after: enrollment.lastAcceptedStep) else { return .wrongCode }
                var accepted = enrollment
                accepted.lastAcceptedStep = step
                changes.update(accepted)
            }
            if let throttle, !throttle.isClear { changes.update(throttle.cleared()) }
            let issued = issueRefreshToken(for: user.id, family: environment.ids.make(), at: now)
            changes.append(.insertRefreshToken(issued.record))
            try await store.commit(changes)
            return .session(Session(user: current, refreshToken: issued.token, record: issued.record))
        }
        switch outcome {
        case .session(let session):
            if let storedHash, environment.passwordHasher.needsRehash(storedHash) {
                await upgradeHash(of: user.id, from: storedHash, password: password, in: store)
            }
            return session
        case .lostToLock, .credentialsChanged:
            throw Self.wrongCredentials
        case .suspended:
            throw TradesKitError(.suspended, "This account is suspended")
        case .twoFactorRequired:
            throw TradesKitError(.twoFactorRequired, "A two-factor code is required")
        case .wrongCode:
            try await recordFailure(of: key, in: store, at: now)
            throw Self.wrongCode
        }
    }

    /// Exchanges a refresh token for the next one of its family (rotation); the presented token is spent.
    ///
    /// Presenting a spent (used or revoked) token again revokes its whole family in the same change set, so a stolen
    /// token and the one its rightful holder rotated to both stop working.
    /// - Throws: ``TradesKitError/Code/unauthenticated`` for an unknown, spent or expired token;
    ///   ``TradesKitError/Code/suspended`` (the family is revoked).
    public func refresh(in tenant: TenantID, token: String) async throws -> Session {
        guard OpaqueToken.isWellFormed(token) else { throw Self.invalidSession }
        let store = environment.storage.tenant(tenant)
        let hash = OpaqueToken.hash(token)
        let outcome = try await environment.run("identity.refresh", tenant: tenant) { () -> RefreshOutcome in
            let now = environment.now()
            guard let record = try await store.refreshToken(hash: hash) else { return .invalid }
            if record.isSpent {
                var changes = ChangeSet()
                changes.append(.revokeRefreshTokenFamily(record.familyID, at: now))
                let reused = record.usedAt != nil
                // A reuse means the token was copied: the access tokens minted from its family end with it. Only the
                // first time, while the family still lived: a spent token replayed after that has nothing left to end,
                // and must not be a way to sign its user out of every device again and again.
                if reused && record.revokedAt == nil { try await endSessions(of: record.userID, in: store, &changes) }
                try await store.commit(changes)
                return reused ? .reused(record.familyID) : .invalid
            }
            if record.isExpired(at: now) { return .invalid }
            let owner = try await store.user(record.userID)
            guard let user = owner, !user.suspended else {
                var changes = ChangeSet()
                changes.append(.revokeRefreshTokenFamily(record.familyID, at: now))
                try await store.commit(changes)
                return owner == nil ? .invalid : .suspended
            }
            var used = record
            used.usedAt = now
            var changes = ChangeSet()
            changes.update(used)
            let issued = issueRefreshToken(for: user.id, family: record.familyID, at: now)
            changes.append(.insertRefreshToken(issued.record))
            try await store.commit(changes)
            return .session(Session(user: user, refreshToken: issued.token, record: issued.record))
        }
        switch outcome {
        case .session(let session):
            return session
        case .reused(let family):
            BusinessMetrics.refreshTokenReuses.increment()
            environment.logger.warning(
                "A spent refresh token was presented again; its family is revoked",
                metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.token_family": "\(family)"])
            throw Self.invalidSession
        case .invalid:
            throw Self.invalidSession
        case .suspended:
            throw TradesKitError(.suspended, "This account is suspended")
        }
    }

    /// Ends the session of `token`: revokes its whole family, and ends the user's access tokens (their
    /// ``User/sessionGeneration`` moves on; the user's other sessions get new access tokens at their next refresh). An
    /// unknown or revoked token is not an error (nothing to end).
    public func logout(in tenant: TenantID, token: String) async throws {
        guard OpaqueToken.isWellFormed(token) else { return }
        let store = environment.storage.tenant(tenant)
        let hash = OpaqueToken.hash(token)
        try await environment.run("identity.logout", tenant: tenant) {
            guard let record = try await store.refreshToken(hash: hash) else { return }
            var changes = ChangeSet()
            changes.append(.revokeRefreshTokenFamily(record.familyID, at: environment.now()))
            // A revoked token's family ended already (revocation takes every token of it): nothing more to end.
            if record.revokedAt == nil { try await endSessions(of: record.userID, in: store, &changes) }
            try await store.commit(changes)
        }
    }

    /// Deletes the tenant's identity bookkeeping that nothing needs any more: refresh tokens expired for longer than
    /// their lifetime (a spent one presented again until then still revokes its family), one-time links likewise, and
    /// login throttles idle for ``LockoutPolicy/forgetAfter`` (their failures are forgotten by then anyway). Answers how
    /// many records went. Run it from a scheduler (the reference server does, with its other scheduled work); it is safe
    /// to run concurrently and repeatedly.
    public func purgeExpiredRecords(in tenant: TenantID) async throws -> Int {
        let store = environment.storage.tenant(tenant)
        let now = environment.now()
        let lifetime = max(configuration.refreshTokenLifetime, configuration.emailVerificationLifetime, configuration.passwordResetLifetime)
        return try await environment.run("identity.purge", tenant: tenant) {
            try await store.purgeIdentityRecords(
                tokensExpiredBefore: now.addingTimeInterval(-lifetime),
                throttlesIdleSince: now.addingTimeInterval(-max(configuration.lockout.forgetAfter, configuration.lockout.maximumDelay)))
        }
    }

    // MARK: Sign-up

    /// Registers a homeowner or contractor without telling the caller whether the address already had an account: a
    /// new account is e-mailed a verification link, the owner of a taken address a notice that someone tried to
    /// register with it (nothing for a suspended account). Either way the call returns normally after the same password
    /// hashing. The new account signs in once its owner has followed the link: until then a sign-in answers as a wrong
    /// password does, so that signing in after registering tells nothing about the address either.
    ///
    /// ``UserService/register(in:_:)`` is the embedder's direct path, which answers ``TradesKitError/Code/conflict``
    /// for a taken address. An HTTP layer should prefer ``signUpDeferringDelivery(in:_:)`` and answer before sending.
    /// - Throws: ``TradesKitError/Code/validationFailed``; ``TradesKitError/Code/forbidden`` for the admin role;
    ///   ``TradesKitError/Code/notConfigured`` without an ``EmailSender``. A failed delivery is logged, not thrown.
    public func signUp(in tenant: TenantID, _ registration: UserService.Registration) async throws {
        try await signUpDeferringDelivery(in: tenant, registration).send()
    }

    /// ``signUp(in:_:)``, returning the e-mail to send instead of sending it, so that an HTTP layer can answer first and
    /// send in the background: the time of its answer then tells nothing about the address (a taken address and a new
    /// one both wait for a provider's round trip when sent inline, a suspended account for none).
    /// - Throws: as ``signUp(in:_:)``.
    public func signUpDeferringDelivery(in tenant: TenantID, _ registration: UserService.Registration) async throws -> SignUpDelivery {
        let sender = try emailSender()
        let store = environment.storage.tenant(tenant)
        let user: User
        do {
            user = try await UserService(environment).register(in: tenant, registration)
        } catch let error as TradesKitError where error.code == .conflict {
            guard let address = try? EmailAddress(registration.email) else { throw error }
            let notice = try await environment.run("identity.signup", tenant: tenant) { () -> PendingEmail? in
                // Another conflict than the address (a race lost too often) is the caller's to retry.
                guard let existing = try await store.user(email: address) else { throw error }
                guard !existing.suspended else { return nil }
                let tenantRecord = try await environment.tenant(of: store)
                let brand = tenantRecord.settings.branding.name
                return PendingEmail(
                    to: existing.email, from: try Self.sender(of: tenantRecord), subject: "Someone tried to register with your \(brand) address",
                    text: """
                        Hello \(existing.displayName),

                        Someone, perhaps you, tried to create a \(brand) account with this e-mail address, which already has \
                        one. Nothing was changed.

                        If it was you, sign in instead; if you forgot your password, or never confirmed this address, ask \
                        for a reset link on the sign-in page: choosing a new password there confirms the address too. If it \
                        was not you, you can ignore this message.
                        """)
            }
            return delivery(notice, with: sender, kind: "signup_notice", tenant: tenant)
        }
        do {
            let link = try await environment.run("identity.verification.request", tenant: tenant) {
                try await verificationEmail(to: user, in: store)
            }
            return delivery(link, with: sender, kind: "verification", tenant: tenant)
        } catch {
            // The account exists; its owner confirms it through a password reset (which an address's owner alone can do).
            environment.logger.warning(
                "The verification e-mail of a new account was not sent",
                metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.error_code": "\((error as? TradesKitError)?.code.rawValue ?? "unknown")"])
            return SignUpDelivery {}
        }
    }

    /// Sends `pending` when run, logging a failure.
    private func delivery(_ pending: PendingEmail?, with sender: any EmailSender, kind: String, tenant: TenantID) -> SignUpDelivery {
        SignUpDelivery { [self] in _ = await deliver(pending, with: sender, kind: kind, tenant: tenant) }
    }

    // MARK: E-mail verification

    /// E-mails the caller a new verification link (see ``requestEmailVerification(in:user:)``), once their session and
    /// account are checked like any call's.
    /// - Throws: as ``requestEmailVerification(in:user:)``; ``TradesKitError/Code/unauthenticated`` for an ended
    ///   session; ``TradesKitError/Code/suspended``.
    public func requestEmailVerification(by principal: Principal) async throws {
        let sender = try emailSender()
        // The checked caller is the user the link is for: one read serves both.
        let pending = try await environment.acting("identity.verification.request", as: principal) { store, actor in
            try await verificationEmail(to: actor, in: store)
        }
        try await sendVerification(pending, with: sender, tenant: principal.tenantID)
    }

    /// E-mails `user` a single-use link that verifies their address, valid for
    /// ``IdentityConfiguration/emailVerificationLifetime``. Does nothing for an address already verified, or for a
    /// suspended account.
    /// - Throws: ``TradesKitError/Code/notConfigured`` without an ``EmailSender``; ``TradesKitError/Code/deliveryFailed``
    ///   when the sender fails (the user may ask again).
    public func requestEmailVerification(in tenant: TenantID, user id: UserID) async throws {
        let sender = try emailSender()
        let store = environment.storage.tenant(tenant)
        let pending = try await environment.run("identity.verification.request", tenant: tenant) { () -> PendingEmail? in
            guard let user = try await store.user(id) else { throw TradesKitError.notFound("User") }
            return try await verificationEmail(to: user, in: store)
        }
        try await sendVerification(pending, with: sender, tenant: tenant)
    }

    /// Stores a new verification token for `user` and answers the e-mail that carries it; `nil` for an address already
    /// verified or a suspended account.
    private func verificationEmail(to user: User, in store: any TenantStorage) async throws -> PendingEmail? {
        guard !user.emailVerified, !user.suspended else { return nil }
        let tenantRecord = try await environment.tenant(of: store)
        let token = try await insertOneTimeToken(
            for: user.id, purpose: .emailVerification, lifetime: configuration.emailVerificationLifetime, in: store)
        let brand = tenantRecord.settings.branding.name
        let link = IdentityConfiguration.link(configuration.verificationLinkBase, token: token)
        return PendingEmail(
            to: user.email, from: try Self.sender(of: tenantRecord), subject: "Confirm your e-mail address for \(brand)",
            text: """
                Hello \(user.displayName),

                Please confirm your e-mail address for \(brand) by opening this link within \
                \(Self.duration(configuration.emailVerificationLifetime)):

                \(link)

                If you did not create an account, you can ignore this message.
                """)
    }

    /// Sends a verification e-mail, if there is one; a failure is the caller's to hear (they may ask again).
    private func sendVerification(_ pending: PendingEmail?, with sender: any EmailSender, tenant: TenantID) async throws {
        guard await deliver(pending, with: sender, kind: "verification", tenant: tenant) else {
            throw TradesKitError(.deliveryFailed, "The verification e-mail could not be sent; try again later")
        }
    }

    /// Sends `pending`, if there is one; whether nothing failed. A failure is logged, without the address.
    private func deliver(_ pending: PendingEmail?, with sender: any EmailSender, kind: String, tenant: TenantID) async -> Bool {
        guard let pending else { return true }
        do {
            _ = try await sender.send(pending.message)
            return true
        } catch {
            logDeliveryFailure(kind, tenant: tenant, error)
            return false
        }
    }

    /// Verifies the address of the user a verification link was sent to. Each link works once.
    /// - Throws: ``TradesKitError/Code/invalidToken`` for an unknown, used or expired link.
    public func verifyEmail(in tenant: TenantID, token: String) async throws -> User {
        guard OpaqueToken.isWellFormed(token) else { throw Self.invalidLink }
        let store = environment.storage.tenant(tenant)
        let hash = OpaqueToken.hash(token)
        return try await environment.run("identity.verification.confirm", tenant: tenant) {
            let now = environment.now()
            var (user, changes) = try await redeem(hash, .emailVerification, in: store, at: now)
            if !user.emailVerified {
                user.emailVerified = true
                user = changes.update(user)
            }
            try await store.commit(changes)
            return user
        }
    }

    // MARK: Password reset

    /// E-mails a single-use password reset link, valid for ``IdentityConfiguration/passwordResetLifetime``, if `email` has
    /// an account that is not suspended.
    ///
    /// The outcome is the same whether or not the account exists: it returns normally, and a failed delivery is logged,
    /// not thrown. (The time it takes still differs, by one insert and one send; an HTTP layer that must hide that too
    /// answers before awaiting this call.)
    /// - Throws: ``TradesKitError/Code/notConfigured`` without an ``EmailSender``, whatever the address.
    public func requestPasswordReset(in tenant: TenantID, email: String) async throws {
        let sender = try emailSender()
        guard let address = try? EmailAddress(email) else { return }
        let store = environment.storage.tenant(tenant)
        let pending = try await environment.run("identity.reset.request", tenant: tenant) { () -> PendingEmail? in
            guard let user = try await store.user(email: address), !user.suspended, let tenantRecord = try await store.tenantRecord() else {
                return nil
            }
            let token = try await insertOneTimeToken(for: user.id, purpose: .passwordReset, lifetime: configuration.passwordResetLifetime, in: store)
            let brand = tenantRecord.settings.branding.name
            let link = IdentityConfiguration.link(configuration.passwordResetLinkBase, token: token)
            return PendingEmail(
                to: user.email, from: try Self.sender(of: tenantRecord), subject: "Reset your \(brand) password",
                text: """
                    Hello \(user.displayName),

                    Someone asked to reset the password of your \(brand) account. To choose a new password, open this link \
                    within \(Self.duration(configuration.passwordResetLifetime)):

                    \(link)

                    If it was not you, you can ignore this message: your password stays as it is.
                    """)
        }
        _ = await deliver(pending, with: sender, kind: "password reset", tenant: tenant)
    }

    /// Sets a new password with a reset link. In the same change set it spends the link (and every other reset link of
    /// the user), revokes every refresh token of the user, marks the address verified (the link proved it) and clears
    /// the login lockout.
    /// - Throws: ``TradesKitError/Code/validationFailed`` for a password outside 10–128 characters;
    ///   ``TradesKitError/Code/invalidToken`` for an unknown, used or expired link.
    public func confirmPasswordReset(in tenant: TenantID, token: String, newPassword: String) async throws -> User {
        var validator = Validator()
        validator.password(newPassword, field: "newPassword")
        try validator.check()
        guard OpaqueToken.isWellFormed(token) else { throw Self.invalidLink }
        let store = environment.storage.tenant(tenant)
        let hash = OpaqueToken.hash(token)
        // Check the link before paying for a password hash; it is checked again, fresh, before the commit.
        let found = try await environment.run("identity.reset.confirm", tenant: tenant) {
            try await store.oneTimeToken(hash: hash, purpose: .passwordReset)
        }
        guard let found, found.isUsable(at: environment.now()) else { throw Self.invalidLink }
        let passwordHash = try await environment.passwordHasher.hash(newPassword)
        return try await environment.run("identity.reset.confirm", tenant: tenant) {
            let now = environment.now()
            var (user, changes) = try await redeem(hash, .passwordReset, in: store, at: now)
            changes.append(.consumeOneTimeTokens(user: user.id, purpose: .passwordReset, at: now))
            user.passwordHash = passwordHash
            // A reset proves the mailbox. On an address not verified until now, whoever registered it may not be its
            // owner, and an authenticator they enrolled must not lock the owner out: it goes with the old password.
            if !user.emailVerified, let enrollment = try await store.twoFactor(user: user.id) {
                changes.append(.deleteTwoFactor(user.id, version: enrollment.version))
            }
            user.emailVerified = true
            user.endSessions()
            let updated = changes.update(user)
            changes.append(.revokeRefreshTokens(user: user.id, at: now))
            if let throttle = try await store.loginThrottle(key: AccountKey(tenant: tenant, email: user.email.value)), !throttle.isClear {
                changes.update(throttle.cleared())
            }
            try await store.commit(changes)
            return updated
        }
    }

    // MARK: Two-factor authentication

    /// Starts (or restarts, while unconfirmed) TOTP enrolment of the caller: a new secret, sealed at rest. Login asks
    /// for codes only after ``confirmTwoFactor(by:code:)``.
    ///
    /// The caller confirms their password: whoever enrols holds the codes from then on, so a stolen session alone must
    /// not be able to enrol its own authenticator and lock the owner out. A wrong password counts towards the login
    /// lockout of the caller's address.
    /// - Throws: ``TradesKitError/Code/wrongPassword``; ``TradesKitError/Code/accountLocked``;
    ///   ``TradesKitError/Code/forbidden`` until the caller's address is verified;
    ///   ``TradesKitError/Code/invalidTransition`` when two-factor authentication is already confirmed.
    public func enrollTwoFactor(by principal: Principal, password: String) async throws -> TwoFactorSetup {
        try await confirmPassword(password, of: principal)
        return try await environment.acting("identity.2fa.enroll", as: principal) { store, actor in
            // An address nobody has proved may not be its registrant's: a password reset by the mailbox's owner removes an
            // authenticator enrolled on it. Enrolling first would give a protection that the first reset takes away.
            guard actor.emailVerified else {
                throw TradesKitError.forbidden("Verify your e-mail address before turning on two-factor authentication")
            }
            let existing = try await store.twoFactor(user: actor.id)
            if existing?.isConfirmed == true { throw TradesKitError.invalidTransition("Two-factor authentication is already enabled") }
            let tenant = try await environment.tenant(of: store)
            var generator = SystemRandomNumberGenerator()
            let totp = TOTP(secret: OpaqueToken.randomBytes(20, using: &generator))
            let sealed = try seal(totp.secret, tenant: principal.tenantID, user: actor.id)
            let now = environment.now()
            var changes = ChangeSet()
            if var enrollment = existing {
                enrollment.sealedSecret = sealed
                enrollment.createdAt = now
                enrollment.lastAcceptedStep = nil
                changes.update(enrollment)
            } else {
                changes.append(.insertTwoFactor(TwoFactorEnrollment(userID: actor.id, sealedSecret: sealed, createdAt: now)))
            }
            do {
                try await store.commit(changes)
            } catch let error as StorageError where error.code == .uniqueViolation && error.constraint == UniqueConstraint.twoFactorUser {
                // A concurrent enrolment inserted first: start over from a fresh read, which will update it.
                throw StorageError(.versionConflict, message: "The two-factor enrolment was created concurrently")
            }
            let issuer = configuration.twoFactorIssuer ?? tenant.settings.branding.name
            return TwoFactorSetup(secret: totp.base32Secret, provisioningURI: totp.provisioningURI(issuer: issuer, account: actor.email.value))
        }
    }

    /// Confirms the caller's pending enrolment with a current code; from then on login requires codes. Wrong codes count
    /// towards the login lockout of the caller's address, as at sign-in.
    ///
    /// Every session of the caller ends in the same change set (their refresh tokens are revoked and their
    /// ``User/sessionGeneration`` moves on), and the answer is a new session for the caller: a session opened with the
    /// password alone, by whoever had it, must not outlive the second factor that now guards the account.
    /// - Throws: ``TradesKitError/Code/invalidTransition`` with nothing pending; ``TradesKitError/Code/accountLocked``;
    ///   ``TradesKitError/Code/invalidTwoFactorCode``.
    public func confirmTwoFactor(by principal: Principal, code: String) async throws -> Session {
        try await checkingCode("identity.2fa.confirm", of: principal) { store, actor, now in
            guard let enrollment = try await store.twoFactor(user: actor.id), !enrollment.isConfirmed else {
                throw TradesKitError.invalidTransition("There is no pending two-factor enrolment to confirm")
            }
            let totp = try open(enrollment, tenant: principal.tenantID)
            guard let step = totp.acceptedStep(for: code, at: now, after: enrollment.lastAcceptedStep) else { return nil }
            var confirmed = enrollment
            confirmed.confirmedAt = now
            confirmed.lastAcceptedStep = step
            var changes = ChangeSet()
            changes.update(confirmed)
            return try await renewingSessions(of: actor, with: &changes, in: store, at: now)
        }
    }

    /// Turns the caller's two-factor authentication off, with a current code. Wrong codes count towards the login
    /// lockout of the caller's address, so a stolen session cannot guess its way through.
    ///
    /// Like ``confirmTwoFactor(by:code:)``, it ends every session of the caller and answers a new one, so a change to how
    /// the account signs in is felt on every device at once.
    /// - Throws: ``TradesKitError/Code/invalidTransition`` when it is not enabled; ``TradesKitError/Code/accountLocked``;
    ///   ``TradesKitError/Code/invalidTwoFactorCode``.
    public func disableTwoFactor(by principal: Principal, code: String) async throws -> Session {
        try await checkingCode("identity.2fa.disable", of: principal) { store, actor, now in
            guard let enrollment = try await store.twoFactor(user: actor.id), enrollment.isConfirmed else {
                throw TradesKitError.invalidTransition("Two-factor authentication is not enabled")
            }
            let totp = try open(enrollment, tenant: principal.tenantID)
            guard totp.acceptedStep(for: code, at: now, after: enrollment.lastAcceptedStep) != nil else { return nil }
            var changes = ChangeSet()
            changes.append(.deleteTwoFactor(actor.id, version: enrollment.version))
            return try await renewingSessions(of: actor, with: &changes, in: store, at: now)
        }
    }

    /// Commits `changes` with the end of every session of `user` (their refresh tokens revoked, their session generation
    /// moved on) and the start of a new one, which it answers.
    private func renewingSessions(
        of user: User, with changes: inout ChangeSet, in store: any TenantStorage, at now: Date
    ) async throws -> Session {
        var user = user
        user.endSessions()
        let updated = changes.update(user)
        changes.append(.revokeRefreshTokens(user: user.id, at: now))
        let issued = issueRefreshToken(for: user.id, family: environment.ids.make(), at: now)
        changes.append(.insertRefreshToken(issued.record))
        try await store.commit(changes)
        return Session(user: updated, refreshToken: issued.token, record: issued.record)
    }

    /// Runs `check` of a two-factor code for the caller like a sign-in: one attempt per account key at a time (parallel
    /// guesses would all pass the lock check before any failure is counted), refused while the key is locked, and a
    /// wrong code (`check` answers `nil`) counted towards the lockout.
    private func checkingCode<Accepted: Sendable>(
        _ operation: String, of principal: Principal, _ check: @escaping (any TenantStorage, User, Date) async throws -> Accepted?
    ) async throws -> Accepted {
        let store = environment.store(principal)
        let caller = try await environment.acting(operation, as: principal) { _, actor in actor }
        let key = AccountKey(tenant: principal.tenantID, email: caller.email.value)
        return try await environment.signInGate.withKey(key) {
            let now = environment.now()
            let outcome = try await environment.acting(operation, as: principal) { (store, actor) -> CodeOutcome<Accepted> in
                if let until = try await store.loginThrottle(key: key)?.lockedUntil(at: now) { return .locked(until) }
                return try await check(store, actor, now).map(CodeOutcome.accepted) ?? .wrongCode
            }
            switch outcome {
            case .accepted(let accepted):
                return accepted
            case .locked(let until):
                throw Self.locked(until: until)
            case .wrongCode:
                try await recordFailure(of: key, in: store, at: now)
                throw Self.wrongCode
            }
        }
    }

    /// Whether `password` matches `storedHash`, in the time a check with the hasher's current parameters takes whatever
    /// the answer, so the time of a failed sign-in never tells that the address has an account: an unknown address (no
    /// hash) is checked against a real hash of the same hasher, and a wrong password checked against a hash of older,
    /// cheaper parameters (a lower bcrypt cost, say, until its owner's next sign-in replaces it) waits out the difference.
    private func checkPassword(_ password: String, against storedHash: String?) async throws -> Bool {
        let hasher = environment.passwordHasher
        guard let storedHash, hasher.needsRehash(storedHash) else {
            let candidate: String
            if let storedHash { candidate = storedHash } else { candidate = try await environment.dummyPasswordHash.value(using: hasher) }
            let started = ContinuousClock.now
            let matches = try await hasher.verify(password, against: candidate)
            await environment.passwordCheckTiming.record(ContinuousClock.now - started)
            return matches && storedHash != nil
        }
        let started = ContinuousClock.now
        if try await hasher.verify(password, against: storedHash) { return true }
        guard let typical = await environment.passwordCheckTiming.typical else {
            // Nothing measured yet in this process: a check with the current parameters takes the time it takes.
            _ = try await checkPassword(password, against: nil)
            return false
        }
        let remaining = typical - (ContinuousClock.now - started)
        if remaining > .zero { try? await Task.sleep(for: remaining) }
        return false
    }

    /// Stores a hash of `password` made with the hasher's current parameters in place of `old`, unless the password
    /// changed meanwhile. Best effort: the sign-in succeeded already, and the next one tries again.
    private func upgradeHash(of id: UserID, from old: String, password: String, in store: any TenantStorage) async {
        do {
            let upgraded = try await environment.passwordHasher.hash(password)
            try await environment.run("identity.rehash", tenant: store.tenantID) {
                guard var user = try await store.user(id), user.passwordHash == old else { return }
                user.passwordHash = upgraded
                var changes = ChangeSet()
                changes.update(user)
                try await store.commit(changes)
            }
        } catch {
            environment.logger.warning(
                "A password hash could not be upgraded", metadata: ["tradeskit.tenant": "\(store.tenantID)", "tradeskit.user": "\(id)"])
        }
    }

    /// Checks that `password` is the caller's, one attempt per account key at a time like a sign-in; a wrong one
    /// counts towards the login lockout of the caller's address.
    /// - Throws: ``TradesKitError/Code/wrongPassword``; ``TradesKitError/Code/accountLocked``.
    private func confirmPassword(_ password: String, of principal: Principal) async throws {
        let store = environment.store(principal)
        let actor = try await environment.acting("identity.reauthenticate", as: principal) { _, actor in actor }
        let key = AccountKey(tenant: principal.tenantID, email: actor.email.value)
        try await environment.signInGate.withKey(key) {
            let now = environment.now()
            let throttle = try await environment.run("identity.reauthenticate", tenant: principal.tenantID) {
                try await store.loginThrottle(key: key)
            }
            if let until = throttle?.lockedUntil(at: now) { throw Self.locked(until: until) }
            var verified = false
            if let hash = actor.passwordHash, password.utf8.count <= Self.maximumPasswordBytes {
                verified = try await environment.passwordHasher.verify(password, against: hash)
            }
            guard verified else {
                try await recordFailure(of: key, in: store, at: now)
                throw TradesKitError(.wrongPassword, "The password is not correct")
            }
        }
    }

    // MARK: Helpers

    /// Passwords longer than this many bytes are refused without hashing (bcrypt reads 72 bytes; nobody types 4 KiB).
    static let maximumPasswordBytes = 4_096

    static let wrongCredentials = TradesKitError(
        .unauthenticated, "The e-mail address or password is not correct, or the address is not confirmed yet")
    static let invalidSession = TradesKitError(.unauthenticated, "The session is not valid; sign in again")
    static let wrongCode = TradesKitError(.invalidTwoFactorCode, "The two-factor code is not correct")
    static let invalidLink = TradesKitError(.invalidToken, "The link is not valid or has expired")

    static func locked(until: Date) -> TradesKitError {
        TradesKitError(.accountLocked, "Too many failed sign-ins; try again later", retryAfter: until)
    }

    /// A new opaque refresh token and its record.
    private func issueRefreshToken(for user: UserID, family: RefreshTokenFamilyID, at now: Date) -> (token: String, record: RefreshToken) {
        let token = OpaqueToken.generate()
        let record = RefreshToken(
            id: environment.ids.make(), familyID: family, userID: user, tokenHash: OpaqueToken.hash(token), issuedAt: now,
            expiresAt: now.addingTimeInterval(configuration.refreshTokenLifetime).truncatedToMilliseconds)
        return (token, record)
    }

    /// Adds to `changes` the end of every session of `user` (``User/endSessions()``).
    private func endSessions(of user: UserID, in store: any TenantStorage, _ changes: inout ChangeSet) async throws {
        guard var user = try await store.user(user) else { return }
        user.endSessions()
        changes.update(user)
    }

    /// Commits a new one-time token; answers the plain token, which exists nowhere else.
    private func insertOneTimeToken(
        for user: UserID, purpose: OneTimeTokenPurpose, lifetime: TimeInterval, in store: any TenantStorage
    ) async throws -> String {
        let now = environment.now()
        let token = OpaqueToken.generate()
        var changes = ChangeSet()
        changes.append(
            .insertOneTimeToken(
                OneTimeToken(
                    id: environment.ids.make(), userID: user, purpose: purpose, tokenHash: OpaqueToken.hash(token), createdAt: now,
                    expiresAt: now.addingTimeInterval(lifetime).truncatedToMilliseconds)))
        try await store.commit(changes)
        return token
    }

    /// Reads a usable one-time token by its hash and its user, and starts the change set that spends the token.
    /// - Throws: ``invalidLink`` for an unknown, used or expired token, or a user that no longer exists.
    private func redeem(
        _ hash: String, _ purpose: OneTimeTokenPurpose, in store: any TenantStorage, at now: Date
    ) async throws -> (User, ChangeSet) {
        // A suspended account's links wait with it: a link sent before the suspension must not set a new password (or
        // verify the address) behind the admin's back, ready for the day the account is reinstated.
        guard let record = try await store.oneTimeToken(hash: hash, purpose: purpose), record.isUsable(at: now),
            let user = try await store.user(record.userID), !user.suspended
        else { throw Self.invalidLink }
        var used = record
        used.usedAt = now
        var changes = ChangeSet()
        changes.update(used)
        return (user, changes)
    }

    /// Counts one failed attempt on the throttle of `key`, creating it on the first failure.
    private func recordFailure(of key: AccountKey, in store: any TenantStorage, at now: Date) async throws {
        BusinessMetrics.loginFailures.increment()
        let throttle = try await environment.run("identity.throttle", tenant: store.tenantID) { () -> LoginThrottle in
            var changes = ChangeSet()
            let next: LoginThrottle
            if let existing = try await store.loginThrottle(key: key) {
                next = changes.update(existing.recordingFailure(at: now, policy: configuration.lockout))
            } else {
                next = LoginThrottle(key: key).recordingFailure(at: now, policy: configuration.lockout)
                changes.append(.insertLoginThrottle(next))
            }
            do {
                try await store.commit(changes)
            } catch let error as StorageError where error.code == .uniqueViolation && error.constraint == UniqueConstraint.loginThrottleKey {
                // A concurrent failure created the throttle first: count this one on top of it, from a fresh read.
                throw StorageError(.versionConflict, message: "The login throttle was created concurrently")
            }
            return next
        }
        if throttle.lockedUntil(at: now) != nil {
            BusinessMetrics.loginLockouts.increment()
            environment.logger.notice(
                "Failed sign-ins locked an account key",
                metadata: ["tradeskit.tenant": "\(store.tenantID)", "tradeskit.failures": "\(throttle.failures)"])
        }
    }

    /// The AES-GCM sealed box of a TOTP secret, bound to its tenant and user.
    private func seal(_ secret: Data, tenant: TenantID, user: UserID) throws -> Data {
        let sealed = try AES.GCM.seal(secret, using: configuration.twoFactorSealingKey, authenticating: Self.binding(tenant, user))
        guard let combined = sealed.combined else {
            throw TradesKitError(.notConfigured, "The two-factor secret could not be sealed")
        }
        return combined
    }

    /// The TOTP generator of a stored enrolment.
    private func open(_ enrollment: TwoFactorEnrollment, tenant: TenantID) throws -> TOTP {
        do {
            let box = try AES.GCM.SealedBox(combined: enrollment.sealedSecret)
            let secret = try AES.GCM.open(box, using: configuration.twoFactorSealingKey, authenticating: Self.binding(tenant, enrollment.userID))
            return TOTP(secret: secret)
        } catch {
            environment.logger.error(
                "A two-factor secret could not be opened; is the sealing key the one it was sealed with?",
                metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.user": "\(enrollment.userID)"])
            throw TradesKitError(.notConfigured, "Two-factor codes cannot be checked at the moment")
        }
    }

    /// Additional authenticated data: a sealed secret opens only for the tenant and user it was sealed for.
    private static func binding(_ tenant: TenantID, _ user: UserID) -> Data {
        Data("tradeskit.totp:\(tenant.uuidString):\(user.uuidString)".utf8)
    }

    private func emailSender() throws -> any EmailSender {
        guard let sender = environment.emailSender else {
            throw TradesKitError(.notConfigured, "No e-mail sender is configured")
        }
        return sender
    }

    private static func sender(of tenant: Tenant) throws -> EmailAddress {
        guard let address = try? EmailAddress(tenant.settings.branding.fromEmail) else {
            throw TradesKitError(.notConfigured, "The tenant has no valid sender address")
        }
        return address
    }

    /// `3600` → "1 hour", `172800` → "48 hours", `900` → "15 minutes".
    static func duration(_ seconds: TimeInterval) -> String {
        let minutes = Int((seconds / 60).rounded())
        if minutes % 60 == 0, minutes >= 60 { return minutes == 60 ? "1 hour" : "\(minutes / 60) hours" }
        return minutes == 1 ? "1 minute" : "\(minutes) minutes"
    }

    private func logDeliveryFailure(_ kind: String, tenant: TenantID, _ error: any Error) {
        environment.logger.warning(
            "An identity e-mail could not be sent",
            metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.email_kind": "\(kind)", "tradeskit.error_type": "\(type(of: error))"])
    }
}

/// What a sign-up leaves to send: the verification link of a new account, the notice to the owner of a taken address,
/// or nothing (a suspended account). Failures are logged when it runs, not thrown.
public struct SignUpDelivery: Sendable {
    private let body: @Sendable () async -> Void

    init(_ body: @escaping @Sendable () async -> Void) { self.body = body }

    /// Sends the e-mail, if there is one.
    public func send() async { await body() }
}

/// An identity e-mail decided inside a transaction, sent after it committed.
private struct PendingEmail: Sendable {
    let to: EmailAddress
    let from: EmailAddress
    let subject: String
    let text: String

    var message: EmailMessage { EmailMessage(to: to, from: from, subject: subject, text: text) }
}

private enum LoginOutcome: Sendable {
    case session(IdentityService.Session)
    /// The key was locked by failures counted elsewhere while the password was checked.
    case lostToLock
    /// The password changed while it was checked (a reset): the one given is no longer right.
    case credentialsChanged
    /// The account was suspended while the password was checked.
    case suspended
    case twoFactorRequired
    case wrongCode
}

private enum RefreshOutcome: Sendable {
    case session(IdentityService.Session)
    case reused(RefreshTokenFamilyID)
    case invalid
    case suspended
}

private enum CodeOutcome<Accepted: Sendable>: Sendable {
    case accepted(Accepted)
    case locked(Date)
    case wrongCode
}
