import Foundation
import PostgresNIO
import TradesKit

extension ChangeWriter {
    /// Applies every change of `changes`, coalescing the ones that come many to a set into multi-row statements.
    ///
    /// Each statement is a round trip, and an accept writes one bid update, one event and one recipient row per declined
    /// bid: applied one by one, a job with ten bids costs about forty round trips. Coalesced, it costs seven. The outcome is
    /// the one of applying the changes one by one, in order:
    /// - **bid updates** that follow each other (events in between do not count, see below) are one
    ///   `UPDATE … FROM (VALUES …)` with the same version check per row; when a row is not updated, the first such bid in
    ///   order is reported, as it would have been. A second update of the same bid starts a new statement, so it sees the
    ///   first.
    /// - a **ledger transaction**'s entries are one multi-row `INSERT`, in order (their `seq` follows it).
    /// - **outbox events** are written last, in order, with their recipient rows, in one statement. Nothing in a change set
    ///   reads the outbox, and an event's foreign keys (its tenant, its recipients) point at rows that exist before the set
    ///   or are written earlier in it, so writing events last changes nothing but the number of round trips.
    ///
    /// Throwing rolls the whole set back, as before.
    func apply(_ changes: ChangeSet) async throws {
        var events: [OutboxEvent] = []
        var bids: [Bid] = []
        var pendingBidIDs: Set<BidID> = []
        for change in changes.changes {
            switch change {
            case .appendEvent(let event):
                events.append(event)
            case .updateBid(let bid):
                if pendingBidIDs.contains(bid.id) {
                    try await updateBids(bids)
                    bids.removeAll(keepingCapacity: true)
                    pendingBidIDs.removeAll(keepingCapacity: true)
                }
                bids.append(bid)
                pendingBidIDs.insert(bid.id)
            default:
                try await updateBids(bids)
                bids.removeAll(keepingCapacity: true)
                pendingBidIDs.removeAll(keepingCapacity: true)
                try await apply(change)
            }
        }
        try await updateBids(bids)
        try await insertEvents(events)
    }

    /// The most rows one statement carries: far below PostgreSQL's 65,535 parameters for the widest row (12 columns).
    static var rowsPerStatement: Int { 500 }

    func updateBids(_ bids: [Bid]) async throws {
        for chunk in bids.chunks(of: Self.rowsPerStatement) {
            var statement = ValuesStatement(
                """
                UPDATE bids AS b SET amount = v.amount, currency = v.currency, message = v.message, status = v.status,
                    updated_at = v.updated_at, version = b.version + 1
                FROM (VALUES\u{20}
                """)
            for bid in chunk {
                try statement.row { row in
                    try row.add(bid.id.rawValue, as: "uuid")
                    try row.add(bid.version, as: "bigint")
                    try row.add(bid.amount.amount, as: "bigint")
                    try row.add(bid.amount.currency.code, as: "text")
                    try row.add(bid.message, as: "text")
                    try row.add(bid.status.rawValue, as: "text")
                    try row.add(bid.updatedAt.millisecondsSince1970, as: "bigint")
                }
            }
            statement.append(
                """
                ) AS v(id, version, amount, currency, message, status, updated_at)
                WHERE b.tenant_id = 
                """)
            try statement.add(tenantID.rawValue, as: "uuid")
            statement.append(" AND b.id = v.id AND b.version = v.version RETURNING b.id")

            var updated: Set<UUID> = []
            for try await (id) in try await connection.query(statement.query, logger: logger).decode(UUID.self) { updated.insert(id) }
            if let first = chunk.first(where: { !updated.contains($0.id.rawValue) }) {
                try await requireUpdated(
                    "bid", 0, exists: "SELECT 1 FROM bids WHERE tenant_id = \(tenantID.rawValue) AND id = \(first.id.rawValue)")
            }
        }
    }

    func insertLedgerEntries(_ entries: [LedgerEntry]) async throws {
        for chunk in entries.chunks(of: Self.rowsPerStatement) {
            var statement = ValuesStatement(
                "INSERT INTO ledger_entries (tenant_id, id, transaction_id, kind, job_id, account, amount, currency, posted_at) VALUES ")
            for entry in chunk {
                try statement.row { row in
                    try row.add(tenantID.rawValue, as: "uuid")
                    try row.add(entry.id.rawValue, as: "uuid")
                    try row.add(entry.transactionID.rawValue, as: "uuid")
                    try row.add(entry.kind.rawValue, as: "text")
                    try row.add(entry.jobID.rawValue, as: "uuid")
                    try row.add(entry.account.rawValue, as: "text")
                    try row.add(entry.amount.amount, as: "bigint")
                    try row.add(entry.amount.currency.code, as: "text")
                    try row.add(entry.postedAt.millisecondsSince1970, as: "bigint")
                }
            }
            try await run(statement.query)
        }
    }

    /// The events and, in the same statement, one `event_recipients` row per recipient (the per-user inbox index).
    func insertEvents(_ events: [OutboxEvent]) async throws {
        for chunk in events.chunks(of: Self.rowsPerStatement) {
            var statement = ValuesStatement(
                """
                WITH inserted AS (
                    INSERT INTO outbox_events (tenant_id, id, type, schema_version, aggregate_id, recipients, payload, occurred_at, status,
                        attempts, available_at, last_error)
                    VALUES\u{20}
                """)
            for event in chunk {
                try statement.row { row in
                    try row.add(tenantID.rawValue, as: "uuid")
                    try row.add(event.id.rawValue, as: "uuid")
                    try row.add(event.type, as: "text")
                    try row.add(event.schemaVersion, as: "integer")
                    try row.add(event.aggregateID, as: "uuid")
                    try row.add(event.recipients.map(\.rawValue), as: "uuid[]")
                    try row.add(event.payload, as: "bytea")
                    try row.add(event.occurredAt.millisecondsSince1970, as: "bigint")
                    try row.add(event.delivery.status.rawValue, as: "text")
                    try row.add(event.delivery.attempts, as: "integer")
                    try row.add(event.delivery.availableAt.millisecondsSince1970, as: "bigint")
                    try row.add(event.delivery.lastError, as: "text")
                }
            }
            statement.append(
                """

                    RETURNING tenant_id, id, recipients, occurred_at
                )
                INSERT INTO event_recipients (tenant_id, event_id, user_id, occurred_at)
                SELECT inserted.tenant_id, inserted.id, recipient, inserted.occurred_at
                FROM inserted CROSS JOIN LATERAL unnest(inserted.recipients) AS recipient
                ON CONFLICT DO NOTHING
                """)
            try await run(statement.query)
        }
    }
}

/// A statement with a `VALUES` list built row by row, every value bound as a parameter and cast to its column type (so
/// that a `NULL`, which carries no type, still has one).
struct ValuesStatement {
    private var interpolation: PostgresQuery.StringInterpolation
    private var rows = 0

    init(_ head: String) {
        interpolation = PostgresQuery.StringInterpolation(literalCapacity: head.utf8.count + 512, interpolationCount: 0)
        interpolation.appendLiteral(head)
    }

    /// One parenthesized row; `body` adds its values in column order.
    mutating func row(_ body: (inout Row) throws -> Void) throws {
        interpolation.appendLiteral(rows == 0 ? "(" : ", (")
        var row = Row(interpolation: interpolation)
        // Hand the text over while the row is built, so it is not copied per value.
        interpolation = PostgresQuery.StringInterpolation(literalCapacity: 0, interpolationCount: 0)
        defer { interpolation = row.interpolation }
        try body(&row)
        row.interpolation.appendLiteral(")")
        rows += 1
    }

    /// Binds one value outside the rows (`$n::type`).
    mutating func add<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value, as type: String) throws {
        try interpolation.appendInterpolation(value)
        interpolation.appendLiteral("::" + type)
    }

    mutating func append(_ sql: String) { interpolation.appendLiteral(sql) }

    var query: PostgresQuery { PostgresQuery(stringInterpolation: interpolation) }

    struct Row {
        fileprivate var interpolation: PostgresQuery.StringInterpolation
        private var columns = 0

        fileprivate init(interpolation: PostgresQuery.StringInterpolation) { self.interpolation = interpolation }

        mutating func add<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value, as type: String) throws {
            separate()
            try interpolation.appendInterpolation(value)
            interpolation.appendLiteral("::" + type)
        }

        mutating func add<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value?, as type: String) throws {
            separate()
            try interpolation.appendInterpolation(value)
            interpolation.appendLiteral("::" + type)
        }

        private mutating func separate() {
            if columns > 0 { interpolation.appendLiteral(", ") }
            columns += 1
        }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements (none for an empty array).
    fileprivate func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
