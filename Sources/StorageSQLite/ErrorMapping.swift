import Foundation
import GRDB
import TradesKit

extension SQLiteStorage {
    /// Turns any error into a ``TradesKit/StorageError`` whose message carries no SQL and no bound values.
    ///
    /// GRDB's `DatabaseError.description` includes the SQL statement; only the result code and the constraint are kept.
    static func storageError(_ error: any Error) -> any Error {
        if error is StorageError { return error }
        guard let error = error as? DatabaseError else { return StorageError(.failure, message: "SQLite storage failure") }
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            let constraint = uniqueConstraint(from: error.message ?? "")
            return StorageError(.uniqueViolation, constraint: constraint, message: "Unique constraint \(constraint) violated")
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return StorageError(.missingRow, message: "A referenced row does not exist in this tenant")
        default:
            break
        }
        // GRDB answers every access to a closed database with SQLITE_MISUSE (this storage misuses SQLite nowhere else):
        // as unavailable as a database gone.
        if error.resultCode == .SQLITE_MISUSE { return StorageError(.unavailable, message: "SQLite storage is closed") }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_FULL, .SQLITE_NOMEM, .SQLITE_READONLY:
            return StorageError(.unavailable, message: "SQLite is unavailable (\(error.resultCode))")
        default:
            return StorageError(.failure, message: "SQLite failed (\(error.extendedResultCode))")
        }
    }

    /// SQLite names the columns of the violated constraint ("UNIQUE constraint failed: users.tenant_id, users.email_normalized");
    /// the column list identifies the constraint. The message names columns only, never values.
    static func uniqueConstraint(from message: String) -> String {
        let columns = message.components(separatedBy: "failed: ").last ?? ""
        switch columns {
        case "tenants.slug": return UniqueConstraint.tenantSlug
        case "users.tenant_id, users.email_normalized": return UniqueConstraint.userEmail
        case "categories.tenant_id, categories.slug": return UniqueConstraint.categorySlug
        case "bids.tenant_id, bids.job_id, bids.contractor_id": return UniqueConstraint.liveBid
        case "escrows.tenant_id, escrows.job_id": return UniqueConstraint.escrowJob
        case "disputes.tenant_id, disputes.job_id": return UniqueConstraint.openDispute
        case "reviews.tenant_id, reviews.job_id, reviews.author_id": return UniqueConstraint.reviewAuthor
        case "refresh_tokens.tenant_id, refresh_tokens.token_hash": return UniqueConstraint.refreshTokenHash
        case "one_time_tokens.tenant_id, one_time_tokens.token_hash": return UniqueConstraint.oneTimeTokenHash
        // These two tables' primary keys are their unique constraints.
        case "two_factor_enrollments.tenant_id, two_factor_enrollments.user_id": return UniqueConstraint.twoFactorUser
        case "login_throttles.tenant_id, login_throttles.account_key": return UniqueConstraint.loginThrottleKey
        default: return UniqueConstraint.primaryKey
        }
    }
}
