import Foundation
import Logging
import PostgresNIO
import TradesKit

/// Applies the changes of one ``ChangeSet``, inside the transaction that ``PostgresTenantStorage/commit(_:)`` opened: in
/// order, except that runs of bid updates, a ledger transaction's entries and the set's events are written in multi-row
/// statements (see `apply(_:)` for a whole set, in ChangeWriter+Batches.swift).
///
/// Updates are optimistic: `WHERE tenant_id = … AND id = … AND version = <read version>` and `version = version + 1`. When no
/// row matches, a second look tells a stale version (``StorageError/Code/versionConflict``) from a row that does not exist
/// in this tenant (``StorageError/Code/missingRow``). Throwing rolls the whole set back.
///
/// Concurrency (READ COMMITTED): every writer that relies on the job's state locks the job row first, so those
/// transactions serialize on it. An update of the job takes its row lock; `expectVersion(.job)` takes `FOR SHARE`;
/// `expectLiveBids` takes `FOR NO KEY UPDATE` and only then reads the bids, in a new statement whose snapshot includes every
/// transaction that held the lock before. So with an accept (update job v→v+1, expect live bids) racing a submit (expect
/// job v FOR SHARE, insert bid): if the accept locks first, the submit's `FOR SHARE` waits, then re-reads the committed row
/// (version v+1) and fails; if the submit locks first, the accept's update waits until the submit commits, and its
/// live-bid read then sees the new bid and fails. Two accepts both update the job from version v: the second waits, then
/// finds version v+1 and fails. Exactly one wins in every order; the losers retry from a fresh read in core.
/// (`FOR NO KEY UPDATE` rather than `FOR UPDATE` so foreign-key checks of concurrent inserts, which take `FOR KEY SHARE`
/// on the job, do not block on it.)
struct ChangeWriter {
    let tenantID: TenantID
    let connection: PostgresConnection
    let logger: Logger

    private var tenant: UUID { tenantID.rawValue }

    /// Runs a statement and answers how many rows it returned (`RETURNING 1` turns affected rows into returned rows).
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(query, logger: logger) { count += 1 }
        return count
    }

    private func versions(_ query: PostgresQuery) async throws -> [Int64] {
        var result: [Int64] = []
        for try await (version) in try await connection.query(query, logger: logger).decode(Int64.self) { result.append(version) }
        return result
    }

    /// After an update matched nothing: conflict if the row exists in this tenant, missing otherwise.
    private func updateFailed(_ table: String, exists: PostgresQuery) async throws -> StorageError {
        if try await run(exists) > 0 {
            return StorageError(.versionConflict, message: "The \(table) row changed since it was read")
        }
        return StorageError(.missingRow, message: "The \(table) row does not exist")
    }

    func requireUpdated(_ table: String, _ affected: Int, exists: PostgresQuery) async throws {
        if affected == 0 { throw try await updateFailed(table, exists: exists) }
    }

    func apply(_ change: ChangeSet.Change) async throws {
        switch change {
        case .insertTenant(let value):
            try requireOwnTenant(value.id)
            try await run(
                """
                INSERT INTO tenants (id, slug, display_name, settings, created_at, version)
                VALUES (\(value.id.rawValue), \(value.slug), \(value.displayName), \(try Self.json(value.settings))::jsonb,
                        \(value.createdAt.millisecondsSince1970), \(value.version))
                """)
        case .updateTenant(let value):
            // Another tenant's record does not exist as far as this handle can tell, like any other row.
            guard value.id == tenantID else { throw StorageError(.missingRow, message: "The tenant row does not exist") }
            let affected = try await run(
                """
                UPDATE tenants SET slug = \(value.slug), display_name = \(value.displayName), settings = \(try Self.json(value.settings))::jsonb,
                    version = version + 1
                WHERE id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated("tenant", affected, exists: "SELECT 1 FROM tenants WHERE id = \(value.id.rawValue)")
        case .insertUser(let value):
            try await run(
                """
                INSERT INTO users (tenant_id, id, email, display_name, phone, role, password_hash, email_verified, suspended, session_generation,
                                   notify_email, notify_sms, created_at, version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.email.value), \(value.displayName), \(value.phone?.value), \(value.role.rawValue),
                        \(value.passwordHash), \(value.emailVerified), \(value.suspended), \(value.sessionGeneration),
                        \(value.notifications.email), \(value.notifications.sms), \(value.createdAt.millisecondsSince1970), \(value.version))
                """)
        case .updateUser(let value):
            let affected = try await run(
                """
                UPDATE users SET email = \(value.email.value), display_name = \(value.displayName), phone = \(value.phone?.value),
                    role = \(value.role.rawValue), password_hash = \(value.passwordHash), email_verified = \(value.emailVerified),
                    suspended = \(value.suspended), session_generation = \(value.sessionGeneration),
                    notify_email = \(value.notifications.email), notify_sms = \(value.notifications.sms), version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated("user", affected, exists: "SELECT 1 FROM users WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue)")
        case .insertContractorProfile(let value):
            try await run(
                """
                INSERT INTO contractor_profiles (tenant_id, user_id, headline, trades, service_latitude, service_longitude, service_radius_km,
                    licence_number, licence_region, licence_expires_at, insurance_expires_at, vetting, version)
                VALUES (\(tenant), \(value.userID.rawValue), \(value.headline), \(value.trades.map(\.rawValue)),
                        \(value.serviceArea.center.latitude), \(value.serviceArea.center.longitude), \(value.serviceArea.radiusKm),
                        \(value.licence?.number), \(value.licence?.region), \(value.licence?.expiresAt.millisecondsSince1970),
                        \(value.insuranceExpiresAt?.millisecondsSince1970), \(value.vetting.rawValue), \(value.version))
                """)
        case .updateContractorProfile(let value):
            let affected = try await run(
                """
                UPDATE contractor_profiles SET headline = \(value.headline), trades = \(value.trades.map(\.rawValue)),
                    service_latitude = \(value.serviceArea.center.latitude), service_longitude = \(value.serviceArea.center.longitude),
                    service_radius_km = \(value.serviceArea.radiusKm), licence_number = \(value.licence?.number),
                    licence_region = \(value.licence?.region), licence_expires_at = \(value.licence?.expiresAt.millisecondsSince1970),
                    insurance_expires_at = \(value.insuranceExpiresAt?.millisecondsSince1970), vetting = \(value.vetting.rawValue),
                    version = version + 1
                WHERE tenant_id = \(tenant) AND user_id = \(value.userID.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated(
                "contractor profile", affected,
                exists: "SELECT 1 FROM contractor_profiles WHERE tenant_id = \(tenant) AND user_id = \(value.userID.rawValue)")
        case .insertCategory(let value):
            try await run(
                """
                INSERT INTO categories (tenant_id, id, slug, name) VALUES (\(tenant), \(value.id.rawValue), \(value.slug), \(value.name))
                """)
        case .insertJob(let value):
            try await run(
                """
                INSERT INTO jobs (tenant_id, id, owner_id, category_id, title, description, latitude, longitude, budget_min_amount,
                    budget_min_currency, budget_max_amount, budget_max_currency, status, accepted_bid_id, contractor_id, created_at, updated_at,
                    completed_at, closed_at, version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.ownerID.rawValue), \(value.categoryID.rawValue), \(value.title),
                        \(value.description), \(value.location.latitude), \(value.location.longitude), \(value.budget.min.amount),
                        \(value.budget.min.currency.code), \(value.budget.max.amount), \(value.budget.max.currency.code), \(value.status.rawValue),
                        \(value.acceptedBidID?.rawValue), \(value.contractorID?.rawValue), \(value.createdAt.millisecondsSince1970),
                        \(value.updatedAt.millisecondsSince1970), \(value.completedAt?.millisecondsSince1970),
                        \(value.closedAt?.millisecondsSince1970), \(value.version))
                """)
        case .updateJob(let value):
            let affected = try await run(
                """
                UPDATE jobs SET category_id = \(value.categoryID.rawValue), title = \(value.title), description = \(value.description),
                    latitude = \(value.location.latitude), longitude = \(value.location.longitude), budget_min_amount = \(value.budget.min.amount),
                    budget_min_currency = \(value.budget.min.currency.code), budget_max_amount = \(value.budget.max.amount),
                    budget_max_currency = \(value.budget.max.currency.code), status = \(value.status.rawValue),
                    accepted_bid_id = \(value.acceptedBidID?.rawValue), contractor_id = \(value.contractorID?.rawValue),
                    updated_at = \(value.updatedAt.millisecondsSince1970), completed_at = \(value.completedAt?.millisecondsSince1970),
                    closed_at = \(value.closedAt?.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated("job", affected, exists: "SELECT 1 FROM jobs WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue)")
        case .insertBid(let value):
            try await run(
                """
                INSERT INTO bids (tenant_id, id, job_id, contractor_id, amount, currency, message, status, created_at, updated_at, version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.jobID.rawValue), \(value.contractorID.rawValue), \(value.amount.amount),
                        \(value.amount.currency.code), \(value.message), \(value.status.rawValue), \(value.createdAt.millisecondsSince1970),
                        \(value.updatedAt.millisecondsSince1970), \(value.version))
                """)
        case .updateBid(let value):
            try await updateBids([value])
        case .insertEscrow(let value):
            try await run(
                """
                INSERT INTO escrows (tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency, fee_basis_points, status,
                    payment_reference, transfer_reference, refunded_amount, refunded_currency, released_amount, released_currency,
                    platform_fee_amount, platform_fee_currency, instruction, settlement_due_at, settlement_failures, created_at, updated_at,
                    version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.jobID.rawValue), \(value.bidID.rawValue), \(value.homeownerID.rawValue),
                        \(value.contractorID.rawValue), \(value.amount.amount), \(value.amount.currency.code), \(value.feeBasisPoints),
                        \(value.status.rawValue), \(value.paymentReference), \(value.transferReference), \(value.refundedAmount.amount),
                        \(value.refundedAmount.currency.code), \(value.releasedAmount.amount), \(value.releasedAmount.currency.code),
                        \(value.platformFee.amount), \(value.platformFee.currency.code), \(value.instruction?.storageValue),
                        \(value.settlementDueAt?.millisecondsSince1970), \(value.settlementFailures), \(value.createdAt.millisecondsSince1970),
                        \(value.updatedAt.millisecondsSince1970), \(value.version))
                """)
        case .updateEscrow(let value):
            let affected = try await run(
                """
                UPDATE escrows SET status = \(value.status.rawValue), payment_reference = \(value.paymentReference),
                    transfer_reference = \(value.transferReference), refunded_amount = \(value.refundedAmount.amount),
                    refunded_currency = \(value.refundedAmount.currency.code), released_amount = \(value.releasedAmount.amount),
                    released_currency = \(value.releasedAmount.currency.code), platform_fee_amount = \(value.platformFee.amount),
                    platform_fee_currency = \(value.platformFee.currency.code), instruction = \(value.instruction?.storageValue),
                    settlement_due_at = \(value.settlementDueAt?.millisecondsSince1970), settlement_failures = \(value.settlementFailures),
                    updated_at = \(value.updatedAt.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated("escrow", affected, exists: "SELECT 1 FROM escrows WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue)")
        case .insertLedgerTransaction(let transaction):
            try await insertLedgerEntries(transaction.entries)
        case .insertDispute(let value):
            let resolution = Self.resolutionColumns(value.resolution)
            try await run(
                """
                INSERT INTO disputes (tenant_id, id, job_id, opened_by, respondent, reason, response, status, job_status_before,
                    resolution_outcome, resolution_refund_amount, resolution_refund_currency, resolution_note, resolved_by, resolved_at,
                    created_at, updated_at, version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.jobID.rawValue), \(value.openedBy.rawValue), \(value.respondent.rawValue),
                        \(value.reason), \(value.response), \(value.status.rawValue), \(value.jobStatusBefore.rawValue), \(resolution.outcome),
                        \(resolution.refundAmount), \(resolution.refundCurrency), \(resolution.note), \(resolution.resolvedBy),
                        \(resolution.resolvedAt), \(value.createdAt.millisecondsSince1970), \(value.updatedAt.millisecondsSince1970), \(value.version))
                """)
        case .updateDispute(let value):
            let resolution = Self.resolutionColumns(value.resolution)
            let affected = try await run(
                """
                UPDATE disputes SET reason = \(value.reason), response = \(value.response), status = \(value.status.rawValue),
                    resolution_outcome = \(resolution.outcome), resolution_refund_amount = \(resolution.refundAmount),
                    resolution_refund_currency = \(resolution.refundCurrency), resolution_note = \(resolution.note),
                    resolved_by = \(resolution.resolvedBy), resolved_at = \(resolution.resolvedAt),
                    updated_at = \(value.updatedAt.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated("dispute", affected, exists: "SELECT 1 FROM disputes WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue)")
        case .insertReview(let value):
            try await run(
                """
                INSERT INTO reviews (tenant_id, id, job_id, author_id, subject_id, rating, text, created_at, visible_from, version)
                VALUES (\(tenant), \(value.id.rawValue), \(value.jobID.rawValue), \(value.authorID.rawValue), \(value.subjectID.rawValue),
                        \(value.rating), \(value.text), \(value.createdAt.millisecondsSince1970), \(value.visibleFrom.millisecondsSince1970),
                        \(value.version))
                """)
        case .updateReview(let value):
            let affected = try await run(
                """
                UPDATE reviews SET visible_from = \(value.visibleFrom.millisecondsSince1970), version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue) AND version = \(value.version) RETURNING 1
                """)
            try await requireUpdated("review", affected, exists: "SELECT 1 FROM reviews WHERE tenant_id = \(tenant) AND id = \(value.id.rawValue)")
        case .insertMessage(let value):
            try await run(
                """
                INSERT INTO messages (tenant_id, id, job_id, sender_id, body, created_at)
                VALUES (\(tenant), \(value.id.rawValue), \(value.jobID.rawValue), \(value.senderID.rawValue), \(value.body),
                        \(value.createdAt.millisecondsSince1970))
                """)
        case .appendEvent(let event):
            try await insertEvents([event])
        case .expectVersion(let row, let version):
            // FOR SHARE: a writer of the row (an accept of the job, an admin's vetting decision or suspension) waits for
            // this set, or this set waits for it and then reads the version it committed.
            let (table, idColumn, id, name): (String, String, UUID, String) =
                switch row {
                case .job(let id): ("jobs", "id", id.rawValue, "job")
                case .user(let id): ("users", "id", id.rawValue, "user")
                case .contractorProfile(let id): ("contractor_profiles", "user_id", id.rawValue, "contractor profile")
                }
            let found = try await versions(
                "SELECT version FROM \(unescaped: table) WHERE tenant_id = \(tenant) AND \(unescaped: idColumn) = \(id) FOR SHARE")
            guard let current = found.first else { throw StorageError(.missingRow, message: "The \(name) row does not exist") }
            if current != version { throw StorageError(.versionConflict, message: "The \(name) changed since it was read") }
        case .expectLiveBids(let job, let expected):
            let locked = try await run("SELECT 1 FROM jobs WHERE tenant_id = \(tenant) AND id = \(job.rawValue) FOR NO KEY UPDATE")
            guard locked > 0 else { throw StorageError(.missingRow, message: "The job row does not exist") }
            var live: Set<BidID> = []
            let rows = try await connection.query(
                """
                SELECT id FROM bids WHERE tenant_id = \(tenant) AND job_id = \(job.rawValue) AND status IN ('submitted', 'accepted')
                """, logger: logger)
            for try await (id) in rows.decode(UUID.self) { live.insert(BidID(id)) }
            if live != expected { throw StorageError(.versionConflict, message: "The job's live bids changed since they were read") }
        case .insertRefreshToken, .updateRefreshToken, .revokeRefreshTokenFamily, .revokeRefreshTokens, .insertOneTimeToken,
            .updateOneTimeToken, .consumeOneTimeTokens, .insertTwoFactor, .updateTwoFactor, .deleteTwoFactor, .insertLoginThrottle,
            .updateLoginThrottle:
            try await applyIdentity(change)
        }
    }

    private func requireOwnTenant(_ id: TenantID) throws {
        guard id == tenantID else {
            throw StorageError(.failure, message: "A tenant handle can only write its own tenant record")
        }
    }

    static func json(_ settings: TenantSettings) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(settings), as: UTF8.self)
        } catch {
            throw StorageError(.failure, message: "The tenant settings could not be encoded")
        }
    }

    struct ResolutionColumns {
        var outcome: String?
        var refundAmount: Int64?
        var refundCurrency: String?
        var note: String?
        var resolvedBy: UUID?
        var resolvedAt: Int64?
    }

    static func resolutionColumns(_ resolution: DisputeResolution?) -> ResolutionColumns {
        guard let resolution else { return ResolutionColumns() }
        var columns = ResolutionColumns(
            outcome: resolution.outcome.name, note: resolution.note, resolvedBy: resolution.resolvedBy.rawValue,
            resolvedAt: resolution.resolvedAt.millisecondsSince1970)
        if case .partialRefund(let refund) = resolution.outcome {
            columns.refundAmount = refund.amount
            columns.refundCurrency = refund.currency.code
        }
        return columns
    }
}
