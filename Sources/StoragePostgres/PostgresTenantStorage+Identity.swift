import Foundation
import PostgresNIO
import TradesKit

extension PostgresTenantStorage {
    func refreshToken(hash: String) async throws -> RefreshToken? {
        try await first(
            "SELECT \(unescaped: Columns.refreshToken) FROM refresh_tokens WHERE tenant_id = \(tenant) AND token_hash = \(hash)",
            Decode.refreshToken)
    }

    func oneTimeToken(hash: String, purpose: OneTimeTokenPurpose) async throws -> OneTimeToken? {
        try await first(
            """
            SELECT \(unescaped: Columns.oneTimeToken) FROM one_time_tokens
            WHERE tenant_id = \(tenant) AND token_hash = \(hash) AND purpose = \(purpose.rawValue)
            """, Decode.oneTimeToken)
    }

    func twoFactor(user: UserID) async throws -> TwoFactorEnrollment? {
        try await first(
            "SELECT \(unescaped: Columns.twoFactor) FROM two_factor_enrollments WHERE tenant_id = \(tenant) AND user_id = \(user.rawValue)",
            Decode.twoFactor)
    }

    func loginThrottle(key: AccountKey) async throws -> LoginThrottle? {
        try await first(
            "SELECT \(unescaped: Columns.loginThrottle) FROM login_throttles WHERE tenant_id = \(tenant) AND account_key = \(key.rawValue)",
            Decode.loginThrottle)
    }

    func purgeIdentityRecords(tokensExpiredBefore: Date, throttlesIdleSince: Date) async throws -> Int {
        let tenant = tenant
        let expired = tokensExpiredBefore.millisecondsSince1970
        let idle = throttlesIdleSince.millisecondsSince1970
        let logger = database.driverLogger
        return try await read { connection in
            var deleted = 0
            // `RETURNING 1` turns deleted rows into rows to count.
            for query: PostgresQuery in [
                "DELETE FROM refresh_tokens WHERE tenant_id = \(tenant) AND expires_at < \(expired) RETURNING 1",
                "DELETE FROM one_time_tokens WHERE tenant_id = \(tenant) AND expires_at < \(expired) RETURNING 1",
                """
                DELETE FROM login_throttles WHERE tenant_id = \(tenant) AND coalesce(last_failure_at, 0) < \(idle)
                    AND coalesce(locked_until, 0) < \(idle) RETURNING 1
                """,
            ] {
                for try await _ in try await connection.query(query, logger: logger) { deleted += 1 }
            }
            return deleted
        }
    }
}

extension Columns {
    static let refreshToken = "id, family_id, user_id, token_hash, issued_at, expires_at, used_at, revoked_at, version"
    static let oneTimeToken = "id, user_id, purpose, token_hash, created_at, expires_at, used_at, version"
    static let twoFactor = "user_id, sealed_secret, created_at, confirmed_at, last_accepted_step, version"
    static let loginThrottle = "account_key, failures, locked_until, last_failure_at, version"
}

extension Decode {
    static func refreshToken(_ row: PostgresRandomAccessRow) throws -> RefreshToken {
        RefreshToken(
            id: try row.id("id"), familyID: try row.id("family_id"), userID: try row.id("user_id"), tokenHash: try row.value("token_hash"),
            issuedAt: try row.date("issued_at"), expiresAt: try row.date("expires_at"), usedAt: try row.optionalDate("used_at"),
            revokedAt: try row.optionalDate("revoked_at"), version: try row.value("version"))
    }

    static func oneTimeToken(_ row: PostgresRandomAccessRow) throws -> OneTimeToken {
        OneTimeToken(
            id: try row.id("id"), userID: try row.id("user_id"), purpose: try row.enumeration("purpose"), tokenHash: try row.value("token_hash"),
            createdAt: try row.date("created_at"), expiresAt: try row.date("expires_at"), usedAt: try row.optionalDate("used_at"),
            version: try row.value("version"))
    }

    static func twoFactor(_ row: PostgresRandomAccessRow) throws -> TwoFactorEnrollment {
        TwoFactorEnrollment(
            userID: try row.id("user_id"), sealedSecret: try row.value("sealed_secret"), createdAt: try row.date("created_at"),
            confirmedAt: try row.optionalDate("confirmed_at"), lastAcceptedStep: try row.value("last_accepted_step"),
            version: try row.value("version"))
    }

    static func loginThrottle(_ row: PostgresRandomAccessRow) throws -> LoginThrottle {
        LoginThrottle(
            key: AccountKey(rawValue: try row.value("account_key")), failures: try row.value("failures"),
            lockedUntil: try row.optionalDate("locked_until"), lastFailureAt: try row.optionalDate("last_failure_at"),
            version: try row.value("version"))
    }
}
