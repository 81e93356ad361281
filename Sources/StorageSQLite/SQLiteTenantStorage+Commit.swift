import Foundation
import GRDB
import TradesKit

extension SQLiteTenantStorage {
    func commit(_ changes: ChangeSet) async throws {
        guard !changes.isEmpty else { return }
        let tenant = tenant
        let tenantID = tenantID
        try await write { db in
            // `write` wraps the closure in one transaction: any error rolls back every change.
            for change in changes.changes { try Self.apply(change, tenant: tenant, tenantID: tenantID, db) }
        }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func apply(_ change: ChangeSet.Change, tenant: String, tenantID: TenantID, _ db: Database) throws {
        switch change {
        case .insertTenant(let value):
            guard value.id == tenantID else { throw StorageError(.failure, message: "A tenant can only be inserted through its own handle") }
            try db.cachedStatement(sql: "INSERT INTO tenants (id, slug, display_name, settings, created_at, version) VALUES (?, ?, ?, ?, ?, ?)")
                .execute(arguments: [
                    value.id.sql, value.slug, value.displayName, try Records.json(value.settings), value.createdAt.ms, value.version,
                ])
        case .updateTenant(let value):
            guard value.id == tenantID else { throw StorageError(.missingRow, message: "The tenant does not exist") }
            try db.cachedStatement(
                sql: "UPDATE tenants SET slug = ?, display_name = ?, settings = ?, version = version + 1 WHERE id = ? AND version = ?"
            ).execute(arguments: [value.slug, value.displayName, try Records.json(value.settings), value.id.sql, value.version])
            try checkUpdated(db, table: "tenants", key: "id = ?", [value.id.sql])
        case .insertUser(let value):
            try db.cachedStatement(
                sql: """
                    INSERT INTO users (tenant_id, id, email, email_normalized, display_name, phone, role, password_hash, email_verified, suspended,
                                       session_generation, notify_email, notify_sms, created_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                tenant, value.id.sql, value.email.value, value.email.normalized, value.displayName, value.phone?.value,
                value.role.rawValue, value.passwordHash, value.emailVerified, value.suspended, value.sessionGeneration,
                value.notifications.email, value.notifications.sms, value.createdAt.ms, value.version,
            ])
        case .updateUser(let value):
            try update(
                db, tenant, "users", value.id.sql, value.version,
                [
                    "email": value.email.value, "email_normalized": value.email.normalized, "display_name": value.displayName,
                    "phone": value.phone?.value, "role": value.role.rawValue, "password_hash": value.passwordHash,
                    "email_verified": value.emailVerified, "suspended": value.suspended, "session_generation": value.sessionGeneration,
                    "notify_email": value.notifications.email, "notify_sms": value.notifications.sms,
                ])
        case .insertContractorProfile(let value):
            var columns = profileColumns(value)
            columns["tenant_id"] = tenant
            columns["user_id"] = value.userID.sql
            columns["version"] = value.version
            try insert(db, "contractor_profiles", columns)
        case .updateContractorProfile(let value):
            try update(db, tenant, "contractor_profiles", value.userID.sql, value.version, profileColumns(value), idColumn: "user_id")
        case .insertCategory(let value):
            try insert(db, "categories", ["tenant_id": tenant, "id": value.id.sql, "slug": value.slug, "name": value.name])
        case .insertJob(let value):
            var columns = jobColumns(value)
            columns["tenant_id"] = tenant
            columns["id"] = value.id.sql
            columns["owner_id"] = value.ownerID.sql
            columns["created_at"] = value.createdAt.ms
            columns["version"] = value.version
            try insert(db, "jobs", columns)
        case .updateJob(let value):
            try update(db, tenant, "jobs", value.id.sql, value.version, jobColumns(value))
        case .insertBid(let value):
            try insert(
                db, "bids",
                [
                    "tenant_id": tenant, "id": value.id.sql, "job_id": value.jobID.sql, "contractor_id": value.contractorID.sql,
                    "amount": value.amount.amount, "currency": value.amount.currency.code, "message": value.message, "status": value.status.rawValue,
                    "created_at": value.createdAt.ms, "updated_at": value.updatedAt.ms, "version": value.version,
                ])
        case .updateBid(let value):
            try update(
                db, tenant, "bids", value.id.sql, value.version,
                [
                    "amount": value.amount.amount, "currency": value.amount.currency.code, "message": value.message,
                    "status": value.status.rawValue, "updated_at": value.updatedAt.ms,
                ])
        case .insertEscrow(let value):
            var columns = escrowColumns(value)
            columns["tenant_id"] = tenant
            columns["id"] = value.id.sql
            columns["job_id"] = value.jobID.sql
            columns["bid_id"] = value.bidID.sql
            columns["homeowner_id"] = value.homeownerID.sql
            columns["contractor_id"] = value.contractorID.sql
            columns["amount"] = value.amount.amount
            columns["currency"] = value.amount.currency.code
            columns["fee_basis_points"] = value.feeBasisPoints
            columns["created_at"] = value.createdAt.ms
            columns["version"] = value.version
            try insert(db, "escrows", columns)
        case .updateEscrow(let value):
            try update(db, tenant, "escrows", value.id.sql, value.version, escrowColumns(value))
        case .insertLedgerTransaction(let transaction):
            for entry in transaction.entries {
                try insert(
                    db, "ledger_entries",
                    [
                        "tenant_id": tenant, "id": entry.id.sql, "transaction_id": entry.transactionID.sql, "kind": entry.kind.rawValue,
                        "job_id": entry.jobID.sql, "account": entry.account.rawValue, "amount": entry.amount.amount,
                        "currency": entry.amount.currency.code, "posted_at": entry.postedAt.ms,
                    ])
            }
        case .insertDispute(let value):
            var columns = disputeColumns(value)
            columns["tenant_id"] = tenant
            columns["id"] = value.id.sql
            columns["job_id"] = value.jobID.sql
            columns["opened_by"] = value.openedBy.sql
            columns["respondent"] = value.respondent.sql
            columns["job_status_before"] = value.jobStatusBefore.rawValue
            columns["created_at"] = value.createdAt.ms
            columns["version"] = value.version
            try insert(db, "disputes", columns)
        case .updateDispute(let value):
            try update(db, tenant, "disputes", value.id.sql, value.version, disputeColumns(value))
        case .insertReview(let value):
            try insert(
                db, "reviews",
                [
                    "tenant_id": tenant, "id": value.id.sql, "job_id": value.jobID.sql, "author_id": value.authorID.sql,
                    "subject_id": value.subjectID.sql, "rating": value.rating, "text": value.text, "created_at": value.createdAt.ms,
                    "visible_from": value.visibleFrom.ms, "version": value.version,
                ])
        case .updateReview(let value):
            try update(db, tenant, "reviews", value.id.sql, value.version, ["visible_from": value.visibleFrom.ms])
        case .insertMessage(let value):
            try insert(
                db, "messages",
                [
                    "tenant_id": tenant, "id": value.id.sql, "job_id": value.jobID.sql, "sender_id": value.senderID.sql, "body": value.body,
                    "created_at": value.createdAt.ms,
                ])
        case .appendEvent(let event):
            try insert(
                db, "events",
                [
                    "tenant_id": tenant, "id": event.id.sql, "type": event.type, "schema_version": event.schemaVersion,
                    "aggregate_id": event.aggregateID.lowercasedString, "recipients": try Records.json(event.recipients),
                    "payload": event.payload,
                    "occurred_at": event.occurredAt.ms, "status": event.delivery.status.rawValue, "attempts": event.delivery.attempts,
                    "available_at": event.delivery.availableAt.ms, "last_error": event.delivery.lastError,
                ])
            for recipient in Set(event.recipients) {
                try insert(
                    db, "event_recipients",
                    ["tenant_id": tenant, "user_id": recipient.sql, "occurred_at": event.occurredAt.ms, "event_id": event.id.sql])
            }
        case .expectVersion(let row, let version):
            let (table, idColumn, id, name): (String, String, String, String) =
                switch row {
                case .job(let id): ("jobs", "id", id.sql, "job")
                case .user(let id): ("users", "id", id.sql, "user")
                case .contractorProfile(let id): ("contractor_profiles", "user_id", id.sql, "contractor profile")
                }
            let sql = "SELECT version FROM \(table) WHERE tenant_id = ? AND \(idColumn) = ?"
            guard let current = try Int64.fetchOne(db.cachedStatement(sql: sql), arguments: [tenant, id]) else {
                throw StorageError(.missingRow, message: "The \(name) does not exist")
            }
            if current != version { throw StorageError(.versionConflict, message: "The \(name) changed concurrently") }
        case .expectLiveBids(let job, let expected):
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE tenant_id = ? AND id = ?", arguments: [tenant, job.sql]) != nil else {
                throw StorageError(.missingRow, message: "The job does not exist")
            }
            let live = try String.fetchAll(
                db, sql: "SELECT id FROM bids WHERE tenant_id = ? AND job_id = ? AND status IN ('submitted', 'accepted')",
                arguments: [tenant, job.sql])
            if Set(live) != Set(expected.map(\.sql)) { throw StorageError(.versionConflict, message: "The job's live bids changed concurrently") }
        case .insertRefreshToken, .updateRefreshToken, .revokeRefreshTokenFamily, .revokeRefreshTokens, .insertOneTimeToken,
            .updateOneTimeToken, .consumeOneTimeTokens, .insertTwoFactor, .updateTwoFactor, .deleteTwoFactor, .insertLoginThrottle,
            .updateLoginThrottle:
            try applyIdentity(change, tenant: tenant, db)
        }
    }

    /// The identity changes: sessions, e-mailed tokens, two-factor enrolments, login throttles.
    private static func applyIdentity(_ change: ChangeSet.Change, tenant: String, _ db: Database) throws {
        switch change {
        case .insertRefreshToken(let value):
            try insert(
                db, "refresh_tokens",
                [
                    "tenant_id": tenant, "id": value.id.sql, "family_id": value.familyID.sql, "user_id": value.userID.sql,
                    "token_hash": value.tokenHash, "issued_at": value.issuedAt.ms, "expires_at": value.expiresAt.ms, "used_at": value.usedAt?.ms,
                    "revoked_at": value.revokedAt?.ms, "version": value.version,
                ])
        case .updateRefreshToken(let value):
            try update(db, tenant, "refresh_tokens", value.id.sql, value.version, ["used_at": value.usedAt?.ms, "revoked_at": value.revokedAt?.ms])
        case .revokeRefreshTokenFamily(let family, let now):
            try db.cachedStatement(
                sql: "UPDATE refresh_tokens SET revoked_at = ?, version = version + 1 WHERE tenant_id = ? AND family_id = ? AND revoked_at IS NULL"
            ).execute(arguments: [now.ms, tenant, family.sql])
        case .revokeRefreshTokens(let user, let now):
            try db.cachedStatement(
                sql: "UPDATE refresh_tokens SET revoked_at = ?, version = version + 1 WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL"
            ).execute(arguments: [now.ms, tenant, user.sql])
        case .insertOneTimeToken(let value):
            try insert(
                db, "one_time_tokens",
                [
                    "tenant_id": tenant, "id": value.id.sql, "user_id": value.userID.sql, "purpose": value.purpose.rawValue,
                    "token_hash": value.tokenHash, "created_at": value.createdAt.ms, "expires_at": value.expiresAt.ms, "used_at": value.usedAt?.ms,
                    "version": value.version,
                ])
        case .updateOneTimeToken(let value):
            try update(db, tenant, "one_time_tokens", value.id.sql, value.version, ["used_at": value.usedAt?.ms])
        case .consumeOneTimeTokens(let user, let purpose, let now):
            try db.cachedStatement(
                sql: """
                    UPDATE one_time_tokens SET used_at = ?, version = version + 1
                    WHERE tenant_id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL
                    """
            ).execute(arguments: [now.ms, tenant, user.sql, purpose.rawValue])
        case .insertTwoFactor(let value):
            var columns = twoFactorColumns(value)
            columns["tenant_id"] = tenant
            columns["user_id"] = value.userID.sql
            columns["version"] = value.version
            try insert(db, "two_factor_enrollments", columns)
        case .updateTwoFactor(let value):
            try update(db, tenant, "two_factor_enrollments", value.userID.sql, value.version, twoFactorColumns(value), idColumn: "user_id")
        case .deleteTwoFactor(let user, let version):
            try db.cachedStatement(sql: "DELETE FROM two_factor_enrollments WHERE tenant_id = ? AND user_id = ? AND version = ?")
                .execute(arguments: [tenant, user.sql, version])
            try checkUpdated(db, table: "two_factor_enrollments", key: "tenant_id = ? AND user_id = ?", [tenant, user.sql])
        case .insertLoginThrottle(let value):
            var columns = throttleColumns(value)
            columns["tenant_id"] = tenant
            columns["account_key"] = value.key.rawValue
            columns["version"] = value.version
            try insert(db, "login_throttles", columns)
        case .updateLoginThrottle(let value):
            try update(db, tenant, "login_throttles", value.key.rawValue, value.version, throttleColumns(value), idColumn: "account_key")
        default:
            // Only identity changes are passed here.
            break
        }
    }

    private static func twoFactorColumns(_ value: TwoFactorEnrollment) -> [String: (any DatabaseValueConvertible)?] {
        [
            "sealed_secret": value.sealedSecret, "created_at": value.createdAt.ms, "confirmed_at": value.confirmedAt?.ms,
            "last_accepted_step": value.lastAcceptedStep,
        ]
    }

    private static func throttleColumns(_ value: LoginThrottle) -> [String: (any DatabaseValueConvertible)?] {
        ["failures": value.failures, "locked_until": value.lockedUntil?.ms, "last_failure_at": value.lastFailureAt?.ms]
    }

    private static func profileColumns(_ value: ContractorProfile) -> [String: (any DatabaseValueConvertible)?] {
        [
            "headline": value.headline, "trades": (try? Records.json(value.trades)) ?? "[]",
            "center_latitude": value.serviceArea.center.latitude, "center_longitude": value.serviceArea.center.longitude,
            "radius_km": value.serviceArea.radiusKm, "licence_number": value.licence?.number, "licence_region": value.licence?.region,
            "licence_expires_at": value.licence?.expiresAt.ms, "insurance_expires_at": value.insuranceExpiresAt?.ms,
            "vetting": value.vetting.rawValue,
        ]
    }

    private static func jobColumns(_ value: Job) -> [String: (any DatabaseValueConvertible)?] {
        [
            "category_id": value.categoryID.sql, "title": value.title, "description": value.description, "latitude": value.location.latitude,
            "longitude": value.location.longitude, "budget_min": value.budget.min.amount, "budget_max": value.budget.max.amount,
            "currency": value.budget.max.currency.code, "status": value.status.rawValue, "accepted_bid_id": value.acceptedBidID?.sql,
            "contractor_id": value.contractorID?.sql, "updated_at": value.updatedAt.ms, "completed_at": value.completedAt?.ms,
            "closed_at": value.closedAt?.ms,
        ]
    }

    private static func escrowColumns(_ value: Escrow) -> [String: (any DatabaseValueConvertible)?] {
        [
            "status": value.status.rawValue, "payment_reference": value.paymentReference, "transfer_reference": value.transferReference,
            "refunded_amount": value.refundedAmount.amount, "released_amount": value.releasedAmount.amount, "platform_fee": value.platformFee.amount,
            "instruction": value.instruction?.storageValue, "settlement_due_at": value.settlementDueAt?.ms,
            "settlement_failures": value.settlementFailures, "updated_at": value.updatedAt.ms,
        ]
    }

    private static func disputeColumns(_ value: Dispute) -> [String: (any DatabaseValueConvertible)?] {
        var refund: Money?
        if case .partialRefund(let amount) = value.resolution?.outcome { refund = amount }
        return [
            "reason": value.reason, "response": value.response, "status": value.status.rawValue, "outcome": value.resolution?.outcome.name,
            "refund_amount": refund?.amount, "refund_currency": refund?.currency.code, "note": value.resolution?.note,
            "resolved_by": value.resolution?.resolvedBy.sql, "resolved_at": value.resolution?.resolvedAt.ms, "updated_at": value.updatedAt.ms,
        ]
    }

    private static func insert(_ db: Database, _ table: String, _ columns: [String: (any DatabaseValueConvertible)?]) throws {
        let names = columns.keys.sorted()
        let sql =
            "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))"
        let values: [(any DatabaseValueConvertible)?] = names.map { columns[$0] ?? nil }
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(values))
    }

    /// An optimistic update: succeeds only if the stored version is the one the caller read, and bumps it.
    private static func update(
        _ db: Database, _ tenant: String, _ table: String, _ id: String, _ version: Int64,
        _ columns: [String: (any DatabaseValueConvertible)?], idColumn: String = "id"
    ) throws {
        let names = columns.keys.sorted()
        let assignments = (names.map { "\($0) = ?" } + ["version = version + 1"]).joined(separator: ", ")
        let values: [(any DatabaseValueConvertible)?] = names.map { columns[$0] ?? nil } + [tenant, id, version]
        try db.cachedStatement(sql: "UPDATE \(table) SET \(assignments) WHERE tenant_id = ? AND \(idColumn) = ? AND version = ?").execute(
            arguments: StatementArguments(values))
        try checkUpdated(db, table: table, key: "tenant_id = ? AND \(idColumn) = ?", [tenant, id])
    }

    private static func checkUpdated(_ db: Database, table: String, key: String, _ arguments: [String]) throws {
        guard db.changesCount == 0 else { return }
        let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE \(key)", arguments: StatementArguments(arguments)) != nil
        throw exists
            ? StorageError(.versionConflict, message: "The row changed concurrently") : StorageError(.missingRow, message: "The row does not exist")
    }
}
