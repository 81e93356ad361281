import Foundation
import PostgresNIO
import TradesKit

extension ChangeWriter {
    /// The identity changes: sessions, e-mailed tokens, two-factor enrolments, login throttles.
    ///
    /// Every write of a user's refresh tokens first takes a transaction-level advisory lock on (tenant, user), so
    /// rotations and revocations of one user's sessions serialize. Without it, under READ COMMITTED, a family revocation
    /// whose UPDATE began before a concurrent rotation committed would wait on the rotated row, then revoke it, but never
    /// see the token the rotation inserted (not in its snapshot): reuse detection would leave that token alive. With the
    /// lock, the revocation's UPDATE starts after the rotation committed and sees every token; a rotation that comes
    /// second finds its token's version bumped by the revocation and fails, and core retries it into the reuse path.
    /// A user's e-mailed (one-time) tokens take a lock of their own the same way, so that spending every reset link of a
    /// user also spends one issued while the reset was being confirmed.
    func applyIdentity(_ change: ChangeSet.Change) async throws {
        let tenant = tenantID.rawValue
        switch change {
        case .insertRefreshToken(let value):
            try await lock(.refreshTokens, of: [value.userID])
            try await run(
                """
                INSERT INTO refresh_tokens (tenant_id, id, family_id, user_id, token_hash, issued_at, expires_at, used_at, revoked_at, version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.familyID.rawValue), \(value.userID.rawValue), \(value.tokenHash),
                        \(value.issuedAt.millisecondsSince1970), \(value.expiresAt.millisecondsSince1970), \(value.usedAt?.millisecondsSince1970),
                        \(value.revokedAt?.millisecondsSince1970), \(value.version))
                """)
        case .updateRefreshToken(let value):
            try await lock(.refreshTokens, of: [value.userID])
            let affected = try await run(
                """
                UPDATE refresh_tokens SET used_at = \(value.usedAt?.millisecondsSince1970), revoked_at = \(value.revokedAt?.millisecondsSince1970),
                    version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated(
                "refresh token", affected, exists: "SELECT 1 FROM refresh_tokens WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue)")
        case .revokeRefreshTokenFamily(let family, let now):
            var users: [UserID] = []
            let rows = try await connection.query(
                "SELECT DISTINCT user_id FROM refresh_tokens WHERE tenant_id = \(tenant) AND family_id = \(family.rawValue)", logger: logger)
            for try await (user) in rows.decode(UUID.self) { users.append(UserID(user)) }
            try await lock(.refreshTokens, of: users)
            try await run(
                """
                UPDATE refresh_tokens SET revoked_at = \(now.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND family_id = \(family.rawValue) AND revoked_at IS NULL
                """)
        case .revokeRefreshTokens(let user, let now):
            try await lock(.refreshTokens, of: [user])
            try await run(
                """
                UPDATE refresh_tokens SET revoked_at = \(now.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND user_id = \(user.rawValue) AND revoked_at IS NULL
                """)
        case .insertOneTimeToken(let value):
            try await lock(.oneTimeTokens, of: [value.userID])
            try await run(
                """
                INSERT INTO one_time_tokens (tenant_id, id, user_id, purpose, token_hash, created_at, expires_at, used_at, version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.userID.rawValue), \(value.purpose.rawValue), \(value.tokenHash),
                        \(value.createdAt.millisecondsSince1970), \(value.expiresAt.millisecondsSince1970), \(value.usedAt?.millisecondsSince1970),
                        \(value.version))
                """)
        case .updateOneTimeToken(let value):
            try await lock(.oneTimeTokens, of: [value.userID])
            let affected = try await run(
                """
                UPDATE one_time_tokens SET used_at = \(value.usedAt?.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated(
                "one-time token", affected, exists: "SELECT 1 FROM one_time_tokens WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue)")
        case .consumeOneTimeTokens(let user, let purpose, let now):
            try await lock(.oneTimeTokens, of: [user])
            try await run(
                """
                UPDATE one_time_tokens SET used_at = \(now.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND user_id = \(user.rawValue) AND purpose = \(purpose.rawValue) AND used_at IS NULL
                """)
        case .insertTwoFactor(let value):
            try await run(
                """
                INSERT INTO two_factor_enrollments (tenant_id, user_id, sealed_secret, created_at, confirmed_at, last_accepted_step, version)
                VALUES (\(tenant), \(value.userID.rawValue), \(value.sealedSecret), \(value.createdAt.millisecondsSince1970),
                        \(value.confirmedAt?.millisecondsSince1970), \(value.lastAcceptedStep), \(value.version))
                """)
        case .updateTwoFactor(let value):
            let affected = try await run(
                """
                UPDATE two_factor_enrollments SET sealed_secret = \(value.sealedSecret), created_at = \(value.createdAt.millisecondsSince1970),
                    confirmed_at = \(value.confirmedAt?.millisecondsSince1970), last_accepted_step = \(value.lastAcceptedStep), version = version + 1
                WHERE tenant_id = \(tenant) AND user_id = \(value.userID.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated(
                "two-factor enrolment", affected,
                exists: "SELECT 1 FROM two_factor_enrollments WHERE tenant_id = \(tenant) AND user_id = \(value.userID.rawValue)")
        case .deleteTwoFactor(let user, let version):
            let affected = try await run(
                """
                DELETE FROM two_factor_enrollments WHERE tenant_id = \(tenant) AND user_id = \(user.rawValue) AND version = \(version) RETURNING 1
                """)
            try await requireUpdated(
                "two-factor enrolment", affected,
                exists: "SELECT 1 FROM two_factor_enrollments WHERE tenant_id = \(tenant) AND user_id = \(user.rawValue)")
        case .insertLoginThrottle(let value):
            try await run(
                """
                INSERT INTO login_throttles (tenant_id, account_key, failures, locked_until, last_failure_at, version)
                VALUES (\(tenant), \(value.key.rawValue), \(value.failures), \(value.lockedUntil?.millisecondsSince1970),
                        \(value.lastFailureAt?.millisecondsSince1970), \(value.version))
                """)
        case .updateLoginThrottle(let value):
            let affected = try await run(
                """
                UPDATE login_throttles SET failures = \(value.failures), locked_until = \(value.lockedUntil?.millisecondsSince1970),
                    last_failure_at = \(value.lastFailureAt?.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND account_key = \(value.key.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated(
                "login throttle", affected,
                exists: "SELECT 1 FROM login_throttles WHERE tenant_id = \(tenant) AND account_key = \(value.key.rawValue)")
        default:
            // Only identity changes are passed here.
            break
        }
    }

    /// A user's rows that writers serialize on.
    private enum LockedRows: String {
        case refreshTokens = "refresh_tokens"
        case oneTimeTokens = "one_time_tokens"
    }

    /// Takes the advisory lock of each user's `rows` (sorted, so two transactions never wait on each other in a cycle);
    /// held until the transaction ends. Re-entrant within a transaction.
    private func lock(_ rows: LockedRows, of users: [UserID]) async throws {
        for user in Set(users).sorted() {
            let key = "tradeskit.\(rows.rawValue):\(tenantID.uuidString):\(user.uuidString)"
            try await run("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))")
        }
    }
}
