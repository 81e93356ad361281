import Foundation
import GRDB
import TradesKit

/// One tenant's data in a SQLite database. Every statement binds the handle's `tenant_id`.
struct SQLiteTenantStorage: TenantStorage {
    let writer: any DatabaseWriter
    let tenantID: TenantID
    var tenant: String { tenantID.uuidString }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch { throw SQLiteStorage.storageError(error) }
    }

    /// A read of one statement. SQLite runs a statement outside a transaction in its own implicit read transaction,
    /// one consistent snapshot from its first step to its reset, so the `BEGIN` and `COMMIT` that ``read(_:)`` wraps
    /// around its body (for reads of several statements) would add two round trips through SQLite and nothing else.
    func readStatement<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await writer.unsafeRead(body) } catch { throw SQLiteStorage.storageError(error) }
    }

    private static let tenantByID = "SELECT * FROM tenants WHERE id = ?"

    func tenantRecord() async throws -> Tenant? {
        let tenant = tenant
        return try await readStatement { db in
            try Row.decodeFirst(db.cachedStatement(sql: Self.tenantByID), arguments: [tenant], Records.tenant)
        }
    }

    // MARK: Users

    private static let userByID = "SELECT * FROM users WHERE tenant_id = ? AND id = ?"
    private static let jobByID = "SELECT * FROM jobs WHERE tenant_id = ? AND id = ?"

    func user(_ id: UserID) async throws -> User? {
        try await one(Self.userByID, [id.sql], Records.user)
    }

    func user(email: EmailAddress) async throws -> User? {
        try await one("SELECT * FROM users WHERE tenant_id = ? AND email_normalized = ?", [email.normalized], Records.user)
    }

    func users(role: Role?, page: PageRequest) async throws -> Page<User> {
        var filter = "SELECT * FROM users WHERE tenant_id = ?"
        var arguments: [any DatabaseValueConvertible] = [tenant]
        if let role {
            filter += " AND role = ?"
            arguments.append(role.rawValue)
        }
        return try await paged(filter, arguments, sort: "created_at", id: "id", descending: false, page.cursor, page.limit, Records.user) {
            ($0.createdAt, $0.id.rawValue)
        }
    }

    func counts() async throws -> TenantCounts {
        let tenant = tenant
        return try await read { db in
            func grouped<Key: RawRepresentable & Hashable>(_ table: String, _ column: String, as _: Key.Type) throws -> [Key: Int]
            where Key.RawValue == String {
                var counts: [Key: Int] = [:]
                let rows = try Row.fetchCursor(
                    db.cachedStatement(sql: "SELECT \(column), COUNT(*) FROM \(table) WHERE tenant_id = ? GROUP BY \(column)"), arguments: [tenant])
                while let row = try rows.next() {
                    guard let key = Key(rawValue: row[0]) else { throw StorageError(.failure, message: "Unknown \(column) in \(table)") }
                    counts[key] = row[1]
                }
                return counts
            }
            let settlements = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT COUNT(*), COUNT(CASE WHEN settlement_failures > 0 THEN 1 END) FROM escrows
                        WHERE tenant_id = ? AND instruction IS NOT NULL
                        """), arguments: [tenant])
            return TenantCounts(
                usersByRole: try grouped("users", "role", as: Role.self), jobsByStatus: try grouped("jobs", "status", as: JobStatus.self),
                disputesByStatus: try grouped("disputes", "status", as: DisputeStatus.self), owedSettlements: settlements?[0] ?? 0,
                failingSettlements: settlements?[1] ?? 0)
        }
    }

    private static let profileByUser = "SELECT * FROM contractor_profiles WHERE tenant_id = ? AND user_id = ?"

    func contractorProfile(_ userID: UserID) async throws -> ContractorProfile? {
        try await one(Self.profileByUser, [userID.sql], Records.profile)
    }

    func ratingSummary(for userID: UserID, at now: Date) async throws -> RatingSummary {
        let tenant = tenant
        return try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, COALESCE(SUM(rating), 0) AS total FROM reviews
                    WHERE tenant_id = ? AND subject_id = ? AND visible_from <= ?
                    """, arguments: [tenant, userID.sql, now.ms])
            return RatingSummary(count: row?["n"] ?? 0, ratingSum: row?["total"] ?? 0)
        }
    }

    // MARK: Catalogue

    func categories() async throws -> [TradeCategory] {
        try await all("SELECT * FROM categories WHERE tenant_id = ? ORDER BY name, id", [], Records.category)
    }

    func category(_ id: CategoryID) async throws -> TradeCategory? {
        try await one("SELECT * FROM categories WHERE tenant_id = ? AND id = ?", [id.sql], Records.category)
    }

    // MARK: Jobs and bids

    func job(_ id: JobID) async throws -> Job? {
        try await one(Self.jobByID, [id.sql], Records.job)
    }

    func context(user userID: UserID, job jobID: JobID, reading extra: JobCallContext.Extra) async throws -> JobCallContext {
        let tenant = tenant
        let user: StatementArguments = [tenant, userID.sql]
        let job: StatementArguments = [tenant, jobID.sql]
        // Up to four statements in one read transaction: one snapshot, one trip to a reader connection.
        return try await read { db in
            var context = JobCallContext(
                user: try Row.decodeFirst(db.cachedStatement(sql: Self.userByID), arguments: user, Records.user),
                job: try Row.decodeFirst(db.cachedStatement(sql: Self.jobByID), arguments: job, Records.job))
            if extra.contains(.tenant) {
                context.tenant = try Row.decodeFirst(db.cachedStatement(sql: Self.tenantByID), arguments: [tenant], Records.tenant)
            }
            if extra.contains(.contractorProfile) {
                context.contractorProfile = try Row.decodeFirst(db.cachedStatement(sql: Self.profileByUser), arguments: user, Records.profile)
            }
            return context
        }
    }

    func jobs(_ query: JobQuery) async throws -> Page<Job> {
        var filter = "SELECT * FROM jobs WHERE tenant_id = ?"
        var arguments: [any DatabaseValueConvertible] = [tenant]
        if let statuses = query.statuses {
            guard !statuses.isEmpty else { return Page(items: [], nextCursor: nil) }
            filter += " AND status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", ")))"
            arguments += statuses.map(\.rawValue).sorted()
        }
        if let category = query.categoryID {
            filter += " AND category_id = ?"
            arguments.append(category.sql)
        }
        if let text = query.text, !text.isEmpty {
            // SQLite's LIKE folds ASCII only; tk_contains folds Unicode case and treats % and _ literally.
            filter += " AND (tk_contains(title, ?) OR tk_contains(description, ?))"
            arguments += [text, text]
        }
        if let near = query.near {
            let box = near.boundingBox
            filter += " AND latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ? AND tk_distance_km(?, ?, latitude, longitude) <= ?"
            arguments += [
                box.minLatitude, box.maxLatitude, box.minLongitude, box.maxLongitude, near.center.latitude, near.center.longitude, near.radiusKm,
            ]
        }
        if let owner = query.ownerID {
            filter += " AND owner_id = ?"
            arguments.append(owner.sql)
        }
        if let contractor = query.contractorID {
            filter += " AND contractor_id = ?"
            arguments.append(contractor.sql)
        }
        if let viewer = query.visibleTo {
            filter += " AND (status = 'open' OR owner_id = ? OR contractor_id = ?)"
            arguments += [viewer.sql, viewer.sql]
        }
        return try await paged(
            filter, arguments, sort: "created_at", id: "id", descending: true, query.cursor, min(100, max(1, query.limit)),
            Records.job
        ) { ($0.createdAt, $0.id.rawValue) }
    }

    func jobsCompleted(before cutoff: Date, page: PageRequest) async throws -> Page<Job> {
        try await paged(
            "SELECT * FROM jobs WHERE tenant_id = ? AND status = 'completed' AND completed_at <= ?", [tenant, cutoff.ms],
            sort: "completed_at", id: "id", descending: false, page.cursor, page.limit, Records.job
        ) { ($0.completedAt ?? $0.updatedAt, $0.id.rawValue) }  // a completed job always has completedAt
    }

    /// The visibility rule of DESIGN.md §3, as SQL: admins see every bid; a user sees bids on jobs they own and their own bids.
    private static func visibility(_ viewer: BidViewer) -> (sql: String, arguments: [any DatabaseValueConvertible]) {
        switch viewer {
        case .admin: ("", [])
        case .user(let user): (" AND (jobs.owner_id = ? OR bids.contractor_id = ?)", [user.sql, user.sql])
        }
    }

    func bid(_ id: BidID, viewer: BidViewer) async throws -> Bid? {
        let rule = Self.visibility(viewer)
        return try await one(
            """
            SELECT bids.* FROM bids JOIN jobs ON jobs.tenant_id = bids.tenant_id AND jobs.id = bids.job_id
            WHERE bids.tenant_id = ? AND bids.id = ?\(rule.sql)
            """, [id.sql] + rule.arguments, Records.bid)
    }

    func bids(job: JobID, viewer: BidViewer) async throws -> [Bid] {
        let rule = Self.visibility(viewer)
        return try await all(
            """
            SELECT bids.* FROM bids JOIN jobs ON jobs.tenant_id = bids.tenant_id AND jobs.id = bids.job_id
            WHERE bids.tenant_id = ? AND bids.job_id = ?\(rule.sql) ORDER BY bids.created_at, bids.id
            """, [job.sql] + rule.arguments, Records.bid)
    }

    func bids(contractor: UserID, page: PageRequest) async throws -> Page<Bid> {
        try await paged(
            "SELECT * FROM bids WHERE tenant_id = ? AND contractor_id = ?", [tenant, contractor.sql], sort: "created_at", id: "id",
            descending: true, page.cursor, page.limit, Records.bid
        ) { ($0.createdAt, $0.id.rawValue) }
    }

    // MARK: Money

    func escrow(job: JobID) async throws -> Escrow? {
        try await one("SELECT * FROM escrows WHERE tenant_id = ? AND job_id = ?", [job.sql], Records.escrow)
    }

    func pendingSettlements(dueBy now: Date, limit: Int) async throws -> [Escrow] {
        try await all(
            """
            SELECT * FROM escrows WHERE tenant_id = ? AND instruction IS NOT NULL AND (settlement_due_at IS NULL OR settlement_due_at <= ?)
            ORDER BY settlement_due_at NULLS FIRST, id LIMIT ?
            """, [now.ms, max(0, limit)], Records.escrow)
    }

    func heldEscrows(openedBefore cutoff: Date, limit: Int) async throws -> [Escrow] {
        try await all(
            """
            SELECT * FROM escrows WHERE tenant_id = ? AND status = 'held' AND instruction IS NULL AND created_at <= ?
            ORDER BY created_at, id LIMIT ?
            """, [cutoff.ms, max(0, limit)], Records.escrow)
    }

    func ledgerEntries(job: JobID?) async throws -> [LedgerEntry] {
        if let job {
            return try await all(
                "SELECT * FROM ledger_entries WHERE tenant_id = ? AND job_id = ? ORDER BY posted_at, rowid", [job.sql], Records.ledgerEntry)
        }
        return try await all("SELECT * FROM ledger_entries WHERE tenant_id = ? ORDER BY posted_at, rowid", [], Records.ledgerEntry)
    }

    func unbalancedLedgerTransactions() async throws -> [LedgerTransactionID] {
        // SQLite's integer SUM fails on overflow and TOTAL() loses precision, so the exact check is core's.
        let tenant = tenant
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT transaction_id, amount, currency FROM ledger_entries WHERE tenant_id = ?", arguments: [tenant])
                .map { row in (try row.id("transaction_id") as LedgerTransactionID, row["amount"] as Int64, row["currency"] as String) }
        }
        var amounts: [LedgerTransactionID: [Int64]] = [:]
        var currencies: [LedgerTransactionID: Set<String>] = [:]
        for (id, amount, currency) in rows {
            amounts[id, default: []].append(amount)
            currencies[id, default: []].insert(currency)
        }
        return amounts.filter { id, values in !Ledger.sumsToZero(values) || (currencies[id]?.count ?? 0) > 1 }.map(\.key).sorted()
    }

    // MARK: Disputes, reviews, messages

    func dispute(_ id: DisputeID) async throws -> Dispute? {
        try await one("SELECT * FROM disputes WHERE tenant_id = ? AND id = ?", [id.sql], Records.dispute)
    }

    func disputes(participant: UserID?, statuses: Set<DisputeStatus>?, page: PageRequest) async throws -> Page<Dispute> {
        var filter = "SELECT * FROM disputes WHERE tenant_id = ?"
        var arguments: [any DatabaseValueConvertible] = [tenant]
        if let participant {
            filter += " AND (opened_by = ? OR respondent = ?)"
            arguments += [participant.sql, participant.sql]
        }
        if let statuses {
            guard !statuses.isEmpty else { return Page(items: [], nextCursor: nil) }
            filter += " AND status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", ")))"
            arguments += statuses.map(\.rawValue).sorted()
        }
        return try await paged(filter, arguments, sort: "created_at", id: "id", descending: true, page.cursor, page.limit, Records.dispute) {
            ($0.createdAt, $0.id.rawValue)
        }
    }

    func openDispute(job: JobID) async throws -> Dispute? {
        try await one("SELECT * FROM disputes WHERE tenant_id = ? AND job_id = ? AND status <> 'resolved'", [job.sql], Records.dispute)
    }

    func reviews(job: JobID) async throws -> [Review] {
        try await all("SELECT * FROM reviews WHERE tenant_id = ? AND job_id = ? ORDER BY created_at, id", [job.sql], Records.review)
    }

    func reviews(subject: UserID, visibleAt now: Date, page: PageRequest) async throws -> Page<Review> {
        try await paged(
            "SELECT * FROM reviews WHERE tenant_id = ? AND subject_id = ? AND visible_from <= ?", [tenant, subject.sql, now.ms],
            sort: "created_at", id: "id", descending: true, page.cursor, page.limit, Records.review
        ) { ($0.createdAt, $0.id.rawValue) }
    }

    func messages(job: JobID, page: PageRequest) async throws -> Page<Message> {
        try await paged(
            "SELECT * FROM messages WHERE tenant_id = ? AND job_id = ?", [tenant, job.sql], sort: "created_at", id: "id",
            descending: false, page.cursor, page.limit, Records.message
        ) { ($0.createdAt, $0.id.rawValue) }
    }

    // MARK: Identity

    func refreshToken(hash: String) async throws -> RefreshToken? {
        try await one("SELECT * FROM refresh_tokens WHERE tenant_id = ? AND token_hash = ?", [hash], Records.refreshToken)
    }

    func oneTimeToken(hash: String, purpose: OneTimeTokenPurpose) async throws -> OneTimeToken? {
        try await one(
            "SELECT * FROM one_time_tokens WHERE tenant_id = ? AND token_hash = ? AND purpose = ?", [hash, purpose.rawValue], Records.oneTimeToken)
    }

    func twoFactor(user: UserID) async throws -> TwoFactorEnrollment? {
        try await one("SELECT * FROM two_factor_enrollments WHERE tenant_id = ? AND user_id = ?", [user.sql], Records.twoFactor)
    }

    func loginThrottle(key: AccountKey) async throws -> LoginThrottle? {
        try await one("SELECT * FROM login_throttles WHERE tenant_id = ? AND account_key = ?", [key.rawValue], Records.loginThrottle)
    }

    func purgeIdentityRecords(tokensExpiredBefore: Date, throttlesIdleSince: Date) async throws -> Int {
        let tenant = tenant
        let expired = tokensExpiredBefore.ms
        let idle = throttlesIdleSince.ms
        return try await write { db in
            var deleted = 0
            for table in ["refresh_tokens", "one_time_tokens"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE tenant_id = ? AND expires_at < ?", arguments: [tenant, expired])
                deleted += db.changesCount
            }
            try db.execute(
                sql: """
                    DELETE FROM login_throttles WHERE tenant_id = ? AND coalesce(last_failure_at, 0) < ?
                        AND coalesce(locked_until, 0) < ?
                    """,
                arguments: [tenant, idle, idle])
            return deleted + db.changesCount
        }
    }

    // MARK: Events and outbox

    func events(recipient: UserID?, page: PageRequest) async throws -> Page<OutboxEvent> {
        if let recipient {
            return try await paged(
                """
                SELECT events.* FROM event_recipients
                JOIN events ON events.tenant_id = event_recipients.tenant_id AND events.id = event_recipients.event_id
                WHERE event_recipients.tenant_id = ? AND event_recipients.user_id = ?
                """, [tenant, recipient.sql], sort: "event_recipients.occurred_at", id: "event_recipients.event_id", descending: false,
                page.cursor, page.limit, Records.event
            ) { ($0.occurredAt, $0.id.rawValue) }
        }
        return try await paged(
            "SELECT * FROM events WHERE tenant_id = ?", [tenant], sort: "occurred_at", id: "id", descending: false,
            page.cursor, page.limit, Records.event
        ) { ($0.occurredAt, $0.id.rawValue) }
    }

    func claimEvents(limit: Int, now: Date, leaseUntil: Date) async throws -> [OutboxEvent] {
        let tenant = tenant
        do {
            return try await writer.write { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM events WHERE tenant_id = ? AND status = 'pending' AND available_at <= ?
                        ORDER BY occurred_at, id LIMIT ?
                        """, arguments: [tenant, now.ms, max(0, limit)])
                var events: [OutboxEvent] = []
                for row in rows {
                    var event = try Records.event(row)
                    try db.execute(
                        sql: "UPDATE events SET available_at = ? WHERE tenant_id = ? AND id = ?",
                        arguments: [leaseUntil.ms, tenant, event.id.sql])
                    event.delivery.availableAt = leaseUntil
                    events.append(event)
                }
                return events
            }
        } catch {
            throw SQLiteStorage.storageError(error)
        }
    }

    func markDelivered(_ ids: [EventID]) async throws {
        let tenant = tenant
        try await write { db in
            for id in ids {
                try db.execute(
                    sql: "UPDATE events SET status = 'delivered' WHERE tenant_id = ? AND id = ? AND status <> 'delivered'",
                    arguments: [tenant, id.sql])
            }
        }
    }

    func recordFailure(_ id: EventID, attempts: Int, retryAt: Date?, reason: String) async throws {
        let tenant = tenant
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE events SET attempts = ?, status = ?, available_at = COALESCE(?, available_at), last_error = ?
                    WHERE tenant_id = ? AND id = ? AND status = 'pending'
                    """, arguments: [attempts, retryAt == nil ? "dead" : "pending", retryAt?.ms, reason, tenant, id.sql])
        }
    }

    func deadLetters(limit: Int) async throws -> [OutboxEvent] {
        try await all("SELECT * FROM events WHERE tenant_id = ? AND status = 'dead' ORDER BY occurred_at, id LIMIT ?", [max(0, limit)], Records.event)
    }

    // MARK: Query helpers

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await writer.write(body) } catch { throw SQLiteStorage.storageError(error) }
    }

    /// One row of `sql`, whose first parameter is the tenant.
    private func one<T: Sendable>(
        _ sql: String, _ arguments: [any DatabaseValueConvertible],
        _ decode: @Sendable @escaping (Row) throws -> T
    ) async throws -> T? {
        let bound = StatementArguments(([tenant] + arguments).map { Optional($0) })
        return try await readStatement { db in try Row.decodeFirst(db.cachedStatement(sql: sql), arguments: bound, decode) }
    }

    /// Every row of `sql`, whose first parameter is the tenant.
    private func all<T: Sendable>(
        _ sql: String, _ arguments: [any DatabaseValueConvertible],
        _ decode: @Sendable @escaping (Row) throws -> T
    ) async throws -> [T] {
        let bound = StatementArguments(([tenant] + arguments).map { Optional($0) })
        return try await readStatement { db in try Row.decodeAll(db.cachedStatement(sql: sql), arguments: bound, decode) }
    }

    /// A keyset page of `filter` (a SELECT with a WHERE clause, whose arguments include the tenant), ordered by
    /// (`sort`, `id`), continuing strictly after the cursor.
    private func paged<T: Sendable>(
        _ filter: String, _ arguments: [any DatabaseValueConvertible], sort: String, id: String, descending: Bool,
        _ cursor: PageCursor?, _ limit: Int, _ decode: @Sendable @escaping (Row) throws -> T, key: @Sendable @escaping (T) -> (Date, UUID)
    ) async throws -> Page<T> {
        var sql = filter
        var values = arguments
        if let cursor {
            let op = descending ? "<" : ">"
            sql += " AND (\(sort) \(op) ? OR (\(sort) = ? AND \(id) \(op) ?))"
            values += [cursor.milliseconds, cursor.milliseconds, cursor.id.lowercasedString]
        }
        let direction = descending ? "DESC" : "ASC"
        sql += " ORDER BY \(sort) \(direction), \(id) \(direction) LIMIT ?"
        values.append(limit + 1)
        let bound = StatementArguments(values.map { Optional($0) })
        let statement = sql
        let rows = try await readStatement { db in try Row.decodeAll(db.cachedStatement(sql: statement), arguments: bound, decode) }
        guard rows.count > limit else { return Page(items: rows, nextCursor: nil) }
        let items = Array(rows.prefix(limit))
        let last = key(items[items.count - 1])
        return Page(items: items, nextCursor: PageCursor(after: last.0, id: last.1))
    }

}
