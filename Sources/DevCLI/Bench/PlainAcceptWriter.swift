import Foundation
import GRDB
import StorageSQLite
import TradesKit

/// Baseline (2) of `trades bench storage`: the rows of an accept written with plain GRDB statements on the same schema,
/// one transaction per accept, with no reads, no rules, no version checks and no retries; prepared statements are
/// cached, as a careful hand-written GRDB writer would do.
enum PlainAcceptWriter {
    /// Average event rows (events plus their recipient rows) that one accept wrote in the TradesKit run.
    static func eventRows(in storage: any Storage, tenant: TenantID, jobs: Int) async throws -> Int {
        // Events of the accepts are everything after setup (setup writes no events for the bulk-inserted jobs and bids).
        var events = 0
        var recipients = 0
        var page = try await storage.tenant(tenant).events(recipient: nil, page: PageRequest(limit: 100))
        while true {
            for event in page.items where event.type != UserRegistered.eventType {
                events += 1
                recipients += Set(event.recipients).count
            }
            guard let next = page.nextCursor else { break }
            page = try await storage.tenant(tenant).events(recipient: nil, page: PageRequest(cursor: next, limit: 100))
        }
        return (events + recipients) / max(1, jobs)
    }

    /// Transactions per second writing, per accept: the job update, every bid update, the escrow, two ledger entries,
    /// and the same number of events and recipient rows as TradesKit writes.
    static func measure(path: String, configuration: SQLiteStorage.Configuration, jobs: Int, bidsPerJob: Int) async throws -> Double {
        // The schema comes from the storage's own migrations; the fixture rows from the same bulk path as (1).
        let storage = try SQLiteStorage(.file(path: path), configuration: configuration)
        let fixture = try await AcceptFixture.make(storage: storage, jobs: jobs, bidsPerJob: bidsPerJob)
        let store = storage.tenant(fixture.tenant)
        var plan: [(job: Job, bids: [Bid], accepted: BidID)] = []
        let owner = fixture.owner
        for bidID in fixture.bidToAccept {
            guard let bid = try await store.bid(bidID, viewer: .admin), let job = try await store.job(bid.jobID) else { continue }
            plan.append((job, try await store.bids(job: job.id, viewer: .admin), bidID))
        }
        try storage.close()

        var grdb = GRDB.Configuration()
        grdb.foreignKeysEnabled = true
        let synchronous = configuration.synchronous.rawValue
        grdb.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        let pool = try DatabasePool(path: path, configuration: grdb)
        let tenant = fixture.tenant.uuidString
        let now = Date().millisecondsSince1970
        let watch = Stopwatch()
        for (index, item) in plan.enumerated() {
            try await pool.write { db in
                try db.cachedStatement(
                    sql:
                        """
                        UPDATE jobs SET status = 'awarded', accepted_bid_id = ?, contractor_id = ?, updated_at = ?, version = version + 1
                        WHERE tenant_id = ? AND id = ?
                        """
                ).execute(arguments: [
                    item.accepted.uuidString, item.bids.first { $0.id == item.accepted }?.contractorID.uuidString, now, tenant,
                    item.job.id.uuidString,
                ])
                var eventCount = 0
                for bid in item.bids {
                    try db.cachedStatement(sql: "UPDATE bids SET status = ?, updated_at = ?, version = version + 1 WHERE tenant_id = ? AND id = ?")
                        .execute(arguments: [bid.id == item.accepted ? "accepted" : "declined", now, tenant, bid.id.uuidString])
                    if bid.id != item.accepted {
                        try insertEvent(
                            db, tenant: tenant, type: "bid.declined", recipients: [bid.contractorID.uuidString], at: now, index: index, n: eventCount)
                        eventCount += 1
                    }
                }
                guard let winner = item.bids.first(where: { $0.id == item.accepted }) else { return }
                let escrow = UUID().uuidString.lowercased()
                try db.cachedStatement(
                    sql: """
                        INSERT INTO escrows (tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency, fee_basis_points, status,
                            payment_reference, refunded_amount, released_amount, platform_fee, created_at, updated_at, version)
                        VALUES (?, ?, ?, ?, ?, ?, ?, 'USD', 1000, 'held', ?, 0, 0, 0, ?, ?, 1)
                        """
                ).execute(arguments: [
                    tenant, escrow, item.job.id.uuidString, winner.id.uuidString, owner.userID.uuidString, winner.contractorID.uuidString,
                    winner.amount.amount, "pi_\(index)", now, now,
                ])
                let transaction = UUID().uuidString.lowercased()
                for (account, sign) in [("authorizations_receivable", Int64(1)), ("escrow_held", Int64(-1))] {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO ledger_entries (tenant_id, id, transaction_id, kind, job_id, account, amount, currency, posted_at)
                            VALUES (?, ?, ?, 'hold', ?, ?, ?, 'USD', ?)
                            """
                    ).execute(arguments: [
                        tenant, UUID().uuidString.lowercased(), transaction, item.job.id.uuidString, account, sign * winner.amount.amount, now,
                    ])
                }
                let parties = [owner.userID.uuidString, winner.contractorID.uuidString]
                for type in ["bid.accepted", "job.status_changed", "payment.changed"] {
                    try insertEvent(db, tenant: tenant, type: type, recipients: parties, at: now, index: index, n: eventCount)
                    eventCount += 1
                }
            }
        }
        return Double(plan.count) / watch.elapsedSeconds
    }

    private static func insertEvent(_ db: Database, tenant: String, type: String, recipients: [String], at now: Int64, index: Int, n: Int) throws {
        let id = UUID().uuidString.lowercased()
        let payload = Data(#"{"jobID":"\#(index)","n":\#(n),"type":"\#(type)"}"#.utf8)
        try db.cachedStatement(
            sql: """
                INSERT INTO events (tenant_id, id, type, schema_version, aggregate_id, recipients, payload, occurred_at, status, attempts,
                                    available_at)
                VALUES (?, ?, ?, 1, ?, ?, ?, ?, 'pending', 0, ?)
                """
        ).execute(arguments: [tenant, id, type, id, "[]", payload, now, now])
        for recipient in recipients {
            try db.cachedStatement(sql: "INSERT INTO event_recipients (tenant_id, user_id, occurred_at, event_id) VALUES (?, ?, ?, ?)").execute(
                arguments: [tenant, recipient, now, id])
        }
    }
}
