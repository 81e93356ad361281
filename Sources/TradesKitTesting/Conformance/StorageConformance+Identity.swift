import Foundation
import TradesKit

extension StorageConformance {
    static let identityChecks: [StorageConformanceCheck] = [
        StorageConformanceCheck("identity.refreshTokens") { storage in
            let world = try await ConformanceWorld.make(storage)
            let token = world.fixtures.refreshToken(user: world.owner.id, at: world.next())
            var full = world.fixtures.refreshToken(user: world.owner.id, family: token.familyID, at: world.next())
            full.usedAt = world.next()
            full.revokedAt = world.next()
            full.version = 3
            try await world.commit(.insertRefreshToken(token), .insertRefreshToken(full))
            try expect(try await world.db.refreshToken(hash: token.tokenHash) == token, "refresh token with optionals nil differs after read-back")
            try expect(try await world.db.refreshToken(hash: full.tokenHash) == full, "refresh token with every field set differs after read-back")
            try expect(try await world.db.refreshToken(hash: OpaqueToken.hash("unknown")) == nil, "refreshToken(hash:) found an unknown hash")

            var used = token
            used.usedAt = world.next()
            var changes = ChangeSet()
            let committed = changes.update(used)
            try await world.db.commit(changes)
            try expect(
                try await world.db.refreshToken(hash: token.tokenHash) == committed && committed.version == 2,
                "a refresh-token update must store the new values at version + 1")
            try await expectStorageError(.versionConflict, "a stale refresh-token update") { try await world.commit(.updateRefreshToken(used)) }

            let twin = RefreshToken(
                id: world.fixtures.ids.make(), familyID: world.fixtures.ids.make(), userID: world.contractor.id, tokenHash: token.tokenHash,
                issuedAt: world.next(), expiresAt: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.refreshTokenHash, "a second token with the same hash") {
                try await world.commit(.insertRefreshToken(twin))
            }
            let sameID = RefreshToken(
                id: token.id, familyID: token.familyID, userID: world.owner.id, tokenHash: OpaqueToken.hash("another token"),
                issuedAt: world.next(), expiresAt: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.primaryKey, "a second token with the same id") {
                try await world.commit(.insertRefreshToken(sameID))
            }
            let orphan = world.fixtures.refreshToken(user: UserID(world.fixtures.ids.next()), at: world.next())
            try await expectStorageError(.missingRow, "a refresh token of a user that does not exist") {
                try await world.commit(.insertRefreshToken(orphan))
            }
            try await expectStorageError(.missingRow, "updating a refresh token that does not exist") {
                try await world.commit(.updateRefreshToken(orphan))
            }
        },
        StorageConformanceCheck("identity.refreshTokenRevocation") { storage in
            let world = try await ConformanceWorld.make(storage)
            let family: RefreshTokenFamilyID = world.fixtures.ids.make()
            var rotated = world.fixtures.refreshToken(user: world.owner.id, family: family, at: world.next())
            rotated.usedAt = world.next()
            let live = world.fixtures.refreshToken(user: world.owner.id, family: family, at: world.next())
            let earlier = world.next()
            var revoked = world.fixtures.refreshToken(user: world.owner.id, family: family, at: world.next())
            revoked.revokedAt = earlier
            let otherSession = world.fixtures.refreshToken(user: world.owner.id, at: world.next())
            let otherUser = world.fixtures.refreshToken(user: world.contractor.id, at: world.next())
            try await world.commit(
                .insertRefreshToken(rotated), .insertRefreshToken(live), .insertRefreshToken(revoked), .insertRefreshToken(otherSession),
                .insertRefreshToken(otherUser))

            let now = world.next()
            try await world.commit(.revokeRefreshTokenFamily(family, at: now))
            for token in [rotated, live] {
                let read = try await world.db.refreshToken(hash: token.tokenHash)
                try expect(
                    read?.revokedAt == now && read?.version == token.version + 1 && read?.usedAt == token.usedAt,
                    "revoking a family must set revokedAt and bump the version of each of its live tokens: \(String(describing: read))")
            }
            try expect(
                try await world.db.refreshToken(hash: revoked.tokenHash) == revoked,
                "revoking a family must leave a token revoked earlier as it was")
            try expect(try await world.db.refreshToken(hash: otherSession.tokenHash) == otherSession, "revoking a family touched another family")
            try expect(try await world.db.refreshToken(hash: otherUser.tokenHash) == otherUser, "revoking a family touched another user's token")
            // A rotation that read the token before the revocation must not go through.
            var lateRotation = live
            lateRotation.usedAt = world.next()
            try await expectStorageError(.versionConflict, "rotating a token its family's revocation bumped") {
                try await world.commit(.updateRefreshToken(lateRotation))
            }
            try await world.commit(.revokeRefreshTokenFamily(world.fixtures.ids.make(), at: world.next()))

            let later = world.next()
            try await world.commit(.revokeRefreshTokens(user: world.owner.id, at: later))
            let session = try await world.db.refreshToken(hash: otherSession.tokenHash)
            try expect(
                session?.revokedAt == later && session?.version == otherSession.version + 1,
                "revoking a user's tokens must revoke every live token of the user")
            try expect(try await world.db.refreshToken(hash: live.tokenHash)?.revokedAt == now, "revoking again must keep the first instant")
            try expect(try await world.db.refreshToken(hash: otherUser.tokenHash) == otherUser, "revoking a user's tokens touched another user's")
        },
        StorageConformanceCheck("concurrency.revocationCatchesARacingRotation") { storage in
            let world = try await ConformanceWorld.make(storage)
            let db = world.db
            for _ in 0..<20 {
                let now = world.next()
                let token = world.fixtures.refreshToken(user: world.owner.id, at: now)
                try await world.commit(.insertRefreshToken(token))
                var used = token
                used.usedAt = now
                let next = world.fixtures.refreshToken(user: world.owner.id, family: token.familyID, at: now)
                var rotation = ChangeSet()
                rotation.update(used)
                rotation.append(.insertRefreshToken(next))
                var revocation = ChangeSet()
                revocation.append(.revokeRefreshTokenFamily(token.familyID, at: now))
                let sets = [rotation, revocation]
                let rotated = await withTaskGroup(of: Bool.self) { group in
                    for set in sets { group.addTask { (try? await db.commit(set)) != nil } }
                    var results: [Bool] = []
                    for await result in group { results.append(result) }
                    return results
                }
                try expect(rotated.contains(true), "neither the rotation nor the revocation committed")
                // Whichever committed first, no token of the family may be left alive.
                for hash in [token.tokenHash, next.tokenHash] {
                    if let read = try await db.refreshToken(hash: hash) {
                        try expect(read.revokedAt != nil, "a token rotated while its family was revoked is still alive")
                    }
                }
            }
        },
        StorageConformanceCheck("identity.oneTimeTokens") { storage in
            let world = try await ConformanceWorld.make(storage)
            let verification = world.fixtures.oneTimeToken(user: world.owner.id, purpose: .emailVerification, at: world.next())
            let reset = world.fixtures.oneTimeToken(user: world.owner.id, purpose: .passwordReset, at: world.next())
            let reset2 = world.fixtures.oneTimeToken(user: world.owner.id, purpose: .passwordReset, at: world.next())
            let othersReset = world.fixtures.oneTimeToken(user: world.contractor.id, purpose: .passwordReset, at: world.next())
            var spent = world.fixtures.oneTimeToken(user: world.owner.id, purpose: .passwordReset, at: world.next())
            spent.usedAt = world.next()
            spent.version = 2
            try await world.commit(
                .insertOneTimeToken(verification), .insertOneTimeToken(reset), .insertOneTimeToken(reset2), .insertOneTimeToken(othersReset),
                .insertOneTimeToken(spent))
            for token in [verification, reset, spent] {
                try expect(
                    try await world.db.oneTimeToken(hash: token.tokenHash, purpose: token.purpose) == token,
                    "one-time token differs after read-back: \(token)")
            }
            try expect(
                try await world.db.oneTimeToken(hash: verification.tokenHash, purpose: .passwordReset) == nil,
                "a verification token must not be found as a reset token")

            var used = verification
            used.usedAt = world.next()
            var changes = ChangeSet()
            let committed = changes.update(used)
            try await world.db.commit(changes)
            try expect(
                try await world.db.oneTimeToken(hash: used.tokenHash, purpose: .emailVerification) == committed && committed.version == 2,
                "a one-time-token update must store the new values at version + 1")
            try await expectStorageError(.versionConflict, "a stale one-time-token update") { try await world.commit(.updateOneTimeToken(used)) }

            let twin = OneTimeToken(
                id: world.fixtures.ids.make(), userID: world.contractor.id, purpose: .emailVerification, tokenHash: reset.tokenHash,
                createdAt: world.next(), expiresAt: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.oneTimeTokenHash, "a second token with the same hash") {
                try await world.commit(.insertOneTimeToken(twin))
            }
            let orphan = world.fixtures.oneTimeToken(user: UserID(world.fixtures.ids.next()), purpose: .passwordReset, at: world.next())
            try await expectStorageError(.missingRow, "a one-time token of a user that does not exist") {
                try await world.commit(.insertOneTimeToken(orphan))
            }
            try await expectStorageError(.missingRow, "updating a one-time token that does not exist") {
                try await world.commit(.updateOneTimeToken(orphan))
            }

            let now = world.next()
            try await world.commit(.consumeOneTimeTokens(user: world.owner.id, purpose: .passwordReset, at: now))
            for token in [reset, reset2] {
                let read = try await world.db.oneTimeToken(hash: token.tokenHash, purpose: .passwordReset)
                try expect(
                    read?.usedAt == now && read?.version == token.version + 1,
                    "consuming a user's tokens must mark each unused one used and bump its version")
            }
            try expect(
                try await world.db.oneTimeToken(hash: spent.tokenHash, purpose: .passwordReset) == spent,
                "consuming must leave a token used earlier as it was")
            try expect(
                try await world.db.oneTimeToken(hash: committed.tokenHash, purpose: .emailVerification) == committed,
                "consuming reset tokens touched a verification token")
            try expect(
                try await world.db.oneTimeToken(hash: othersReset.tokenHash, purpose: .passwordReset) == othersReset,
                "consuming a user's tokens touched another user's")
        },
        StorageConformanceCheck("identity.twoFactor") { storage in
            let world = try await ConformanceWorld.make(storage)
            let enrollment = world.fixtures.twoFactor(user: world.owner.id, at: world.next())
            try await world.commit(.insertTwoFactor(enrollment))
            try expect(try await world.db.twoFactor(user: world.owner.id) == enrollment, "a pending enrolment differs after read-back")
            try expect(try await world.db.twoFactor(user: world.contractor.id) == nil, "twoFactor(user:) found another user's enrolment")

            var confirmed = enrollment
            confirmed.confirmedAt = world.next()
            confirmed.lastAcceptedStep = 66_666_666_666
            confirmed.sealedSecret = Data([0, 1, 2, 0, 255])
            var changes = ChangeSet()
            let committed = changes.update(confirmed)
            try await world.db.commit(changes)
            try expect(
                try await world.db.twoFactor(user: world.owner.id) == committed && committed.version == 2,
                "a confirmed enrolment differs after read-back, or its version did not move to 2")
            try await expectStorageError(.versionConflict, "a stale enrolment update") { try await world.commit(.updateTwoFactor(confirmed)) }
            let twin = world.fixtures.twoFactor(user: world.owner.id, at: world.next())
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.twoFactorUser, "a second enrolment of the user") {
                try await world.commit(.insertTwoFactor(twin))
            }

            try await expectStorageError(.versionConflict, "deleting an enrolment at an old version") {
                try await world.commit(.deleteTwoFactor(world.owner.id, version: 1))
            }
            try expect(try await world.db.twoFactor(user: world.owner.id) == committed, "a failed delete removed the enrolment")
            try await world.commit(.deleteTwoFactor(world.owner.id, version: committed.version))
            try expect(try await world.db.twoFactor(user: world.owner.id) == nil, "a deleted enrolment is still there")
            try await expectStorageError(.missingRow, "deleting an enrolment that does not exist") {
                try await world.commit(.deleteTwoFactor(world.owner.id, version: committed.version))
            }
            try await expectStorageError(.missingRow, "updating an enrolment that does not exist") {
                try await world.commit(.updateTwoFactor(committed))
            }
            try await world.commit(.insertTwoFactor(twin))
            try expect(try await world.db.twoFactor(user: world.owner.id) == twin, "enrolling again after a delete failed")
            let orphan = world.fixtures.twoFactor(user: UserID(world.fixtures.ids.next()), at: world.next())
            try await expectStorageError(.missingRow, "an enrolment of a user that does not exist") {
                try await world.commit(.insertTwoFactor(orphan))
            }
        },
        StorageConformanceCheck("identity.loginThrottles") { storage in
            let world = try await ConformanceWorld.make(storage)
            // Throttles exist for addresses without an account: they reference no user.
            let key = AccountKey(tenant: world.tenant.id, email: "nobody@nowhere.example")
            let fresh = LoginThrottle(key: key)
            let known = LoginThrottle(
                key: AccountKey(tenant: world.tenant.id, email: world.owner.email.value), failures: 7, lockedUntil: world.next(),
                lastFailureAt: world.next(), version: 4)
            try await world.commit(.insertLoginThrottle(fresh), .insertLoginThrottle(known))
            try expect(try await world.db.loginThrottle(key: key) == fresh, "a throttle with optionals nil differs after read-back")
            try expect(try await world.db.loginThrottle(key: known.key) == known, "a throttle with every field set differs after read-back")
            let elsewhere = AccountKey(tenant: world.tenant.id, email: "someone@else.example")
            try expect(try await world.db.loginThrottle(key: elsewhere) == nil, "loginThrottle(key:) found an unknown key")

            let failed = fresh.recordingFailure(at: world.next(), policy: LockoutPolicy(threshold: 1))
            var changes = ChangeSet()
            let committed = changes.update(failed)
            try await world.db.commit(changes)
            try expect(
                try await world.db.loginThrottle(key: key) == committed && committed.version == 2,
                "a throttle update must store the new values at version + 1")
            try await expectStorageError(.versionConflict, "a stale throttle update") { try await world.commit(.updateLoginThrottle(failed)) }
            try await expectStorageError(.uniqueViolation, constraint: UniqueConstraint.loginThrottleKey, "a second throttle for a key") {
                try await world.commit(.insertLoginThrottle(LoginThrottle(key: key)))
            }
            try await expectStorageError(.missingRow, "updating a throttle that does not exist") {
                try await world.commit(.updateLoginThrottle(LoginThrottle(key: elsewhere)))
            }
        },
        StorageConformanceCheck("identity.purge") { storage in
            let a = try await ConformanceWorld.make(storage, slug: "acme")
            let b = try await ConformanceWorld.make(storage, slug: "beta", fixtures: a.fixtures, clock: a.clock)
            let start = a.next()
            let day: TimeInterval = 86_400
            let tokensExpiredBefore = start.addingTimeInterval(8 * day)
            let throttlesIdleSince = start.addingTimeInterval(2 * day)
            /// What a purge must delete and what it must keep, for one tenant.
            func seed(_ world: ConformanceWorld) async throws -> (gone: Int, kept: [RefreshToken], keptOneTime: OneTimeToken, keptKeys: [AccountKey])
            {
                let fixtures = world.fixtures
                let user = world.owner.id
                let expired = fixtures.refreshToken(user: user, at: start)  // expires at start + 7 days
                var spent = fixtures.refreshToken(user: user, at: start)
                spent.usedAt = start.addingTimeInterval(day)
                let atCutoff = fixtures.refreshToken(user: user, at: start.addingTimeInterval(day))  // expires exactly at the cutoff
                let live = fixtures.refreshToken(user: user, at: start.addingTimeInterval(2 * day))
                let oldLink = fixtures.oneTimeToken(user: user, purpose: .passwordReset, at: start)
                let liveLink = fixtures.oneTimeToken(user: user, purpose: .emailVerification, at: tokensExpiredBefore.addingTimeInterval(-1_800))
                func key(_ name: String) -> AccountKey { AccountKey(tenant: world.tenant.id, email: "\(name)@example.com") }
                let idle = LoginThrottle(key: key("idle"), failures: 6, lockedUntil: start.addingTimeInterval(3_600), lastFailureAt: start)
                let cleared = LoginThrottle(key: key("cleared"), failures: 0, lockedUntil: nil, lastFailureAt: start)
                let untouched = LoginThrottle(key: key("untouched"))
                let recent = LoginThrottle(key: key("recent"), failures: 1, lastFailureAt: start.addingTimeInterval(3 * day))
                let stillLocked = LoginThrottle(key: key("locked"), failures: 9, lockedUntil: start.addingTimeInterval(3 * day), lastFailureAt: start)
                try await world.commit(
                    .insertRefreshToken(expired), .insertRefreshToken(spent), .insertRefreshToken(atCutoff), .insertRefreshToken(live),
                    .insertOneTimeToken(oldLink), .insertOneTimeToken(liveLink), .insertLoginThrottle(idle), .insertLoginThrottle(cleared),
                    .insertLoginThrottle(untouched), .insertLoginThrottle(recent), .insertLoginThrottle(stillLocked))
                return (6, [atCutoff, live], liveLink, [recent.key, stillLocked.key])
            }
            let seededA = try await seed(a)
            let seededB = try await seed(b)
            let purged = try await a.db.purgeIdentityRecords(tokensExpiredBefore: tokensExpiredBefore, throttlesIdleSince: throttlesIdleSince)
            try expect(purged == seededA.gone, "the purge deleted \(purged) rows, expected \(seededA.gone)")
            for token in seededA.kept {
                try expect(
                    try await a.db.refreshToken(hash: token.tokenHash) == token, "the purge deleted a refresh token not yet expired long enough")
            }
            try expect(
                try await a.db.oneTimeToken(hash: seededA.keptOneTime.tokenHash, purpose: .emailVerification) == seededA.keptOneTime,
                "the purge deleted a live one-time token")
            for key in seededA.keptKeys { try expect(try await a.db.loginThrottle(key: key) != nil, "the purge deleted a throttle still in use") }
            try expect(
                try await a.db.loginThrottle(key: AccountKey(tenant: a.tenant.id, email: "idle@example.com")) == nil,
                "an idle throttle survived the purge")
            // Nothing of tenant B went with tenant A's purge: B's own purge finds all of its old rows.
            let purgedB = try await b.db.purgeIdentityRecords(tokensExpiredBefore: tokensExpiredBefore, throttlesIdleSince: throttlesIdleSince)
            try expect(purgedB == seededB.gone, "tenant A's purge reached tenant B's rows (B's purge deleted \(purgedB))")
            try expect(
                try await a.db.purgeIdentityRecords(tokensExpiredBefore: tokensExpiredBefore, throttlesIdleSince: throttlesIdleSince) == 0,
                "a second purge found rows to delete")
        },
        StorageConformanceCheck("isolation.identity") { storage in
            let a = try await ConformanceWorld.make(storage, slug: "acme")
            let b = try await ConformanceWorld.make(storage, slug: "beta", fixtures: a.fixtures, clock: a.clock)
            let token = a.fixtures.refreshToken(user: a.owner.id, at: a.next())
            let link = a.fixtures.oneTimeToken(user: a.owner.id, purpose: .passwordReset, at: a.next())
            let enrollment = a.fixtures.twoFactor(user: a.owner.id, at: a.next())
            let key = AccountKey(tenant: a.tenant.id, email: a.owner.email.value)
            let throttle = LoginThrottle(key: key, failures: 3, lastFailureAt: a.next())
            try await a.commit(.insertRefreshToken(token), .insertOneTimeToken(link), .insertTwoFactor(enrollment), .insertLoginThrottle(throttle))

            // B's handle sees none of it.
            try expect(try await b.db.refreshToken(hash: token.tokenHash) == nil, "refreshToken(hash:) leaks across tenants")
            try expect(try await b.db.oneTimeToken(hash: link.tokenHash, purpose: .passwordReset) == nil, "oneTimeToken(hash:) leaks across tenants")
            try expect(try await b.db.twoFactor(user: a.owner.id) == nil, "twoFactor(user:) leaks across tenants")
            try expect(try await b.db.loginThrottle(key: key) == nil, "loginThrottle(key:) leaks across tenants")

            // B's writes cannot reach it.
            var revoked = token
            revoked.revokedAt = b.next()
            try await expectStorageError(.missingRow, "tenant B updating tenant A's refresh token") {
                try await b.commit(.updateRefreshToken(revoked))
            }
            var used = link
            used.usedAt = b.next()
            try await expectStorageError(.missingRow, "tenant B updating tenant A's one-time token") { try await b.commit(.updateOneTimeToken(used)) }
            var confirmed = enrollment
            confirmed.confirmedAt = b.next()
            try await expectStorageError(.missingRow, "tenant B updating tenant A's enrolment") { try await b.commit(.updateTwoFactor(confirmed)) }
            try await expectStorageError(.missingRow, "tenant B deleting tenant A's enrolment") {
                try await b.commit(.deleteTwoFactor(a.owner.id, version: enrollment.version))
            }
            var cleared = throttle
            cleared.failures = 0
            try await expectStorageError(.missingRow, "tenant B updating tenant A's throttle") { try await b.commit(.updateLoginThrottle(cleared)) }
            try await b.commit(
                .revokeRefreshTokenFamily(token.familyID, at: b.next()), .revokeRefreshTokens(user: a.owner.id, at: b.next()),
                .consumeOneTimeTokens(user: a.owner.id, purpose: .passwordReset, at: b.next()))
            let stolen = b.fixtures.refreshToken(user: a.owner.id, at: b.next())
            try await expectStorageError(.missingRow, "tenant B issuing a token to tenant A's user") {
                try await b.commit(.insertRefreshToken(stolen))
            }
            try await expectStorageError(.missingRow, "tenant B enrolling tenant A's user") {
                try await b.commit(.insertTwoFactor(b.fixtures.twoFactor(user: a.owner.id, at: b.next())))
            }

            try expect(try await a.db.refreshToken(hash: token.tokenHash) == token, "tenant B's handle changed tenant A's refresh token")
            try expect(try await a.db.oneTimeToken(hash: link.tokenHash, purpose: .passwordReset) == link, "tenant B changed tenant A's link")
            try expect(try await a.db.twoFactor(user: a.owner.id) == enrollment, "tenant B changed tenant A's enrolment")
            try expect(try await a.db.loginThrottle(key: key) == throttle, "tenant B changed tenant A's throttle")

            // Hashes and keys are unique per tenant: the same values are free in B.
            var twin = b.fixtures.refreshToken(user: b.owner.id, at: b.next())
            twin = RefreshToken(
                id: twin.id, familyID: twin.familyID, userID: twin.userID, tokenHash: token.tokenHash, issuedAt: twin.issuedAt,
                expiresAt: twin.expiresAt)
            try await b.commit(.insertRefreshToken(twin), .insertLoginThrottle(LoginThrottle(key: key)))
            try expect(try await b.db.refreshToken(hash: token.tokenHash) == twin, "tenant B must find its own token with the same hash")
            try expect(try await a.db.refreshToken(hash: token.tokenHash) == token, "tenant A must still find its own token")
        },
    ]
}
