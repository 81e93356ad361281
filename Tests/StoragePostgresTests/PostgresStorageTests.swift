import Foundation
import PostgresNIO
@testable import StoragePostgres
import Testing
import TradesKit
import TradesKitTesting

@Suite("PostgresStorage")
struct PostgresStorageTests {
    @Test("Every storage transaction is READ COMMITTED, whatever the session's default isolation")
    func readCommitted() async throws {
        _ = try await PostgresHarness.storage()
        try await PostgresHarness.withRawClient(.app) { client in
            try await client.withConnection { connection in
                try await connection.run("SET default_transaction_isolation = 'repeatable read'")
                let level = try await Database.transaction(on: connection, logger: PostgresHarness.logger) { connection in
                    var level: String?
                    for try await value in try await connection.run("SHOW transaction_isolation").decode(String.self) { level = value }
                    return level
                }
                #expect(level == "read committed")
            }
        }
    }

    @Test("Inserted rows come back exactly, and updates bump versions")
    func roundTrip() async throws {
        let storage = try await PostgresHarness.storage()
        let fixture = try Fixture()
        let store = try await fixture.insert(into: storage)

        #expect(try await store.tenantRecord() == fixture.tenant)
        #expect(try await store.user(fixture.homeowner.id) == fixture.homeowner)
        #expect(try await store.user(email: EmailAddress(fixture.homeowner.email.value.uppercased())) == fixture.homeowner)
        #expect(try await store.category(fixture.category.id) == fixture.category)
        #expect(try await store.categories() == [fixture.category])
        #expect(try await store.job(fixture.job.id) == fixture.job)
        #expect(try await storage.tenant(slug: fixture.tenant.slug) == fixture.tenant)
        #expect(try await storage.allTenants().contains(fixture.tenant))

        var job = fixture.job
        job.title = "Fix the sink, please"
        job.completedAt = Date(millisecondsSince1970: 1_760_000_999_999)
        var changes = ChangeSet()
        let committed = changes.update(job)
        try await store.commit(changes)
        #expect(try await store.job(job.id) == committed)
        #expect(committed.version == 2)

        let profile = ContractorProfile(
            userID: fixture.contractor.id, headline: "Pipes", trades: [fixture.category.id, CategoryID(UUID())],
            serviceArea: GeoCircle(center: GeoPoint(latitude: 51.5, longitude: -0.12), radiusKm: 12.5),
            licence: Licence(number: "L-1", region: "England", expiresAt: Fixture.at(86_400_000)),
            insuranceExpiresAt: Fixture.at(3_600_000), vetting: .approved)
        var profileChanges = ChangeSet()
        profileChanges.append(.insertContractorProfile(profile))
        try await store.commit(profileChanges)
        #expect(try await store.contractorProfile(fixture.contractor.id) == profile)
    }

    @Test("E-mail addresses fold case like core's, whatever the database's locale: under a Turkish collation too")
    func emailCaseRules() async throws {
        try await PostgresHarness.withFreshDatabase(icuLocale: "tr-TR") { storage in
            // The database's own rules are Turkish: its lower() of a capital I is a dotless ı.
            let lowered = try await PostgresStorage.withTemporaryClient(
                storage.configuration.clientConfiguration(as: nil, maximumConnections: 1), logger: PostgresHarness.logger
            ) { client in
                try await client.query("SELECT lower('I')").collect().first?.decode(String.self)
            }
            #expect(lowered == "ı")

            let fixture = try Fixture(email: "JIM.IRWIN@EXAMPLE.COM")
            let store = try await fixture.insert(into: storage)
            #expect(try await store.user(email: EmailAddress("jim.irwin@example.com")) == fixture.homeowner)
            #expect(try await store.user(email: EmailAddress("Jim.Irwin@Example.com")) == fixture.homeowner)
            // The same address in another case is the same account.
            var changes = ChangeSet()
            changes.append(
                .insertUser(
                    User(
                        id: UserID(UUID()), email: try EmailAddress("jim.irwin@example.com"), displayName: "Jim", role: .homeowner,
                        createdAt: Fixture.now)))
            await #expect {
                try await store.commit(changes)
            } throws: { error in
                (error as? StorageError)?.code == .uniqueViolation && (error as? StorageError)?.constraint == UniqueConstraint.userEmail
            }
        }
    }

    @Test("Job text search matches %, _ and \\ literally, also when a combining mark follows them")
    func literalSearchText() async throws {
        #expect(PostgresTenantStorage.escapeLike("50%_\\") == "50\\%\\_\\\\")
        #expect(PostgresTenantStorage.escapeLike("%\u{301}") == "\\%\u{301}")
        #expect(PostgresTenantStorage.escapeLike("_\u{301}x") == "\\_\u{301}x")
        let storage = try await PostgresHarness.storage()
        let fixture = try Fixture(text: "Grout the tiles by the cafe\u{301}")
        let store = try await fixture.insert(into: storage)
        // A % with a combining mark is not a wildcard: "G", anything, then the mark would have matched.
        #expect(try await store.jobs(JobQuery(text: "G%\u{301}")).items.isEmpty)
        #expect(try await store.jobs(JobQuery(text: "cafe\u{301}")).items.map(\.id) == [fixture.job.id])
        #expect(try await store.jobs(JobQuery(text: "grout")).items.map(\.id) == [fixture.job.id])
    }

    @Test("A delivery failure whose reason holds a NUL is recorded (PostgreSQL refuses NUL in text): dead-lettered, not retried forever")
    func failureReasonWithNUL() async throws {
        let market = Marketplace(
            storage: try await PostgresHarness.storage(), payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
        let slug = "t-" + UUID().uuidString.prefix(8).lowercased()
        let tenant = try await market.tenants.create(
            by: PlatformOperator(label: "test"),
            .init(
                slug: slug, displayName: "T",
                settings: TenantSettings(currency: .usd, platformFeeBasisPoints: 100, branding: Branding(name: "T", fromEmail: "hello@example.com"))))
        _ = try await market.users.register(
            in: tenant.id, .init(email: "nul@example.com", password: "a long enough password", displayName: "Nul", role: .homeowner))
        let event = try #require(try await market.events.claim(in: tenant.id, limit: 1).first)
        let retry = try await market.events.markFailed(
            in: tenant.id, event, reason: "550 \u{0}bad\u{1B}[31m\nmore", policy: .init(maxAttempts: 1, initialDelay: 1, maximumDelay: 1))
        #expect(retry == nil)
        let dead = try await market.events.deadLetters(in: tenant.id)
        #expect(dead.map(\.id) == [event.id])
        #expect(dead.first?.delivery.lastError == "550 \u{FFFD}bad\u{FFFD}[31m\nmore")
    }

    @Test("A stale version conflicts, a missing row is missing, and nothing of the set is applied")
    func versionConflict() async throws {
        let storage = try await PostgresHarness.storage()
        let fixture = try Fixture()
        let store = try await fixture.insert(into: storage)

        var first = ChangeSet()
        var moved = fixture.job
        moved.title = "First"
        first.update(moved)
        try await store.commit(first)

        var stale = ChangeSet()
        let bid = fixture.bid()
        stale.append(.insertBid(bid))
        var other = fixture.job
        other.title = "Second"
        stale.update(other)
        let error = await #expect(throws: StorageError.self) { try await store.commit(stale) }
        #expect(error?.code == .versionConflict)
        #expect(try await store.bid(bid.id, viewer: .admin) == nil)
        #expect(try await store.job(fixture.job.id)?.title == "First")

        var missing = ChangeSet()
        var ghost = fixture.job
        ghost = Job(
            id: JobID(UUID()), ownerID: ghost.ownerID, categoryID: ghost.categoryID, title: "Ghost", description: "", location: ghost.location,
            budget: ghost.budget, createdAt: Fixture.now)
        missing.update(ghost)
        let missingError = await #expect(throws: StorageError.self) { try await store.commit(missing) }
        #expect(missingError?.code == .missingRow)

        var expectations = ChangeSet()
        expectations.append(.expectVersion(.job(fixture.job.id), version: 1))
        let expectError = await #expect(throws: StorageError.self) { try await store.commit(expectations) }
        #expect(expectError?.code == .versionConflict)

        var live = ChangeSet()
        live.append(.expectLiveBids(fixture.job.id, [BidID(UUID())]))
        let liveError = await #expect(throws: StorageError.self) { try await store.commit(live) }
        #expect(liveError?.code == .versionConflict)
    }

    @Test("A raw unbalanced or mixed-currency ledger transaction is reported for its tenant only")
    func unbalancedLedger() async throws {
        let storage = try await PostgresHarness.storage()
        let a = try Fixture()
        let b = try Fixture()
        let storeA = try await a.insert(into: storage)
        let storeB = try await b.insert(into: storage)
        for (store, fixture) in [(storeA, a), (storeB, b)] {
            var changes = ChangeSet()
            changes.append(
                .insertLedgerTransaction(
                    try LedgerTransaction(
                        kind: .hold, jobID: fixture.job.id, lines: Ledger.hold(Money(5_000, .usd)), at: Fixture.now, ids: UUIDv7Generator())))
            try await store.commit(changes)
        }
        #expect(try await storeA.unbalancedLedgerTransactions() == [])
        // The app role may INSERT into the ledger (not UPDATE or DELETE): a stray row, or two in different currencies,
        // is what the check exists to find. Committed with tenant A's setting, as the storage itself writes.
        let oneSided = LedgerTransactionID(UUID())
        let mixed = LedgerTransactionID(UUID())
        try await PostgresHarness.withRawClient(.app) { client in
            try await client.withConnection { connection in
                try await connection.run("BEGIN")
                try await connection.run("SELECT set_config('app.tenant_id', \(a.tenant.id.uuidString), true)")
                for (transaction, amount, currency) in [(oneSided, Int64(700), "USD"), (mixed, 300, "USD"), (mixed, -300, "EUR")] {
                    try await connection.run(
                        """
                        INSERT INTO ledger_entries (tenant_id, id, transaction_id, kind, job_id, account, amount, currency, posted_at)
                        VALUES (\(a.tenant.id.rawValue), \(UUID()), \(transaction.rawValue), 'hold', \(a.job.id.rawValue), 'escrow_held',
                                \(amount), \(currency), \(Fixture.now.millisecondsSince1970))
                        """)
                }
                try await connection.run("COMMIT")
            }
        }
        #expect(
            try await storeA.unbalancedLedgerTransactions().sorted() == [oneSided, mixed].sorted(), "each unbalanced transaction once, in any order")
        #expect(try await storeB.unbalancedLedgerTransactions() == [], "another tenant's unbalanced rows were reported")
    }

    @Test("Another tenant's ids behave as if they did not exist")
    func tenantIsolation() async throws {
        let storage = try await PostgresHarness.storage()
        let a = try Fixture()
        let b = try Fixture()
        _ = try await a.insert(into: storage)
        let storeB = try await b.insert(into: storage)
        #expect(try await storeB.job(a.job.id) == nil)
        #expect(try await storeB.user(a.homeowner.id) == nil)
        var changes = ChangeSet()
        changes.update(a.job)
        let error = await #expect(throws: StorageError.self) { try await storeB.commit(changes) }
        #expect(error?.code == .missingRow)
        var tenantChanges = ChangeSet()
        tenantChanges.append(
            .insertTenant(
                Tenant(
                    id: TenantID(UUID()), slug: "x-\(UUID().uuidString.prefix(8).lowercased())", displayName: "X",
                    settings: a.tenant.settings, createdAt: Fixture.now)))
        let tenantError = await #expect(throws: StorageError.self) { try await storeB.commit(tenantChanges) }
        #expect(tenantError?.code == .failure, "a tenant inserted through another tenant's handle: \(String(describing: tenantError))")
    }
}

@Suite("PostgresStorage concurrency, injection, errors and migrations")
struct PostgresStorageRobustnessTests {
    struct FixedIDs: IDGenerator {
        func next() -> UUID { UUID() }
    }

    @Test("50 concurrent updates of one job from the same version over 8 connections: exactly one wins")
    func concurrentUpdates() async throws {
        let fixture = try Fixture()
        let outcomes = try await PostgresHarness.withStorage(maximumConnections: 8) { storage in
            let store = try await fixture.insert(into: storage)
            return await withTaskGroup(of: String.self, returning: [String].self) { group in
                for index in 0..<50 {
                    group.addTask {
                        var job = fixture.job
                        job.title = "Attempt \(index)"
                        var changes = ChangeSet()
                        changes.update(job)
                        do {
                            try await store.commit(changes)
                            return "ok"
                        } catch let error as StorageError {
                            return error.code.rawValue
                        } catch {
                            return "other: \(error)"
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(outcomes.filter { $0 == "ok" }.count == 1)
        #expect(outcomes.filter { $0 == StorageError.Code.versionConflict.rawValue }.count == 49, "\(Set(outcomes))")
    }

    @Test("50 concurrent accepts of different bids on one job over 8 connections: one winner, the ledger balances")
    func concurrentAccepts() async throws {
        let fixture = try Fixture()
        let ids = FixedIDs()
        var setup = fixture.changes
        var bids: [Bid] = []
        for index in 0..<50 {
            let contractor = User(
                id: UserID(UUID()), email: try EmailAddress("c\(index)-\(UUID().uuidString.prefix(6))@example.com"),
                displayName: "C\(index)", role: .contractor, createdAt: Fixture.now)
            setup.append(.insertUser(contractor))
            let bid = Bid(
                id: BidID(UUID()), jobID: fixture.job.id, contractorID: contractor.id, amount: Money(Int64(10_000 + index), .usd),
                message: "Bid \(index)", createdAt: Fixture.at(Int64(100 + index)))
            setup.append(.insertBid(bid))
            bids.append(bid)
        }
        let allBids = bids
        let setupChanges = setup
        let (outcomes, store) = try await PostgresHarness.withStorage(maximumConnections: 8) { storage in
            let store = storage.tenant(fixture.tenant.id)
            try await store.commit(setupChanges)
            let outcomes = await withTaskGroup(of: String.self, returning: [String].self) { group in
                for bid in allBids {
                    group.addTask {
                        do {
                            let now = Fixture.at(10_000)
                            var job = fixture.job
                            job.status = .awarded
                            job.acceptedBidID = bid.id
                            job.contractorID = bid.contractorID
                            job.updatedAt = now
                            var changes = ChangeSet()
                            changes.update(job)
                            changes.append(.expectLiveBids(fixture.job.id, Set(allBids.map(\.id))))
                            changes.update(try bid.accepting(at: now))
                            for other in allBids where other.id != bid.id { changes.update(try other.declining(at: now)) }
                            changes.append(
                                .insertEscrow(
                                    Escrow(
                                        id: EscrowID(UUID()), jobID: fixture.job.id, bidID: bid.id,
                                        homeownerID: fixture.homeowner.id, contractorID: bid.contractorID, amount: bid.amount,
                                        feeBasisPoints: 250, status: .held, paymentReference: "pi_\(bid.id)", createdAt: now)))
                            changes.append(
                                .insertLedgerTransaction(
                                    try LedgerTransaction(
                                        kind: .hold, jobID: fixture.job.id, lines: Ledger.hold(bid.amount),
                                        at: now, ids: ids)))
                            try await store.commit(changes)
                            return "ok"
                        } catch let error as StorageError {
                            return error.code.rawValue
                        } catch {
                            return "other: \(error)"
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            return (outcomes, store)
        }
        _ = store
        let shared = try await PostgresHarness.storage().tenant(fixture.tenant.id)
        #expect(outcomes.filter { $0 == "ok" }.count == 1)
        #expect(outcomes.filter { $0 == StorageError.Code.versionConflict.rawValue }.count == 49, "\(Set(outcomes))")
        let job = try #require(try await shared.job(fixture.job.id))
        #expect(job.status == .awarded && job.version == 2)
        let escrow = try #require(try await shared.escrow(job: fixture.job.id))
        #expect(escrow.bidID == job.acceptedBidID)
        let current = try await shared.bids(job: fixture.job.id, viewer: .admin)
        #expect(current.filter { $0.status == .accepted }.map(\.id) == [escrow.bidID])
        #expect(current.filter { $0.status == .declined }.count == 49)
        #expect(try await shared.ledgerEntries(job: fixture.job.id).count == 2)
        #expect(try await shared.unbalancedLedgerTransactions().isEmpty)
    }

    static let injections = [
        "'; DROP TABLE jobs; --",
        "Robert'); DROP TABLE users;--",
        "' OR '1'='1",
        "\\'; SELECT pg_sleep(10); --",
        "$1 $2 $$ dollar $$ $tag$ x $tag$",
        "100% _literal_ \\ backslash",
        "\"quoted\" `backtick` /* comment */ -- tail",
        "ünïcødé ✓ 😀 \u{200B}",
    ]

    @Test("SQL-injection strings in every text field are stored and returned verbatim")
    func injectionVerbatim() async throws {
        let storage = try await PostgresHarness.storage()
        var inserted: [(tenant: Tenant, category: TradeCategory)] = []
        for (index, evil) in Self.injections.enumerated() {
            var fixture = try Fixture(text: evil, email: "o'brien+\(index)-\(UUID().uuidString.prefix(6))'--@example.com")
            var tenant = fixture.tenant
            tenant.displayName = evil
            tenant.settings.branding.name = evil
            tenant.settings.branding.smsSender = String(evil.prefix(20))
            var homeowner = fixture.homeowner
            homeowner.displayName = evil
            homeowner.passwordHash = evil
            var job = fixture.job
            job.description = evil
            let category = TradeCategory(id: fixture.category.id, slug: evil, name: evil)
            fixture = Fixture(tenant: tenant, homeowner: homeowner, contractor: fixture.contractor, category: category, job: job)
            let store = try await fixture.insert(into: storage)
            let bid = fixture.bid(message: evil)
            let profile = ContractorProfile(
                userID: fixture.contractor.id, headline: evil, trades: [category.id],
                serviceArea: GeoCircle(center: job.location, radiusKm: 5),
                licence: Licence(number: evil, region: evil, expiresAt: Fixture.at(1)))
            let message = Message(id: MessageID(UUID()), jobID: job.id, senderID: homeowner.id, body: evil, createdAt: Fixture.at(20))
            let dispute = Dispute(
                id: DisputeID(UUID()), jobID: job.id, openedBy: homeowner.id, respondent: fixture.contractor.id, reason: evil,
                response: evil, status: .resolved, jobStatusBefore: .completed,
                resolution: DisputeResolution(
                    outcome: .partialRefund(Money(5, .usd)), note: evil, resolvedBy: homeowner.id,
                    resolvedAt: Fixture.at(30)),
                createdAt: Fixture.at(21))
            let review = Review(
                id: ReviewID(UUID()), jobID: job.id, authorID: homeowner.id, subjectID: fixture.contractor.id, rating: 5, text: evil,
                createdAt: Fixture.at(22), visibleFrom: Fixture.at(22))
            let escrow = Escrow(
                id: EscrowID(UUID()), jobID: job.id, bidID: bid.id, homeownerID: homeowner.id, contractorID: fixture.contractor.id,
                amount: bid.amount, feeBasisPoints: 250, status: .held, paymentReference: evil, transferReference: evil,
                createdAt: Fixture.at(23))
            let event = OutboxEvent(
                id: EventID(UUID()), type: evil, schemaVersion: 1, aggregateID: job.id.rawValue,
                recipients: [homeowner.id], payload: Data(evil.utf8), occurredAt: Fixture.at(24))
            var changes = ChangeSet()
            changes.append(.insertContractorProfile(profile))
            changes.append(.insertBid(bid))
            changes.append(.insertMessage(message))
            changes.append(.insertDispute(dispute))
            changes.append(.insertReview(review))
            changes.append(.insertEscrow(escrow))
            changes.append(.appendEvent(event))
            try await store.commit(changes)

            #expect(try await store.tenantRecord() == tenant)
            #expect(try await storage.tenant(slug: tenant.slug) == tenant)
            #expect(try await store.user(homeowner.id) == homeowner)
            #expect(try await store.user(email: homeowner.email) == homeowner)
            #expect(try await store.categories() == [category])
            #expect(try await store.job(job.id) == job)
            #expect(try await store.contractorProfile(profile.userID) == profile)
            #expect(try await store.bid(bid.id, viewer: .admin) == bid)
            #expect(try await store.messages(job: job.id, page: PageRequest()).items == [message])
            #expect(try await store.dispute(dispute.id) == dispute)
            #expect(try await store.reviews(job: job.id) == [review])
            #expect(try await store.escrow(job: job.id) == escrow)
            #expect(try await store.events(recipient: homeowner.id, page: PageRequest()).items == [event])
            try await store.recordFailure(event.id, attempts: 1, retryAt: nil, reason: evil)
            #expect(try await store.deadLetters(limit: 10).first?.delivery.lastError == evil)
            // Text search treats the text literally, including % and _.
            #expect(try await store.jobs(JobQuery(text: evil)).items.map(\.id) == [job.id])
            #expect(try await store.jobs(JobQuery(text: evil + "x")).items.isEmpty)
            inserted.append((tenant, category))
        }
        // Nothing was executed: after every string went in, each tenant and its category (the injected slug) reads back
        // exactly, from tables that are all still there.
        let tenants = try await storage.allTenants()
        #expect(inserted.map { row in tenants.first { $0.id == row.tenant.id } } == inserted.map { Optional($0.tenant) })
        #expect(inserted.map(\.tenant.displayName) == Self.injections)
        var slugs: [String] = []
        for row in inserted { slugs += try await storage.tenant(row.tenant.id).categories().map(\.slug) }
        #expect(slugs == Self.injections)
    }

    @Test("A unique violation maps to its constraint, and the description holds no SQL and no values")
    func redactedErrors() async throws {
        let storage = try await PostgresHarness.storage()
        let fixture = try Fixture(email: "secret-person@example.com")
        let store = try await fixture.insert(into: storage)
        var changes = ChangeSet()
        changes.append(
            .insertUser(
                User(
                    id: UserID(UUID()), email: try EmailAddress("Secret-Person@example.com"), displayName: "Twin",
                    role: .homeowner, createdAt: Fixture.now)))
        let error = try #require(await #expect(throws: StorageError.self) { try await store.commit(changes) })
        #expect(error.code == .uniqueViolation)
        #expect(error.constraint == UniqueConstraint.userEmail)
        let text = "\(error) \(String(reflecting: error)) \(error.message)".lowercased()
        for forbidden in ["secret", "example.com", "insert", "select", "values", "where", "twin", fixture.tenant.id.uuidString] {
            #expect(!text.contains(forbidden), "\(forbidden) in \(text)")
        }

        var duplicateSlug = ChangeSet()
        duplicateSlug.append(.insertCategory(TradeCategory(id: CategoryID(UUID()), slug: "plumbing", name: "Again")))
        #expect(await #expect(throws: StorageError.self) { try await store.commit(duplicateSlug) }?.constraint == UniqueConstraint.categorySlug)
        var duplicateBid = ChangeSet()
        duplicateBid.append(.insertBid(fixture.bid()))
        duplicateBid.append(.insertBid(fixture.bid()))
        #expect(await #expect(throws: StorageError.self) { try await store.commit(duplicateBid) }?.constraint == UniqueConstraint.liveBid)
        var duplicateKey = ChangeSet()
        duplicateKey.append(.insertJob(fixture.job))
        #expect(await #expect(throws: StorageError.self) { try await store.commit(duplicateKey) }?.constraint == UniqueConstraint.primaryKey)
        var otherTenant = try Fixture()
        otherTenant = Fixture(
            tenant: Tenant(
                id: otherTenant.tenant.id, slug: fixture.tenant.slug, displayName: "Dup", settings: fixture.tenant.settings,
                createdAt: Fixture.now),
            homeowner: otherTenant.homeowner, contractor: otherTenant.contractor, category: otherTenant.category, job: otherTenant.job)
        let slugError = await #expect(throws: StorageError.self) { _ = try await otherTenant.insert(into: storage) }
        #expect(slugError?.constraint == UniqueConstraint.tenantSlug)
    }

    @Test("Migrations: idempotent, and an edited applied migration or an unknown one is refused")
    func migrations() async throws {
        let environment = try await PostgresHarness.environment()
        let storage = environment.shared
        try await storage.migrate()
        let applied = try await storage.appliedMigrations()
        #expect(applied.map(\.version) == Migration.all.map(\.version))
        #expect(applied.allSatisfy { $0.checksum.count == 64 })

        let owner = try #require(environment.storage.migrationCredentials)
        let configuration = environment.storage.clientConfiguration(as: owner, maximumConnections: 1)
        let original = Migration.all[0]
        // Migration 1 edited, every later one as it is (so none of the applied ones is unknown).
        let edited =
            [Migration(version: original.version, name: original.name, statements: original.statements + ["SELECT 1"])]
            + Migration.all.dropFirst()
        try await PostgresStorage.withTemporaryClient(configuration, logger: PostgresHarness.logger) { client in
            let error = await #expect(throws: PostgresMigrationError.self) {
                try await Migrator(client: client, logger: PostgresHarness.logger, migrations: edited).migrate()
            }
            #expect(error?.code == .checksumMismatch)
            #expect(error?.version == 1)
            #expect(!(error?.description.contains("CREATE") ?? true))
            let unknown = await #expect(throws: PostgresMigrationError.self) {
                try await Migrator(client: client, logger: PostgresHarness.logger, migrations: []).migrate()
            }
            #expect(unknown?.code == .unknownAppliedMigration)
        }
        var noOwner = environment.storage
        noOwner.migrationCredentials = nil
        let missing = await #expect(throws: PostgresMigrationError.self) {
            try await PostgresStorage(configuration: noOwner, logger: PostgresHarness.logger).migrate()
        }
        #expect(missing?.code == .missingOwnerCredentials)
    }

    @Test("Job search and keyset pages: filters, distance, visibility, newest first")
    func searchAndPages() async throws {
        let storage = try await PostgresHarness.storage()
        let fixture = try Fixture()
        let store = try await fixture.insert(into: storage)
        var changes = ChangeSet()
        var jobs: [Job] = []
        for index in 0..<5 {
            let location = GeoPoint(latitude: 51.5 + Double(index) * 0.1, longitude: -0.12)
            let job = Job(
                id: JobID(UUID()), ownerID: fixture.homeowner.id, categoryID: fixture.category.id, title: "Roof \(index)",
                description: index == 3 ? "needs 100% care" : "tiles", location: location, budget: fixture.job.budget,
                status: index == 4 ? .awarded : .open, contractorID: index == 4 ? fixture.contractor.id : nil, createdAt: Fixture.at(1_000))
            changes.append(.insertJob(job))
            jobs.append(job)
        }
        try await store.commit(changes)
        // Same created_at: the id breaks the tie, descending.
        let expected = jobs.sorted { $0.id > $1.id } + [fixture.job]
        var seen: [Job] = []
        var cursor: PageCursor?
        repeat {
            var query = JobQuery(cursor: cursor, limit: 2)
            query.cursor = cursor
            let page = try await store.jobs(query)
            seen += page.items
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen.map(\.id) == expected.map(\.id))

        #expect(try await store.jobs(JobQuery(text: "100%")).items.map(\.id) == [jobs[3].id])
        #expect(try await store.jobs(JobQuery(text: "10_%")).items.isEmpty)
        #expect(try await store.jobs(JobQuery(statuses: [.awarded])).items.map(\.id) == [jobs[4].id])
        #expect(try await store.jobs(JobQuery(statuses: [])).items.isEmpty)
        let circle = GeoCircle(center: GeoPoint(latitude: 51.5, longitude: -0.12), radiusKm: 12)
        let near = try await store.jobs(JobQuery(near: circle, limit: 100)).items
        let all = try await store.jobs(JobQuery(limit: 100)).items
        #expect(Set(near.map(\.id)) == Set(all.filter { circle.contains($0.location) }.map(\.id)))
        #expect(near.count == 3)
        var hidden = JobQuery(statuses: [.awarded])
        hidden.visibleTo = UserID(UUID())
        #expect(try await store.jobs(hidden).items.isEmpty)
        hidden.visibleTo = fixture.contractor.id
        #expect(try await store.jobs(hidden).items.count == 1)

        // Bid visibility is applied in the query.
        let bid = fixture.bid()
        var bidChanges = ChangeSet()
        bidChanges.append(.insertBid(bid))
        try await store.commit(bidChanges)
        #expect(try await store.bid(bid.id, viewer: .user(fixture.homeowner.id)) == bid)
        #expect(try await store.bid(bid.id, viewer: .user(fixture.contractor.id)) == bid)
        #expect(try await store.bid(bid.id, viewer: .user(UserID(UUID()))) == nil)
        #expect(try await store.bids(job: fixture.job.id, viewer: .user(UserID(UUID()))).isEmpty)
        #expect(try await store.bids(contractor: fixture.contractor.id, page: PageRequest()).items == [bid])
    }

    @Test("Outbox: claims skip leased events, failures retry or dead-letter, the feed follows recipients")
    func outbox() async throws {
        let storage = try await PostgresHarness.storage()
        let fixture = try Fixture()
        let store = try await fixture.insert(into: storage)
        var changes = ChangeSet()
        var events: [OutboxEvent] = []
        for index in 0..<3 {
            let event = OutboxEvent(
                id: EventID(UUID()), type: "test.event", schemaVersion: 1, aggregateID: fixture.job.id.rawValue,
                recipients: index == 0 ? [fixture.homeowner.id, fixture.contractor.id].sorted() : [fixture.contractor.id],
                payload: Data("{\"n\":\(index)}".utf8), occurredAt: Fixture.at(Int64(index)))
            changes.append(.appendEvent(event))
            events.append(event)
        }
        try await store.commit(changes)
        #expect(try await store.events(recipient: fixture.homeowner.id, page: PageRequest()).items == [events[0]])
        #expect(try await store.events(recipient: fixture.contractor.id, page: PageRequest()).items == events)
        #expect(try await store.events(recipient: nil, page: PageRequest(limit: 2)).nextCursor != nil)

        let now = Fixture.at(100)
        let claimed = try await store.claimEvents(limit: 2, now: now, leaseUntil: Fixture.at(60_100))
        #expect(claimed.map(\.id) == [events[0].id, events[1].id])
        #expect(claimed.allSatisfy { $0.delivery.availableAt == Fixture.at(60_100) })
        #expect(try await store.claimEvents(limit: 10, now: now, leaseUntil: Fixture.at(60_100)).map(\.id) == [events[2].id])
        try await store.markDelivered([events[0].id])
        try await store.recordFailure(events[1].id, attempts: 1, retryAt: Fixture.at(200), reason: "timeout")
        try await store.recordFailure(events[2].id, attempts: 8, retryAt: nil, reason: "gone")
        let retried = try await store.claimEvents(limit: 10, now: Fixture.at(70_000), leaseUntil: Fixture.at(80_000))
        #expect(retried.map(\.id) == [events[1].id])
        #expect(retried.first?.delivery.attempts == 1 && retried.first?.delivery.lastError == "timeout")
        let dead = try await store.deadLetters(limit: 10)
        #expect(dead.map(\.id) == [events[2].id] && dead.first?.delivery.status == .dead)
    }
}

@Suite("PostgresStorage sessions and failures")
struct PostgresSessionTests {
    @Test("Tenant and timeout settings are transaction-local: nothing survives on the pooled connection")
    func noSessionState() async throws {
        try await PostgresHarness.withStorage(maximumConnections: 1) { storage in
            let tenant = TenantID(UUID())
            let inside = try await storage.database.transaction(.tenant(tenant)) { connection in
                var values: [String?] = []
                for try await (value) in try await connection.run(
                    """
                    SELECT current_setting('app.tenant_id', true) UNION ALL SELECT current_setting('statement_timeout')
                    """
                ).decode(String?.self) {
                    values.append(value)
                }
                return values
            }
            #expect(inside == [tenant.uuidString, "30s"])
            let after = try await storage.client.withConnection { connection in
                var values: [String?] = []
                for try await (value) in try await connection.run(
                    """
                    SELECT NULLIF(current_setting('app.tenant_id', true), '') UNION ALL SELECT current_setting('statement_timeout')
                    """
                ).decode(String?.self) {
                    values.append(value)
                }
                return values
            }
            #expect(after == [nil, "0"])
        }
    }

    @Test("An unreachable server is a typed unavailable error, not a hang")
    func unreachable() async throws {
        var configuration = try await PostgresHarness.environment().storage
        configuration.port = 1
        configuration.password = "secret-password"
        configuration.leaseTimeout = .seconds(2)
        let storage = PostgresStorage(configuration: configuration, logger: PostgresHarness.logger)
        let started = ContinuousClock.now
        let error = try await withThrowingTaskGroup(of: StorageError?.self, returning: StorageError?.self) { group in
            group.addTask {
                await storage.run(); return nil
            }
            defer { group.cancelAll() }
            try await Task.sleep(for: .milliseconds(50))
            do {
                _ = try await storage.tenant(TenantID(UUID())).job(JobID(UUID()))
                return nil
            } catch let error as StorageError {
                return error
            }
        }
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        // The lease timeout answers, not the pool's circuit breaker a minute later (generous bound for a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(!(error?.description.contains("secret-password") ?? true))
        #expect(!configuration.description.contains("secret-password"))
    }

    @Test("Database URLs parse, and their passwords stay out of descriptions")
    func urls() throws {
        let configuration = try PostgresStorage.Configuration(url: "postgres://app:p%40ss@db.example.com:6432/trades?sslmode=require")
        #expect(configuration.username == "app" && configuration.password == "p@ss" && configuration.host == "db.example.com")
        #expect(configuration.port == 6432 && configuration.database == "trades" && configuration.tls == .require)
        #expect(!configuration.description.contains("p@ss"))
        #expect(try PostgresStorage.Configuration(url: "postgresql://app@127.0.0.1/trades").tls == .disable)
        #expect(try PostgresStorage.Configuration(url: "postgres://app@remote.example.com/trades").tls == .require)
        #expect(throws: PostgresConfigurationError.self) { try PostgresStorage.Configuration(url: "mysql://app@host/db") }
        #expect(throws: PostgresConfigurationError.self) { try PostgresStorage.Configuration(url: "postgres://app@host/") }
    }
}
