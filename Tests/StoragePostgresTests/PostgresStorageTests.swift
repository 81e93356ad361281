import Foundation
import PostgresNIO
@testable import StoragePostgres
import Testing
import TradesKit

@Suite("PostgresStorage")
struct PostgresStorageTests {
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

        let profile = ContractorProfile(userID: fixture.contractor.id, headline: "Pipes", trades: [fixture.category.id, CategoryID(UUID())],
                                        serviceArea: GeoCircle(center: GeoPoint(latitude: 51.5, longitude: -0.12), radiusKm: 12.5),
                                        licence: Licence(number: "L-1", region: "England", expiresAt: Fixture.at(86_400_000)),
                                        insuranceExpiresAt: Fixture.at(3_600_000), vetting: .approved)
        var profileChanges = ChangeSet()
        profileChanges.append(.insertContractorProfile(profile))
        try await store.commit(profileChanges)
        #expect(try await store.contractorProfile(fixture.contractor.id) == profile)
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
        ghost = Job(id: JobID(UUID()), ownerID: ghost.ownerID, categoryID: ghost.categoryID, title: "Ghost", description: "", location: ghost.location,
                    budget: ghost.budget, createdAt: Fixture.now)
        missing.update(ghost)
        let missingError = await #expect(throws: StorageError.self) { try await store.commit(missing) }
        #expect(missingError?.code == .missingRow)

        var expectations = ChangeSet()
        expectations.append(.expectJobVersion(fixture.job.id, version: 1))
        let expectError = await #expect(throws: StorageError.self) { try await store.commit(expectations) }
        #expect(expectError?.code == .versionConflict)

        var live = ChangeSet()
        live.append(.expectLiveBids(fixture.job.id, [BidID(UUID())]))
        let liveError = await #expect(throws: StorageError.self) { try await store.commit(live) }
        #expect(liveError?.code == .versionConflict)
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
        tenantChanges.append(.insertTenant(Tenant(id: TenantID(UUID()), slug: "x-\(UUID().uuidString.prefix(8).lowercased())", displayName: "X",
                                                  settings: a.tenant.settings, createdAt: Fixture.now)))
        await #expect(throws: StorageError.self) { try await storeB.commit(tenantChanges) }
    }
}
