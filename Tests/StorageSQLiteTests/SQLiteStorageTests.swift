import Foundation
import GRDB
@testable import StorageSQLite
import Testing
import TradesKit
import TradesKitTesting

/// What only the SQLite storage has: its pragmas, schema rules, triggers, backup and error redaction.
@Suite("SQLite specifics")
struct SQLiteStorageTests {
    let directory: URL
    let now = ManualClock.defaultStart

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String = "db.sqlite") -> String { directory.appendingPathComponent(name).path }

    /// A tenant with a homeowner, a contractor, a category, an open job and one bid.
    ///
    /// `usersAsV1` writes the users with the columns of `v1-core` only, as a database of that version holds them (later
    /// migrations added user columns the current code writes).
    func seed(_ storage: SQLiteStorage, slug: String = "acme", email: String? = nil, usersAsV1: Bool = false) async throws -> (Tenant, Job, Bid, User)
    {
        let fixtures = Fixtures(ids: UUIDv7Generator())
        let tenant = fixtures.tenant(slug: slug, at: now)
        let owner = try fixtures.user(.homeowner, email: email, at: now)
        let pro = try fixtures.user(.contractor, at: now)
        let category = fixtures.category()
        let job = fixtures.job(owner: owner.id, category: category.id, at: now)
        let bid = fixtures.bid(on: job.id, by: pro.id, at: now)
        var changes = ChangeSet()
        changes.append(.insertTenant(tenant))
        if usersAsV1 {
            try await storage.tenant(tenant.id).commit(changes)
            changes = ChangeSet()
            try await storage.writer.write { db in
                for user in [owner, pro] {
                    try db.execute(
                        sql: """
                            INSERT INTO users (tenant_id, id, email, email_normalized, display_name, phone, role, password_hash, email_verified,
                                               suspended, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            tenant.id.sql, user.id.sql, user.email.value, user.email.normalized, user.displayName, user.phone?.value,
                            user.role.rawValue, user.passwordHash, user.emailVerified, user.suspended, user.createdAt.ms, user.version,
                        ])
                }
            }
        } else {
            changes.append(.insertUser(owner))
            changes.append(.insertUser(pro))
        }
        for change: ChangeSet.Change in [.insertCategory(category), .insertJob(job), .insertBid(bid)] { changes.append(change) }
        try await storage.tenant(tenant.id).commit(changes)
        return (tenant, job, bid, owner)
    }

    static let allMigrations = [
        "v1-core", "v2-identity", "v3-settlement-instructions", "v4-session-generations", "v5-identity-purge-indexes",
        "v6-complete-references", "v7-held-escrows-index", "v8-settlement-retries", "v9-notification-preferences",
    ]

    @Test("file databases are WAL with synchronous=FULL and foreign keys on by default; NORMAL when configured")
    func pragmas() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let full = try SQLiteStorage(.file(path: path()))
        let (journal, synchronous, foreignKeys) = try await full.writer.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                try Int.fetchOne(db, sql: "PRAGMA foreign_keys")
            )
        }
        #expect(journal == "wal")
        #expect(synchronous == 2, "readers")
        #expect(try await full.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2, "the writer commits")
        #expect(foreignKeys == 1)
        let normal = try SQLiteStorage(.file(path: path("normal.sqlite")), configuration: .init(synchronous: .normal))
        #expect(try await normal.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)
        #expect(try await normal.writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)
    }

    @Test("migrations are listed, idempotent, and can be deferred")
    func migrations() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let deferred = try SQLiteStorage(.file(path: path()), configuration: .init(migrateOnOpen: false))
        #expect(try await deferred.hasPendingMigrations())
        #expect(try await deferred.appliedMigrations().isEmpty)
        try await deferred.migrate()
        try await deferred.migrate()
        #expect(try await deferred.appliedMigrations() == Self.allMigrations)
        #expect(try await !deferred.hasPendingMigrations())
    }

    @Test("storages opening one new file at once (as processes do) all migrate it: none fails on a migration another applied")
    func concurrentMigrators() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        for round in 0..<4 {
            let file = path("race-\(round).sqlite")
            // Each storage is its own pool of connections, like another process on the same file. Opening blocks (it
            // waits for SQLite's locks), so each opens on a thread of its own, not on the tests' cooperative pool.
            let failed: [String] = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    let failures = Failures()
                    DispatchQueue.concurrentPerform(iterations: 4) { _ in
                        do {
                            _ = try SQLiteStorage(.file(path: file))
                        } catch {
                            failures.append("\(error)")
                        }
                    }
                    continuation.resume(returning: failures.all)
                }
            }
            #expect(failed.isEmpty, "round \(round): \(failed)")
            #expect(try await SQLiteStorage(.file(path: file)).appliedMigrations() == Self.allMigrations)
        }
    }

    @Test("a database with data at v1-core upgrades to the current schema and keeps its rows")
    func upgradeToIdentity() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = path()
        let old = try SQLiteStorage(.file(path: file), configuration: .init(migrateOnOpen: false))
        try Schema.migrator.migrate(old.writer, upTo: "v1-core")
        let (tenant, job, _, owner) = try await seed(old, usersAsV1: true)
        try old.close()

        let upgraded = try SQLiteStorage(.file(path: file))
        #expect(try await upgraded.appliedMigrations() == Self.allMigrations)
        let db = upgraded.tenant(tenant.id)
        #expect(try await db.tenantRecord() == tenant)
        #expect(try await db.user(owner.id) == owner)
        #expect(try await db.job(job.id) == job)
        let token = Fixtures().refreshToken(user: owner.id, at: now)
        var changes = ChangeSet()
        changes.append(.insertRefreshToken(token))
        try await db.commit(changes)
        #expect(try await db.refreshToken(hash: token.tokenHash) == token)
    }

    @Test("v6 rebuilds jobs, escrows and disputes with every reference, keeping their rows; a dangling one stops it unapplied")
    func upgradeCompletesReferences() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = path()
        let old = try SQLiteStorage(.file(path: file), configuration: .init(migrateOnOpen: false))
        try Schema.migrator.migrate(old.writer, upTo: "v5-identity-purge-indexes")
        let (tenant, job, bid, owner) = try await seed(old, usersAsV1: true)
        let db = old.tenant(tenant.id)
        var awarded = job
        awarded.status = .awarded
        awarded.acceptedBidID = bid.id
        awarded.contractorID = bid.contractorID
        let escrow = Escrow(
            id: EscrowID(UUID()), jobID: job.id, bidID: bid.id, homeownerID: owner.id, contractorID: bid.contractorID, amount: bid.amount,
            feeBasisPoints: 1_000, status: .held, paymentReference: "pi_1", instruction: .capture, createdAt: now)
        var changes = ChangeSet()
        changes.update(awarded)
        try await db.commit(changes)
        // The escrow as v5 stores it, in SQL: today's storage writes and reads columns v5 does not have.
        try await old.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO escrows (tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency, fee_basis_points, status,
                        payment_reference, refunded_amount, released_amount, platform_fee, instruction, created_at, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1000, 'held', 'pi_1', 0, 0, 0, 'capture', ?, ?, 1)
                    """,
                arguments: [
                    tenant.id.sql, escrow.id.sql, job.id.sql, bid.id.sql, owner.id.sql, bid.contractorID.sql, bid.amount.amount,
                    bid.amount.currency.code, now.ms, now.ms,
                ])
        }
        let storedJob = try await db.job(job.id)
        try old.close()

        let upgraded = try SQLiteStorage(.file(path: file))
        #expect(try await upgraded.appliedMigrations() == Self.allMigrations)
        let after = upgraded.tenant(tenant.id)
        #expect(try await after.job(job.id) == storedJob && storedJob?.acceptedBidID == bid.id)
        // v8 makes the owed instruction due since it was set.
        var migrated = escrow
        migrated.settlementDueAt = escrow.updatedAt
        #expect(try await after.escrow(job: job.id) == migrated)
        #expect(try await after.pendingSettlements(dueBy: now, limit: 10).map(\.id) == [escrow.id], "the partial index of owed instructions is back")
        // The references other tables make to the rebuilt ones still hold, and the new ones are enforced.
        let foreignKeys = try await upgraded.writer.read { db in
            try ["jobs", "escrows", "disputes"].map { try db.foreignKeys(on: $0).map(\.destinationTable).sorted() }
        }
        #expect(
            foreignKeys == [["bids", "categories", "users", "users"], ["bids", "jobs", "users", "users"], ["jobs", "users", "users", "users"]])
        let message = Fixtures().message(job: job.id, sender: owner.id, at: now)
        changes = ChangeSet()
        changes.append(.insertMessage(message))
        try await after.commit(changes)
        try upgraded.close()
        // Closed, as its documentation says: reads and writes are refused as unavailable.
        await #expect { _ = try await after.job(job.id) } throws: { ($0 as? StorageError)?.code == .unavailable }
        await #expect { try await after.commit(changes) } throws: { ($0 as? StorageError)?.code == .unavailable }

        // A database already holding a dangling accepted bid is not carried over: the migration fails whole.
        let broken = path("broken.sqlite")
        let legacy = try SQLiteStorage(.file(path: broken), configuration: .init(migrateOnOpen: false))
        try Schema.migrator.migrate(legacy.writer, upTo: "v5-identity-purge-indexes")
        let (_, dangling, _, _) = try await seed(legacy, slug: "beta", usersAsV1: true)
        try await legacy.writer.write { db in
            try db.execute(sql: "UPDATE jobs SET accepted_bid_id = ? WHERE id = ?", arguments: [UUID().uuidString.lowercased(), dangling.id.sql])
        }
        let failure = await #expect(throws: StorageError.self) { try await legacy.migrate() }
        #expect(failure?.code == .failure)
        #expect(
            failure?.message
                == "Migration v6-complete-references failed: a row refers to a row that does not exist; the database stays at the migration before it"
        )
        #expect(try await legacy.appliedMigrations() == Array(Self.allMigrations.prefix { $0 != "v6-complete-references" }))
        #expect(try await legacy.writer.read { db in try db.foreignKeys(on: "jobs").count } == 3, "the old table is still there")
    }

    @Test("every key and index of a tenant table leads with tenant_id")
    func tenantLeadsEveryKey() async throws {
        let storage = try SQLiteStorage(.inMemory)
        let offenders = try await storage.writer.read { db -> [String] in
            var offenders: [String] = []
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'")
            for table in tables where table != "tenants" {
                #expect(try db.columns(in: table).contains { $0.name == "tenant_id" }, "\(table) has no tenant_id")
                let primaryKey = try db.primaryKey(table).columns
                if primaryKey.first != "tenant_id" { offenders.append("\(table) primary key \(primaryKey)") }
                for index in try db.indexes(on: table) where index.columns.first != "tenant_id" {
                    offenders.append("\(table) index \(index.name) \(index.columns)")
                }
                for foreignKey in try db.foreignKeys(on: table) where foreignKey.originColumns.first != "tenant_id" {
                    offenders.append("\(table) foreign key \(foreignKey.originColumns)")
                }
            }
            return offenders
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test("a row cannot point into another tenant, even with a valid id")
    func crossTenantForeignKey() async throws {
        let storage = try SQLiteStorage(.inMemory)
        let (_, jobA, _, _) = try await seed(storage, slug: "tenant-a")
        let (tenantB, _, _, _) = try await seed(storage, slug: "tenant-b")
        let fixtures = Fixtures(ids: UUIDv7Generator())
        let contractorB = try fixtures.user(.contractor, at: now)
        var changes = ChangeSet()
        changes.append(.insertUser(contractorB))
        changes.append(.insertBid(fixtures.bid(on: jobA.id, by: contractorB.id, at: now)))
        let before = try await storage.dumpContent()
        let error = await #expect(throws: StorageError.self) { try await storage.tenant(tenantB.id).commit(changes) }
        #expect(error?.code == .missingRow, "\(String(describing: error))")
        #expect(try await storage.dumpContent() == before)
        // The schema itself refuses it, below any storage code: raw rows of tenant B naming tenant A's job, and of
        // tenant A naming tenant B's contractor, break the composite foreign keys.
        let proB = try #require(try await storage.tenant(tenantB.id).users(role: .contractor, page: PageRequest(limit: 10)).items.first)
        let tenantA = try #require(try await storage.tenant(slug: "tenant-a"))
        let bid = fixtures.bid(on: jobA.id, by: proB.id, at: now)
        for tenant in [tenantB.id, tenantA.id] {
            let refusal = await #expect(throws: DatabaseError.self) {
                try await storage.writer.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO bids (tenant_id, id, job_id, contractor_id, amount, currency, message, status, created_at, updated_at,
                                              version) VALUES (?, ?, ?, ?, 20000, 'USD', 'x', 'submitted', ?, ?, 1)
                            """,
                        arguments: [tenant.sql, bid.id.sql, jobA.id.sql, proB.id.sql, now.ms, now.ms])
                }
            }
            #expect(refusal?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY, "\(String(describing: refusal))")
        }
        #expect(try await storage.dumpContent() == before)
    }

    @Test("the ledger is append-only")
    func ledgerIsAppendOnly() async throws {
        let storage = try SQLiteStorage(.inMemory)
        let (tenant, job, _, _) = try await seed(storage)
        var changes = ChangeSet()
        changes.append(.insertLedgerTransaction(try Fixtures().holdTransaction(job: job.id, amount: Money(5_000, .usd), at: now)))
        try await storage.tenant(tenant.id).commit(changes)
        for statement in ["UPDATE ledger_entries SET amount = 0", "DELETE FROM ledger_entries"] {
            let error = await #expect(throws: DatabaseError.self) { try await storage.writer.write { db in try db.execute(sql: statement) } }
            #expect(error?.message == "ledger entries are append-only", "\(statement): \(String(describing: error))")
        }
        #expect(try await storage.tenant(tenant.id).ledgerEntries(job: job.id).count == 2)
    }

    @Test("a raw unbalanced or mixed-currency ledger transaction is reported for its tenant only")
    func unbalancedLedger() async throws {
        let storage = try SQLiteStorage(.inMemory)
        let (tenantA, jobA, _, _) = try await seed(storage, slug: "tenant-a")
        let (tenantB, jobB, _, _) = try await seed(storage, slug: "tenant-b")
        let fixtures = Fixtures(ids: UUIDv7Generator())
        for (tenant, job) in [(tenantA, jobA), (tenantB, jobB)] {
            var changes = ChangeSet()
            changes.append(.insertLedgerTransaction(try fixtures.holdTransaction(job: job.id, amount: Money(5_000, .usd), at: now)))
            try await storage.tenant(tenant.id).commit(changes)
        }
        #expect(try await storage.tenant(tenantA.id).unbalancedLedgerTransactions() == [])
        // The append-only triggers forbid UPDATE and DELETE, not INSERT: a stray row (or two in different currencies) is
        // what the check exists to find.
        let oneSided = LedgerTransactionID(UUID())
        let mixed = LedgerTransactionID(UUID())
        try await storage.writer.write { db in
            for (transaction, amount, currency) in [(oneSided, 700, "USD"), (mixed, 300, "USD"), (mixed, -300, "EUR")] {
                try db.execute(
                    sql: """
                        INSERT INTO ledger_entries (tenant_id, id, transaction_id, kind, job_id, account, amount, currency, posted_at)
                        VALUES (?, ?, ?, 'hold', ?, 'escrow_held', ?, ?, ?)
                        """,
                    arguments: [tenantA.id.sql, UUID().uuidString.lowercased(), transaction.sql, jobA.id.sql, amount, currency, now.ms])
            }
        }
        #expect(
            try await storage.tenant(tenantA.id).unbalancedLedgerTransactions().sorted() == [oneSided, mixed].sorted(),
            "each unbalanced transaction once, in any order")
        #expect(try await storage.tenant(tenantB.id).unbalancedLedgerTransactions() == [], "another tenant's unbalanced rows were reported")
    }

    @Test("an online backup holds the same content, taken while a writer is busy")
    func backup() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = try SQLiteStorage(.file(path: path()))
        _ = try await seed(storage)
        let writer = Task {
            for index in 0..<20 { _ = try await seed(storage, slug: "busy-\(index)") }
        }
        try await storage.backup(to: path("backup.sqlite"))
        try await writer.value
        let copy = try SQLiteStorage(.file(path: path("backup.sqlite")))
        #expect(try await copy.allTenants().contains { $0.slug == "acme" })
        try await storage.backup(to: path("backup2.sqlite"))
        #expect(try await SQLiteStorage(.file(path: path("backup2.sqlite"))).dumpContent() == storage.dumpContent())
    }

    @Test("storage errors carry no SQL and no values")
    func redactedErrors() async throws {
        let storage = try SQLiteStorage(.inMemory)
        let (tenant, _, _, _) = try await seed(storage, email: "secret-person@example.com")
        let duplicate = try Fixtures(ids: UUIDv7Generator()).user(.homeowner, email: "Secret-Person@example.com", at: now)
        var changes = ChangeSet()
        changes.append(.insertUser(duplicate))
        do {
            try await storage.tenant(tenant.id).commit(changes)
            Issue.record("a duplicate e-mail was accepted")
        } catch let error as StorageError {
            #expect(error.code == .uniqueViolation)
            #expect(error.constraint == UniqueConstraint.userEmail)
            for leak in ["secret", "INSERT", "VALUES", "users ("] {
                #expect(!"\(error)".lowercased().contains(leak.lowercased()), "\(error) leaks \(leak)")
                #expect(!String(reflecting: error).lowercased().contains(leak.lowercased()))
            }
        }
    }

    @Test("text search folds Unicode case and treats LIKE wildcards literally")
    func textSearch() async throws {
        let storage = try SQLiteStorage(.inMemory)
        let (tenant, job, _, _) = try await seed(storage)
        let store = storage.tenant(tenant.id)
        #expect(try await store.jobs(JobQuery(text: "LEAKING TAP")).items.map(\.id) == [job.id])
        #expect(try await store.jobs(JobQuery(text: "%")).items.isEmpty)
        #expect(try await store.jobs(JobQuery(text: "_")).items.isEmpty)
    }
}

/// Errors collected from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []

    func append(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
