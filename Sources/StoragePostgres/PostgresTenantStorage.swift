import Foundation
import PostgresNIO
import TradesKit

/// One tenant's data. Every transaction sets `app.tenant_id`, so row-level security filters every table; every query
/// also names `tenant_id` itself, which keeps the indexes usable and lets Citus route the query to one shard.
struct PostgresTenantStorage: TenantStorage {
    let tenantID: TenantID
    let database: Database

    var tenant: UUID { tenantID.rawValue }

    func read<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await database.transaction(.tenant(tenantID), body)
    }

    func rows<T>(_ query: PostgresQuery, on connection: PostgresConnection, _ decode: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        var result: [T] = []
        for try await row in try await connection.query(query, logger: database.driverLogger) {
            result.append(try decode(row.makeRandomAccess()))
        }
        return result
    }

    func all<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        try await read { connection in try await rows(query, on: connection, decode) }
    }

    func first<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRandomAccessRow) throws -> T) async throws -> T? {
        try await all(query, decode).first
    }

    /// Runs a keyset page query: `builder` holds everything up to the ORDER BY; limit+1 rows tell whether a next page exists.
    func page<T: Sendable>(
        _ builder: SQLBuilder, cursor: PageCursor?, limit: Int, descending: Bool, dateColumn: String, idColumn: String,
        decode: @escaping @Sendable (PostgresRandomAccessRow) throws -> T,
        key: @escaping @Sendable (T) -> (Date, UUID)
    ) async throws -> Page<T> {
        var builder = builder
        let limit = min(100, max(1, limit))
        if let cursor {
            let comparison = descending ? "<" : ">"
            builder.append(
                " AND (\(dateColumn), \(idColumn)) \(comparison) (\(try builder.bind(cursor.milliseconds)), \(try builder.bind(cursor.id)))")
        }
        let direction = descending ? "DESC" : "ASC"
        builder.append(" ORDER BY \(dateColumn) \(direction), \(idColumn) \(direction) LIMIT \(try builder.bind(limit + 1))")
        var items = try await all(builder.query, decode)
        var next: PageCursor?
        if items.count > limit {
            items.removeLast(items.count - limit)
            if let last = items.last {
                let (date, id) = key(last)
                next = PageCursor(after: date, id: id)
            }
        }
        return Page(items: items, nextCursor: next)
    }

    // MARK: Tenant

    func commit(_ changes: ChangeSet) async throws {
        guard !changes.isEmpty else { return }
        try await database.transaction(.tenant(tenantID)) { connection in
            try await ChangeWriter(tenantID: tenantID, connection: connection, logger: database.driverLogger).apply(changes)
        }
    }

    private var tenantQuery: PostgresQuery { "SELECT \(unescaped: Columns.tenant) FROM tenants WHERE id = \(tenant)" }

    func tenantRecord() async throws -> Tenant? {
        try await first(tenantQuery, Decode.tenant)
    }

    // MARK: Users

    private func userByID(_ id: UserID) -> PostgresQuery {
        "SELECT \(unescaped: Columns.user) FROM users WHERE tenant_id = \(tenant) AND id = \(id.rawValue)"
    }

    private func jobByID(_ id: JobID) -> PostgresQuery {
        "SELECT \(unescaped: Columns.job) FROM jobs WHERE tenant_id = \(tenant) AND id = \(id.rawValue)"
    }

    func user(_ id: UserID) async throws -> User? {
        try await first(userByID(id), Decode.user)
    }

    func user(email: EmailAddress) async throws -> User? {
        try await first(
            // The expression of the unique index `user_email`: ASCII case folding, whatever the database's locale.
            #"SELECT \#(unescaped: Columns.user) FROM users WHERE tenant_id = \#(tenant) AND lower(email COLLATE "C") = \#(email.normalized)"#,
            Decode.user)
    }

    func users(role: Role?, page request: PageRequest) async throws -> Page<User> {
        var builder = SQLBuilder("SELECT \(Columns.user) FROM users WHERE ")
        builder.append("tenant_id = \(try builder.bind(tenant))")
        if let role { builder.append(" AND role = \(try builder.bind(role.rawValue))") }
        return try await page(
            builder, cursor: request.cursor, limit: request.limit, descending: false, dateColumn: "created_at", idColumn: "id",
            decode: Decode.user, key: { ($0.createdAt, $0.id.rawValue) })
    }

    func counts() async throws -> TenantCounts {
        let tenant = tenant
        let logger = database.driverLogger
        return try await read { connection in
            func grouped<Key: RawRepresentable & Hashable>(_ query: PostgresQuery, as _: Key.Type) async throws -> [Key: Int]
            where Key.RawValue == String {
                var counts: [Key: Int] = [:]
                for try await (raw, count) in try await connection.query(query, logger: logger).decode((String, Int64).self) {
                    guard let key = Key(rawValue: raw) else { throw StorageError(.failure, message: "An unknown role or status is stored") }
                    counts[key] = Int(count)
                }
                return counts
            }
            var settlements: (owed: Int64, failing: Int64) = (0, 0)
            let query: PostgresQuery = """
                SELECT COUNT(*), COUNT(*) FILTER (WHERE settlement_failures > 0) FROM escrows
                WHERE tenant_id = \(tenant) AND instruction IS NOT NULL
                """
            for try await row in try await connection.query(query, logger: logger).decode((Int64, Int64).self) { settlements = row }
            return TenantCounts(
                usersByRole: try await grouped("SELECT role, COUNT(*) FROM users WHERE tenant_id = \(tenant) GROUP BY role", as: Role.self),
                jobsByStatus: try await grouped(
                    "SELECT status, COUNT(*) FROM jobs WHERE tenant_id = \(tenant) GROUP BY status", as: JobStatus.self),
                disputesByStatus: try await grouped(
                    "SELECT status, COUNT(*) FROM disputes WHERE tenant_id = \(tenant) GROUP BY status", as: DisputeStatus.self),
                owedSettlements: Int(settlements.owed), failingSettlements: Int(settlements.failing))
        }
    }

    private func profileQuery(_ userID: UserID) -> PostgresQuery {
        "SELECT \(unescaped: Columns.profile) FROM contractor_profiles WHERE tenant_id = \(tenant) AND user_id = \(userID.rawValue)"
    }

    func contractorProfile(_ userID: UserID) async throws -> ContractorProfile? {
        try await first(profileQuery(userID), Decode.profile)
    }

    func ratingSummary(for userID: UserID, at now: Date) async throws -> RatingSummary {
        let summary = try await first(
            """
            SELECT count(*) AS count, coalesce(sum(rating), 0) AS total FROM reviews
            WHERE tenant_id = \(tenant) AND subject_id = \(userID.rawValue) AND visible_from <= \(now.millisecondsSince1970)
            """
        ) { row in
            RatingSummary(count: Int(try row.value("count", as: Int64.self)), ratingSum: Int(try row.value("total", as: Int64.self)))
        }
        return summary ?? RatingSummary(count: 0, ratingSum: 0)
    }

    // MARK: Catalogue

    func categories() async throws -> [TradeCategory] {
        // By code point, as SQLite and the memory fake sort, whatever the database's collation.
        try await all(
            "SELECT \(unescaped: Columns.category) FROM categories WHERE tenant_id = \(tenant) ORDER BY name COLLATE \"C\", id", Decode.category)
    }

    func category(_ id: CategoryID) async throws -> TradeCategory? {
        try await first("SELECT \(unescaped: Columns.category) FROM categories WHERE tenant_id = \(tenant) AND id = \(id.rawValue)", Decode.category)
    }

    // MARK: Jobs and bids

    func job(_ id: JobID) async throws -> Job? {
        try await first(jobByID(id), Decode.job)
    }

    func context(user userID: UserID, job jobID: JobID, reading extra: JobCallContext.Extra) async throws -> JobCallContext {
        let (userQuery, jobQuery) = (userByID(userID), jobByID(jobID))
        let tenantQuery = extra.contains(.tenant) ? tenantQuery : nil
        let profileQuery = extra.contains(.contractorProfile) ? profileQuery(userID) : nil
        // One transaction: BEGIN, settings, the reads, COMMIT; separate calls would take four round trips each.
        return try await read { connection in
            var context = JobCallContext(
                user: try await rows(userQuery, on: connection, Decode.user).first, job: try await rows(jobQuery, on: connection, Decode.job).first)
            if let tenantQuery { context.tenant = try await rows(tenantQuery, on: connection, Decode.tenant).first }
            if let profileQuery { context.contractorProfile = try await rows(profileQuery, on: connection, Decode.profile).first }
            return context
        }
    }

    func jobs(_ query: JobQuery) async throws -> Page<Job> {
        var builder = SQLBuilder("SELECT \(Columns.job) FROM jobs WHERE ")
        builder.append("tenant_id = \(try builder.bind(tenant))")
        if let statuses = query.statuses {
            // An empty set matches nothing, like the in-memory filter.
            builder.append(" AND status = ANY(\(try builder.bind(statuses.map(\.rawValue).sorted()))::text[])")
        }
        if let category = query.categoryID { builder.append(" AND category_id = \(try builder.bind(category.rawValue))") }
        // Core trims and validates the text; the storage matches it literally (an empty text filters nothing).
        if let text = query.text, !text.isEmpty {
            let pattern = "%" + Self.escapeLike(text) + "%"
            let placeholder = try builder.bind(pattern)
            builder.append(" AND (title ILIKE \(placeholder) ESCAPE '\\' OR description ILIKE \(placeholder) ESCAPE '\\')")
        }
        if let near = query.near {
            let box = near.boundingBox
            builder.append(" AND latitude BETWEEN \(try builder.bind(box.minLatitude)) AND \(try builder.bind(box.maxLatitude))")
            builder.append(" AND longitude BETWEEN \(try builder.bind(box.minLongitude)) AND \(try builder.bind(box.maxLongitude))")
            let lat = try builder.bind(near.center.latitude)
            let lon = try builder.bind(near.center.longitude)
            // The haversine of GeoPoint.haversineKm, term for term, with the same Earth radius.
            builder.append(
                """
                 AND 2 * \(try builder.bind(GeoPoint.earthRadiusKm)) * asin(least(1, sqrt(
                    sin(radians(latitude - \(lat)) / 2) ^ 2
                    + cos(radians(\(lat))) * cos(radians(latitude)) * sin(radians(longitude - \(lon)) / 2) ^ 2)))
                    <= \(try builder.bind(near.radiusKm))
                """)
        }
        if let owner = query.ownerID { builder.append(" AND owner_id = \(try builder.bind(owner.rawValue))") }
        if let contractor = query.contractorID { builder.append(" AND contractor_id = \(try builder.bind(contractor.rawValue))") }
        if let viewer = query.visibleTo {
            let placeholder = try builder.bind(viewer.rawValue)
            builder.append(" AND (status = 'open' OR owner_id = \(placeholder) OR contractor_id = \(placeholder))")
        }
        return try await page(
            builder, cursor: query.cursor, limit: query.limit, descending: true, dateColumn: "created_at", idColumn: "id",
            decode: Decode.job, key: { ($0.createdAt, $0.id.rawValue) })
    }

    /// Escapes `\`, `%` and `_` so user text matches literally in `LIKE … ESCAPE '\'`.
    ///
    /// Scalar by scalar, as PostgreSQL reads the pattern: a `%` followed by a combining mark is one `Character` to Swift
    /// (and never equal to `"%"`), but a wildcard and a mark to PostgreSQL.
    static func escapeLike(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\\" || scalar == "%" || scalar == "_" { escaped.append("\\") }
            escaped.append(scalar)
        }
        return String(escaped)
    }

    func jobsCompleted(before cutoff: Date, page request: PageRequest) async throws -> Page<Job> {
        var builder = SQLBuilder("SELECT \(Columns.job) FROM jobs WHERE ")
        builder.append("tenant_id = \(try builder.bind(tenant)) AND status = 'completed'")
        builder.append(" AND completed_at <= \(try builder.bind(cutoff.millisecondsSince1970))")
        return try await page(
            builder, cursor: request.cursor, limit: request.limit, descending: false, dateColumn: "completed_at", idColumn: "id",
            decode: Decode.job, key: { ($0.completedAt ?? $0.updatedAt, $0.id.rawValue) })  // a completed job always has completedAt
    }

    func bid(_ id: BidID, viewer: BidViewer) async throws -> Bid? {
        switch viewer {
        case .admin:
            return try await first("SELECT \(unescaped: Columns.bid) FROM bids WHERE tenant_id = \(tenant) AND id = \(id.rawValue)", Decode.bid)
        case .user(let user):
            return try await first(
                """
                SELECT \(unescaped: Columns.qualified(Columns.bid, "b")) FROM bids b
                JOIN jobs j ON j.tenant_id = b.tenant_id AND j.id = b.job_id
                WHERE b.tenant_id = \(tenant) AND b.id = \(id.rawValue) AND (j.owner_id = \(user.rawValue) OR b.contractor_id = \(user.rawValue))
                """, Decode.bid)
        }
    }

    func bids(job: JobID, viewer: BidViewer) async throws -> [Bid] {
        switch viewer {
        case .admin:
            return try await all(
                """
                SELECT \(unescaped: Columns.bid) FROM bids WHERE tenant_id = \(tenant) AND job_id = \(job.rawValue) ORDER BY created_at, id
                """, Decode.bid)
        case .user(let user):
            return try await all(
                """
                SELECT \(unescaped: Columns.qualified(Columns.bid, "b")) FROM bids b
                JOIN jobs j ON j.tenant_id = b.tenant_id AND j.id = b.job_id
                WHERE b.tenant_id = \(tenant) AND b.job_id = \(job.rawValue) AND (j.owner_id = \(user.rawValue) OR b.contractor_id = \(user.rawValue))
                ORDER BY b.created_at, b.id
                """, Decode.bid)
        }
    }

    func bids(contractor: UserID, page request: PageRequest) async throws -> Page<Bid> {
        var builder = SQLBuilder("SELECT \(Columns.bid) FROM bids WHERE ")
        builder.append("tenant_id = \(try builder.bind(tenant)) AND contractor_id = \(try builder.bind(contractor.rawValue))")
        return try await page(
            builder, cursor: request.cursor, limit: request.limit, descending: true, dateColumn: "created_at", idColumn: "id",
            decode: Decode.bid, key: { ($0.createdAt, $0.id.rawValue) })
    }

    // MARK: Money

    func escrow(job: JobID) async throws -> Escrow? {
        try await first("SELECT \(unescaped: Columns.escrow) FROM escrows WHERE tenant_id = \(tenant) AND job_id = \(job.rawValue)", Decode.escrow)
    }

    func pendingSettlements(dueBy now: Date, limit: Int) async throws -> [Escrow] {
        try await all(
            """
            SELECT \(unescaped: Columns.escrow) FROM escrows
            WHERE tenant_id = \(tenant) AND instruction IS NOT NULL
                AND (settlement_due_at IS NULL OR settlement_due_at <= \(now.millisecondsSince1970))
            ORDER BY settlement_due_at NULLS FIRST, id LIMIT \(max(0, limit))
            """, Decode.escrow)
    }

    func heldEscrows(openedBefore cutoff: Date, limit: Int) async throws -> [Escrow] {
        try await all(
            """
            SELECT \(unescaped: Columns.escrow) FROM escrows
            WHERE tenant_id = \(tenant) AND status = 'held' AND instruction IS NULL AND created_at <= \(cutoff.millisecondsSince1970)
            ORDER BY created_at, id LIMIT \(max(0, limit))
            """, Decode.escrow)
    }

    func ledgerEntries(job: JobID?) async throws -> [LedgerEntry] {
        if let job {
            return try await all(
                """
                SELECT \(unescaped: Columns.ledgerEntry) FROM ledger_entries WHERE tenant_id = \(tenant) AND job_id = \(job.rawValue)
                ORDER BY posted_at, seq
                """, Decode.ledgerEntry)
        }
        return try await all(
            "SELECT \(unescaped: Columns.ledgerEntry) FROM ledger_entries WHERE tenant_id = \(tenant) ORDER BY posted_at, seq",
            Decode.ledgerEntry)
    }

    func unbalancedLedgerTransactions() async throws -> [LedgerTransactionID] {
        try await all(
            """
            SELECT transaction_id FROM ledger_entries WHERE tenant_id = \(tenant)
            GROUP BY transaction_id HAVING sum(amount) <> 0 OR count(DISTINCT currency) > 1
            ORDER BY transaction_id
            """
        ) { row in try row.id("transaction_id") }
    }

    // MARK: Disputes, reviews, messages

    func dispute(_ id: DisputeID) async throws -> Dispute? {
        try await first("SELECT \(unescaped: Columns.dispute) FROM disputes WHERE tenant_id = \(tenant) AND id = \(id.rawValue)", Decode.dispute)
    }

    func disputes(participant: UserID?, statuses: Set<DisputeStatus>?, page request: PageRequest) async throws -> Page<Dispute> {
        var builder = SQLBuilder("SELECT \(Columns.dispute) FROM disputes WHERE ")
        builder.append("tenant_id = \(try builder.bind(tenant))")
        if let participant {
            let placeholder = try builder.bind(participant.rawValue)
            builder.append(" AND (opened_by = \(placeholder) OR respondent = \(placeholder))")
        }
        if let statuses { builder.append(" AND status = ANY(\(try builder.bind(statuses.map(\.rawValue).sorted()))::text[])") }
        return try await page(
            builder, cursor: request.cursor, limit: request.limit, descending: true, dateColumn: "created_at", idColumn: "id",
            decode: Decode.dispute, key: { ($0.createdAt, $0.id.rawValue) })
    }

    func openDispute(job: JobID) async throws -> Dispute? {
        try await first(
            """
            SELECT \(unescaped: Columns.dispute) FROM disputes WHERE tenant_id = \(tenant) AND job_id = \(job.rawValue) AND status <> 'resolved'
            ORDER BY created_at DESC, id DESC LIMIT 1
            """, Decode.dispute)
    }

    func reviews(job: JobID) async throws -> [Review] {
        try await all(
            """
            SELECT \(unescaped: Columns.review) FROM reviews WHERE tenant_id = \(tenant) AND job_id = \(job.rawValue) ORDER BY created_at, id
            """, Decode.review)
    }

    func reviews(subject: UserID, visibleAt now: Date, page request: PageRequest) async throws -> Page<Review> {
        var builder = SQLBuilder("SELECT \(Columns.review) FROM reviews WHERE ")
        builder.append("tenant_id = \(try builder.bind(tenant)) AND subject_id = \(try builder.bind(subject.rawValue))")
        builder.append(" AND visible_from <= \(try builder.bind(now.millisecondsSince1970))")
        return try await page(
            builder, cursor: request.cursor, limit: request.limit, descending: true, dateColumn: "created_at", idColumn: "id",
            decode: Decode.review, key: { ($0.createdAt, $0.id.rawValue) })
    }

    func messages(job: JobID, page request: PageRequest) async throws -> Page<Message> {
        var builder = SQLBuilder("SELECT \(Columns.message) FROM messages WHERE ")
        builder.append("tenant_id = \(try builder.bind(tenant)) AND job_id = \(try builder.bind(job.rawValue))")
        return try await page(
            builder, cursor: request.cursor, limit: request.limit, descending: false, dateColumn: "created_at", idColumn: "id",
            decode: Decode.message, key: { ($0.createdAt, $0.id.rawValue) })
    }

    // MARK: Events and outbox

    func events(recipient: UserID?, page request: PageRequest) async throws -> Page<OutboxEvent> {
        var builder: SQLBuilder
        if let recipient {
            builder = SQLBuilder("SELECT \(Columns.qualified(Columns.event, "e")) FROM event_recipients r ")
            builder.append("JOIN outbox_events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id WHERE ")
            builder.append("r.tenant_id = \(try builder.bind(tenant)) AND r.user_id = \(try builder.bind(recipient.rawValue))")
        } else {
            builder = SQLBuilder("SELECT \(Columns.qualified(Columns.event, "e")) FROM outbox_events e WHERE ")
            builder.append("e.tenant_id = \(try builder.bind(tenant))")
        }
        return try await page(
            builder, cursor: request.cursor, limit: request.limit, descending: false, dateColumn: "e.occurred_at", idColumn: "e.id",
            decode: Decode.event, key: { ($0.occurredAt, $0.id.rawValue) })
    }

    func claimEvents(limit: Int, now: Date, leaseUntil: Date) async throws -> [OutboxEvent] {
        // SKIP LOCKED: concurrent consumers claim disjoint events instead of queueing behind each other's locks.
        try await all(
            """
            WITH claimed AS (
                SELECT id FROM outbox_events
                WHERE tenant_id = \(tenant) AND status = 'pending' AND available_at <= \(now.millisecondsSince1970)
                ORDER BY occurred_at, id LIMIT \(max(0, limit))
                FOR UPDATE SKIP LOCKED
            )
            UPDATE outbox_events e SET available_at = \(leaseUntil.millisecondsSince1970), version = e.version + 1
            FROM claimed WHERE e.tenant_id = \(tenant) AND e.id = claimed.id
            RETURNING \(unescaped: Columns.qualified(Columns.event, "e"))
            """, Decode.event
        ).sorted { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) }
    }

    func markDelivered(_ ids: [EventID]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await all(
            """
            UPDATE outbox_events SET status = 'delivered', version = version + 1
            WHERE tenant_id = \(tenant) AND id = ANY(\(ids.map(\.rawValue))) AND status <> 'delivered'
            """
        ) { _ in () }
    }

    func recordFailure(_ id: EventID, attempts: Int, retryAt: Date?, reason: String) async throws {
        if let retryAt {
            _ = try await all(
                """
                UPDATE outbox_events SET attempts = \(attempts), available_at = \(retryAt.millisecondsSince1970), last_error = \(reason),
                    version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(id.rawValue) AND status = 'pending'
                """
            ) { _ in () }
        } else {
            _ = try await all(
                """
                UPDATE outbox_events SET status = 'dead', attempts = \(attempts), last_error = \(reason), version = version + 1
                WHERE tenant_id = \(tenant) AND id = \(id.rawValue) AND status = 'pending'
                """
            ) { _ in () }
        }
    }

    func deadLetters(limit: Int) async throws -> [OutboxEvent] {
        try await all(
            """
            SELECT \(unescaped: Columns.event) FROM outbox_events WHERE tenant_id = \(tenant) AND status = 'dead'
            ORDER BY occurred_at, id LIMIT \(max(0, limit))
            """, Decode.event)
    }
}
