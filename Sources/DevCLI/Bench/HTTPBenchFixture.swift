import ArgumentParser
import Foundation
import ReferenceServer
import TradesKit
import TradesKitTesting

/// The marketplace `trades bench http` runs against, written to its database before the server starts: one tenant with
/// rate limits raised out of the way, a homeowner, contractors with profiles, open jobs that already carry bids (read
/// targets), open jobs without bids (each new bid goes to a job its contractor has not bid on yet), awarded jobs with a
/// message thread, and users with a real bcrypt hash for the login storm. Access tokens come from a ``TokenAuthority``
/// with the server's key, so setting up costs no bcrypt per user.
struct HTTPBenchFixture: Sendable {
    /// What to make.
    struct Size: Sendable {
        var contractors: Int
        /// Open jobs with `bidsPerJob` bids each.
        var jobs: Int
        var bidsPerJob: Int
        /// Open jobs without bids, receiving the new bids of the mix.
        var bidTargets: Int
        var awardedJobs: Int
        var messagesPerThread: Int
        var loginUsers: Int
    }

    static let tenantSlug = "bench"
    static let loginPassword = "bench-login-password"

    let homeownerToken: String
    let contractorTokens: [String]
    /// Open jobs carrying bids: job detail and the owner's bid list.
    let openJobs: [JobID]
    /// Open jobs that receive the mix's new bids.
    let bidTargets: [JobID]
    /// Awarded jobs with a thread between the homeowner and the awarded contractor.
    let awardedJobs: [JobID]
    /// E-mail addresses of the login storm's users, all with ``loginPassword``.
    let loginEmails: [String]

    /// How many distinct (contractor, job) bids the mix can submit before it would repeat one.
    var bidCapacity: Int { contractorTokens.count * bidTargets.count }

    static func make(storage: any Storage, size: Size, bcryptCost: Int, tokens: TokenAuthority) async throws -> HTTPBenchFixture {
        let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
        // Limits out of the way: a 1-second window with the largest per-user and login allowances the policies accept.
        let policies = TenantPolicies(
            loginAttemptsPerWindow: 1_000, apiRequestsPerUserPerWindow: 1_000_000, apiRequestsPerIPPerWindow: 1_000_000, rateLimitWindowSeconds: 1)
        let tenant = try await market.tenants.create(
            by: PlatformOperator(label: "bench"),
            .init(
                slug: tenantSlug, displayName: "Bench",
                settings: TenantSettings(
                    currency: .usd, platformFeeBasisPoints: 1_000, branding: Branding(name: "Bench", fromEmail: "no-reply@bench.example"),
                    policies: policies)))
        guard let category = try await market.catalog.categories(in: tenant.id).first else { throw ValidationError("no categories") }
        let ids = UUIDv7Generator()
        let clock = SystemClock()
        let store = storage.tenant(tenant.id)
        let here = GeoPoint(latitude: 52.52, longitude: 13.40)

        // People. One bcrypt hash at the configured cost serves every login user: each login still verifies it in full.
        let loginHash = try await BcryptPasswordHasher(cost: bcryptCost).hash(loginPassword)
        var people = ChangeSet()
        let owner = User(
            id: ids.make(), email: try EmailAddress("owner@bench.example"), displayName: "Owner", role: .homeowner, createdAt: clock.now())
        people.append(.insertUser(owner))
        var contractors: [UserID] = []
        for index in 0..<size.contractors {
            let contractor = User(
                id: ids.make(), email: try EmailAddress("pro\(index)@bench.example"), displayName: "Pro \(index)", role: .contractor,
                createdAt: clock.now())
            people.append(.insertUser(contractor))
            people.append(
                .insertContractorProfile(
                    ContractorProfile(userID: contractor.id, trades: [category.id], serviceArea: GeoCircle(center: here, radiusKm: 50))))
            contractors.append(contractor.id)
        }
        var loginEmails: [String] = []
        for index in 0..<size.loginUsers {
            let email = "login\(index)@bench.example"
            people.append(
                .insertUser(
                    User(
                        id: ids.make(), email: try EmailAddress(email), displayName: "Login \(index)", role: .homeowner, passwordHash: loginHash,
                        emailVerified: true, createdAt: clock.now())))
            loginEmails.append(email)
        }
        try await store.commit(people)

        // Jobs, in large change sets.
        func job(_ title: String) -> Job {
            Job(
                id: ids.make(), ownerID: owner.id, categoryID: category.id, title: title,
                description: "A benchmark job with a realistic description.",
                location: here, budget: BudgetRange(min: Money(1_000, .usd), max: Money(100_000, .usd)), createdAt: clock.now())
        }
        var openJobs: [JobID] = []
        var bidTargets: [JobID] = []
        var awardBids: [BidID] = []
        var awardedContractors: [UserID] = []
        var pending = ChangeSet()
        var pendingJobs = 0
        func flush() async throws {
            if !pending.isEmpty { try await store.commit(pending) }
            pending = ChangeSet()
            pendingJobs = 0
        }
        for index in 0..<(size.jobs + size.bidTargets + size.awardedJobs) {
            let job = job("Bench job \(index)")
            pending.append(.insertJob(job))
            if index < size.jobs {
                openJobs.append(job.id)
                for offset in 0..<min(size.bidsPerJob, contractors.count) {
                    let contractor = contractors[(index + offset) % contractors.count]
                    pending.append(
                        .insertBid(
                            Bid(
                                id: ids.make(), jobID: job.id, contractorID: contractor, amount: Money(Int64(20_000 + offset * 100), .usd),
                                message: "Available next week.", createdAt: clock.now())))
                }
            } else if index < size.jobs + size.bidTargets {
                bidTargets.append(job.id)
            } else {
                let contractor = contractors[index % contractors.count]
                let bid = Bid(
                    id: ids.make(), jobID: job.id, contractorID: contractor, amount: Money(30_000, .usd), message: "Ready to start.",
                    createdAt: clock.now())
                pending.append(.insertBid(bid))
                awardBids.append(bid.id)
                awardedContractors.append(contractor)
            }
            pendingJobs += 1
            if pendingJobs == 100 { try await flush() }
        }
        try await flush()

        // Awarded jobs go through the real accept (escrow, ledger, events); their threads are written in bulk.
        let ownerPrincipal = Principal(tenantID: tenant.id, user: owner)
        var awardedJobs: [JobID] = []
        for (bidID, contractor) in zip(awardBids, awardedContractors) {
            let acceptance = try await market.bids.accept(by: ownerPrincipal, bidID)
            awardedJobs.append(acceptance.job.id)
            for index in 0..<size.messagesPerThread {
                pending.append(
                    .insertMessage(
                        Message(
                            id: ids.make(), jobID: acceptance.job.id, senderID: index.isMultiple(of: 2) ? owner.id : contractor,
                            body: "Message \(index) about the work.", createdAt: clock.now())))
            }
        }
        try await flush()

        var contractorTokens: [String] = []
        for contractor in contractors {
            contractorTokens.append(
                try await tokens.issue(for: Principal(tenantID: tenant.id, userID: contractor, role: .contractor, sessionGeneration: 0)).token)
        }
        return HTTPBenchFixture(
            homeownerToken: try await tokens.issue(for: ownerPrincipal).token, contractorTokens: contractorTokens, openJobs: openJobs,
            bidTargets: bidTargets, awardedJobs: awardedJobs, loginEmails: loginEmails)
    }
}
