import Foundation
import Logging
import PostgresNIO
import StoragePostgres
import TradesKit

/// Baseline (2) of the PostgreSQL figures: the rows of an accept written with plain postgres-nio statements, one
/// transaction per accept, on the same schema and as the same app role (so the tenant must be set for row-level
/// security, as TradesKit sets it): no reads, no rules, no version checks, no retries.
struct PlainPostgresAcceptWriter: Sendable {
    struct Item: Sendable {
        let job: JobID
        let accepted: Bid
        let bids: [Bid]
    }

    let client: PostgresClient
    let tenant: TenantID
    let owner: UserID
    /// Event and recipient rows per accept, as TradesKit wrote them in (1).
    let eventRows: Int
    let logger: Logger

    /// Reads what each accept will write (outside the measurement).
    static func plan(storage: PostgresStorage, fixture: AcceptFixture) async throws -> [Item] {
        let store = storage.tenant(fixture.tenant)
        var plan: [Item] = []
        for bidID in fixture.bidToAccept {
            guard let bid = try await store.bid(bidID, viewer: .admin) else { continue }
            plan.append(Item(job: bid.jobID, accepted: bid, bids: try await store.bids(job: bid.jobID, viewer: .admin)))
        }
        return plan
    }

    func write(_ item: Item) async throws {
        let tenant = tenant.rawValue
        let now = Date().millisecondsSince1970
        let logger = logger
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("SELECT set_config('app.tenant_id', \(tenant.uuidString), true)", logger: logger)
                try await connection.query(
                    """
                    UPDATE jobs SET status = 'awarded', accepted_bid_id = \(item.accepted.id.rawValue),
                        contractor_id = \(item.accepted.contractorID.rawValue),
                        updated_at = \(now), version = version + 1
                    WHERE tenant_id = \(tenant) AND id = \(item.job.rawValue)
                    """, logger: logger)
                var events = 0
                for bid in item.bids {
                    let status = bid.id == item.accepted.id ? "accepted" : "declined"
                    try await connection.query(
                        """
                        UPDATE bids SET status = \(status), updated_at = \(now), version = version + 1
                        WHERE tenant_id = \(tenant) AND id = \(bid.id.rawValue)
                        """, logger: logger)
                    if bid.id != item.accepted.id {
                        try await insertEvent(connection, type: "bid.declined", recipients: [bid.contractorID.rawValue], at: now)
                        events += 2
                    }
                }
                let amount = item.accepted.amount.amount
                try await connection.query(
                    """
                    INSERT INTO escrows (tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency, fee_basis_points, status,
                        payment_reference, refunded_amount, refunded_currency, released_amount, released_currency, platform_fee_amount,
                        platform_fee_currency, created_at, updated_at)
                    VALUES (\(tenant), \(UUID()), \(item.job.rawValue), \(item.accepted.id.rawValue), \(owner.rawValue),
                        \(item.accepted.contractorID.rawValue),
                        \(amount), 'USD', 1000, 'held', \("pi_" + item.accepted.id.uuidString), 0, 'USD', 0, 'USD', 0, 'USD', \(now), \(now))
                    """, logger: logger)
                let transaction = UUID()
                for (account, sign) in [("authorizations_receivable", Int64(1)), ("escrow_held", Int64(-1))] {
                    try await connection.query(
                        """
                        INSERT INTO ledger_entries (tenant_id, id, transaction_id, kind, job_id, account, amount, currency, posted_at)
                        VALUES (\(tenant), \(UUID()), \(transaction), 'hold', \(item.job.rawValue), \(account), \(sign * amount), 'USD', \(now))
                        """, logger: logger)
                }
                // The rest of the events, with both parties as recipients, up to the rows TradesKit wrote.
                while events + 3 <= eventRows {
                    try await insertEvent(
                        connection, type: "bid.accepted", recipients: [owner.rawValue, item.accepted.contractorID.rawValue], at: now)
                    events += 3
                }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                // Back to the pool outside any transaction: postgres-nio does not reset a connection it takes back, and
                // the storage's next BEGIN on it would fail (25P02).
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private func insertEvent(_ connection: PostgresConnection, type: String, recipients: [UUID], at now: Int64) async throws {
        let id = UUID()
        let payload = Data(#"{"type":"\#(type)"}"#.utf8)
        try await connection.query(
            """
            INSERT INTO outbox_events (tenant_id, id, type, schema_version, aggregate_id, recipients, payload, occurred_at, status, attempts,
                available_at)
            VALUES (\(tenant.rawValue), \(id), \(type), 1, \(id), \(recipients), \(payload), \(now), 'pending', 0, \(now))
            """, logger: logger)
        for recipient in recipients {
            try await connection.query(
                """
                INSERT INTO event_recipients (tenant_id, event_id, user_id, occurred_at) VALUES (\(tenant.rawValue), \(id), \(recipient), \(now))
                """, logger: logger)
        }
    }
}
