import Foundation
import Prometheus
import HTTPTypes
import ReferenceServer
import Testing
import TradesKit
import TradesKitTesting

/// The whole marketplace over HTTP, and what each role may not do.
@Suite("Marketplace over HTTP")
struct MarketplaceFlowTests {
    @Test("Register, confirm the address, log in, post, bid blind, accept, start, complete, approve, review, message, events")
    func wholeFlow() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            // Registration, the e-mailed link and login in the tenant named by X-Tenant.
            let registered = try await api.call(
                .post, "/v1/auth/register", tenant: "acme",
                json: ["email": "new@acme.example.com", "password": "a long enough password", "displayName": "New Homeowner", "role": "homeowner"])
            #expect(registered.status == .accepted, "\(registered)")
            let verification = try #require(await IdentityRoutesTests.emails(harness).last)
            let link = try #require(IdentityRoutesTests.token(in: verification))
            let confirmed = try await api.call(.post, "/v1/auth/verify-email", tenant: "acme", json: ["token": .string(link)])
            #expect(confirmed.status == .noContent, "\(confirmed)")
            let login = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": "new@acme.example.com", "password": "a long enough password"])
            #expect(login.status == .ok, "\(login)")
            #expect(login["tokenType"] == "Bearer")
            #expect(login["expiresIn"] == 900)
            let token = try #require(login.string("accessToken"))
            let me = try await api.call(.get, "/v1/me", token: token)
            #expect(me.status == .ok && me["email"] == "new@acme.example.com" && me["role"] == "homeowner", "\(me)")
            #expect(me["passwordHash"] == nil)

            let categories = try await api.call(.get, "/v1/categories", tenant: "acme")
            #expect(categories.status == .ok && categories.items.count == DefaultCatalogue.trades.count)

            // The owner posts; A and B bid.
            let job = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
            #expect(job.status == .created, "\(job)")
            let jobID = job.id
            let bidA = try await api.call(.post, "/v1/jobs/\(jobID)/bids", as: world.contractorA, json: .bid(20_000))
            let bidB = try await api.call(.post, "/v1/jobs/\(jobID)/bids", as: world.contractorB, json: .bid(30_000))
            #expect(bidA.status == .created && bidB.status == .created, "\(bidA) \(bidB)")

            // The owner sees both; each contractor only their own.
            #expect(try await api.call(.get, "/v1/jobs/\(jobID)/bids", as: world.owner).items.count == 2)
            let seenByB = try await api.call(.get, "/v1/jobs/\(jobID)/bids", as: world.contractorB).items
            #expect(seenByB.count == 1 && seenByB.first?["id"]?.stringValue == bidB.id)

            let search = try await api.call(.get, "/v1/jobs?status=open&near=51.5,-0.12&radiusKm=20&q=tap&limit=5", as: world.contractorA)
            #expect(search.status == .ok && search.items.count == 1, "\(search)")
            #expect(search["nextCursor"] == .null)
            let mine = try await api.call(.get, "/v1/jobs?mine=true", as: world.owner)
            #expect(mine.items.count == 1)

            // Accept A: B is declined, the money is held.
            let accepted = try await api.call(.post, "/v1/bids/\(bidA.id)/accept", as: world.owner)
            #expect(accepted.status == .ok, "\(accepted)")
            #expect(accepted["declinedBids"] == 1)
            #expect(accepted["escrow"]?["status"] == "held")
            #expect(try await api.call(.get, "/v1/bids/\(bidB.id)", as: world.contractorB)["status"] == "declined")

            // Messages between the parties.
            let message = try await api.call(.post, "/v1/jobs/\(jobID)/messages", as: world.contractorA, json: ["body": "On my way."])
            #expect(message.status == .created, "\(message)")
            #expect(try await api.call(.get, "/v1/jobs/\(jobID)/messages", as: world.owner).items.count == 1)

            // Start, complete, approve.
            #expect(try await api.call(.post, "/v1/jobs/\(jobID)/start", as: world.contractorA)["status"] == "in_progress")
            #expect(try await api.call(.post, "/v1/jobs/\(jobID)/complete", as: world.contractorA)["status"] == "completed")
            #expect(try await api.call(.post, "/v1/jobs/\(jobID)/approve", as: world.owner)["status"] == "closed")

            // Reviews are hidden until both are in.
            let review = try await api.call(.post, "/v1/jobs/\(jobID)/reviews", as: world.owner, json: ["rating": 5, "text": "Great"])
            #expect(review.status == .created, "\(review)")
            #expect(try await api.call(.get, "/v1/users/\(world.contractorA.id)/reviews", as: world.owner).items.isEmpty)
            _ = try await api.call(.post, "/v1/jobs/\(jobID)/reviews", as: world.contractorA, json: ["rating": 4])
            #expect(try await api.call(.get, "/v1/users/\(world.contractorA.id)/reviews", as: world.owner).items.count == 1)
            // Anyone may read reviews about a user, with nothing that ties one to its job (author, job, id, exact time):
            // it would tell a losing bidder who won.
            let publicReviews = try await api.call(.get, "/v1/users/\(world.contractorA.id)/reviews", as: world.contractorB).items
            #expect(publicReviews.count == 1, "\(publicReviews)")
            let month = ISO8601DateFormatter().string(from: harness.clock.now()).prefix(7)
            #expect(
                publicReviews.first
                    == [
                        "subjectId": .string("\(world.contractorA.id)"), "authorRole": "homeowner", "rating": 5, "text": "Great",
                        "month": .string(String(month)),
                    ], "\(publicReviews)")
            let aboutOwner = try await api.call(.get, "/v1/users/\(world.owner.id)/reviews", as: world.contractorB).items
            #expect(aboutOwner.map { $0["authorRole"] } == ["contractor"], "\(aboutOwner)")
            #expect(try await api.call(.get, "/v1/jobs/\(jobID)/reviews", as: world.contractorB).status != .ok)
            let profile = try await api.call(.get, "/v1/users/\(world.contractorA.id)", as: world.owner)
            #expect(profile["rating"]?["count"] == 1, "\(profile)")

            // The feed, and the caller's bids.
            let events = try await api.call(.get, "/v1/events?limit=100", as: world.owner)
            #expect(events.status == .ok && events.items.contains { $0["type"] == "bid.accepted" }, "\(events)")
            #expect(try await api.call(.get, "/v1/me/bids", as: world.contractorA).items.count == 1)
        }
        // Business counters.
        let exposition = harness.server.metrics.registry.emitToString()
        #expect(exposition.contains("tradeskit_jobs_posted_total 1"))
        #expect(exposition.contains("tradeskit_bids_submitted_total 2"))
        #expect(exposition.contains("tradeskit_bids_accepted_total 1"))
    }

    @Test("Disputes: a party opens, the other responds, an admin resolves; the queue and stats are admin-only")
    func disputes() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            let jobID = try await awardedJob(api, world)
            let opened = try await api.call(
                .post, "/v1/disputes", as: world.owner, json: ["jobId": .string(jobID), "reason": "The contractor never showed up."])
            #expect(opened.status == .created, "\(opened)")
            let disputeID = opened.id
            #expect(try await api.call(.get, "/v1/disputes", as: world.contractorA).items.count == 1)
            // The admin reads the dispute; the answer arrives before the admin decides.
            let seen = try await api.call(.get, "/v1/disputes/\(disputeID)", as: world.admin)
            let seenVersion = try #require(seen["version"]?.integerValue)
            let answered = try await api.call(
                .post, "/v1/disputes/\(disputeID)/respond", as: world.contractorA, json: ["response": "I was there twice."])
            #expect(answered["status"] == "under_review", "\(answered)")
            #expect(answered["version"]?.integerValue == seenVersion + 1)
            // A decision on the version the admin saw is refused; nothing changes until one on the current version.
            let stale = try await api.call(
                .post, "/v1/disputes/\(disputeID)/resolve", as: world.admin,
                json: ["outcome": "full_refund", "note": "Refund.", "expectedVersion": .integer(seenVersion)])
            #expect(stale.status == .conflict && stale.problemCode == "conflict", "\(stale)")
            #expect(try await api.call(.get, "/v1/disputes/\(disputeID)", as: world.admin)["status"] == "under_review")
            let badVersion = try await api.call(
                .post, "/v1/disputes/\(disputeID)/resolve", as: world.admin, json: ["outcome": "release", "note": "x", "expectedVersion": 0])
            #expect(badVersion.status == .unprocessableContent && badVersion.fieldErrors == ["expectedVersion"], "\(badVersion)")
            // Only an admin resolves, sees the queue and the stats.
            let notAdmin = try await api.call(
                .post, "/v1/disputes/\(disputeID)/resolve", as: world.owner, json: ["outcome": "full_refund", "note": "Refund."])
            #expect(notAdmin.status == .forbidden && notAdmin.problemCode == "forbidden")
            #expect(try await api.call(.get, "/v1/admin/disputes", as: world.owner).status == .forbidden)
            #expect(try await api.call(.get, "/v1/admin/stats", as: world.contractorA).status == .forbidden)
            #expect(try await api.call(.get, "/v1/admin/disputes", as: world.admin).items.count == 1)
            let stats = try await api.call(.get, "/v1/admin/stats", as: world.admin)
            #expect(stats["openDisputes"] == 1 && stats["users"]?["contractor"] == 3, "\(stats)")
            let partialWithoutRefund = try await api.call(
                .post, "/v1/disputes/\(disputeID)/resolve", as: world.admin, json: ["outcome": "partial_refund", "note": "Split."])
            #expect(partialWithoutRefund.status == .unprocessableContent && partialWithoutRefund.fieldErrors == ["refund"], "\(partialWithoutRefund)")
            let resolved = try await api.call(
                .post, "/v1/disputes/\(disputeID)/resolve", as: world.admin,
                json: [
                    "outcome": "partial_refund", "refund": ["amount": 5_000, "currency": "USD"], "note": "Split.",
                    "expectedVersion": .integer(seenVersion + 1),
                ])
            #expect(resolved.status == .ok && resolved["resolution"]?["outcome"] == "partial_refund", "\(resolved)")
            #expect(try await api.call(.get, "/v1/jobs/\(jobID)", as: world.owner)["status"] == "closed")
        }
    }

    @Test("Each role is refused what it may not do")
    func forbiddenByRole() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            // A contractor cannot post; a homeowner cannot bid; a contractor cannot accept; only the owner edits.
            #expect(try await api.call(.post, "/v1/jobs", as: world.contractorA, json: .newJob(category: world.plumbing)).status == .forbidden)
            let job = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
            #expect(try await api.call(.patch, "/v1/jobs/\(job.id)", as: world.owner, json: ["title": "Fix two taps"])["title"] == "Fix two taps")
            #expect(try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.otherOwner, json: .bid(1_000)).status == .forbidden)
            // C has no contractor profile.
            #expect(try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorC, json: .bid(1_000)).status == .forbidden)
            // A bid may name the job's version it prices: the edit made it 2, so a price for version 1 is refused.
            let edited = try await api.call(.get, "/v1/jobs/\(job.id)", as: world.contractorA)
            #expect(job["version"] == 1 && edited["version"] == 2, "\(edited)")
            // An edit repeating what the job says changes nothing, its version included.
            let repeated = try await api.call(.patch, "/v1/jobs/\(job.id)", as: world.owner, json: ["title": "Fix two taps"])
            #expect(repeated.status == .ok && repeated["version"] == 2, "\(repeated)")
            let stale = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(1_000, jobVersion: 1))
            #expect(stale.status == .conflict && stale.problemCode == "conflict", "\(stale)")
            let zero = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(1_000, jobVersion: 0))
            #expect(zero.status == .unprocessableContent && zero.fieldErrors == ["jobVersion"], "\(zero)")
            let bid = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(1_000, jobVersion: 2))
            #expect(bid.status == .created, "\(bid)")
            #expect(try await api.call(.post, "/v1/bids/\(bid.id)/accept", as: world.contractorA).problemCode == "forbidden")
            #expect(try await api.call(.post, "/v1/bids/\(bid.id)/withdraw", as: world.owner).status == .forbidden)
            #expect(try await api.call(.patch, "/v1/jobs/\(job.id)", as: world.otherOwner, json: ["title": "Mine now"]).status == .forbidden)
            // The owner may edit, but not once a contractor has bid: the bid priced what the job said.
            let edit = try await api.call(.patch, "/v1/jobs/\(job.id)", as: world.owner, json: ["title": "Fix three taps"])
            #expect(edit.status == .conflict && edit.problemCode == "invalid_transition", "\(edit)")
            #expect(try await api.call(.get, "/v1/jobs/\(job.id)", as: world.owner)["title"] == "Fix two taps")
            #expect(try await api.call(.post, "/v1/jobs/\(job.id)/start", as: world.owner).status == .forbidden)
            #expect(try await api.call(.post, "/v1/jobs/\(job.id)/approve", as: world.contractorA).status == .forbidden)
            // Admin routes for non-admins.
            #expect(try await api.call(.get, "/v1/admin/users", as: world.owner).status == .forbidden)
            #expect(try await api.call(.post, "/v1/admin/users/\(world.contractorB.id)/suspend", as: world.contractorA).status == .forbidden)
            #expect(
                try await api.call(.put, "/v1/admin/contractors/\(world.contractorA.id)/vetting", as: world.owner, json: ["status": "approved"])
                    .status == .forbidden)
            // Homeowners have no contractor profile.
            #expect(
                try await api.call(
                    .put, "/v1/me/contractor-profile", as: world.owner,
                    json: [
                        "trades": [.string(world.plumbing.uuidString)],
                        "serviceArea": ["center": ["latitude": 51.5, "longitude": 0], "radiusKm": 10],
                    ]
                ).status == .forbidden)
            // Withdraw, then cancel.
            #expect(try await api.call(.post, "/v1/bids/\(bid.id)/withdraw", as: world.contractorA)["status"] == "withdrawn")
            #expect(try await api.call(.post, "/v1/jobs/\(job.id)/cancel", as: world.owner)["status"] == "cancelled")
            #expect(try await api.call(.post, "/v1/jobs/\(job.id)/cancel", as: world.owner).problemCode == "invalid_transition")
        }
    }

    @Test("Admins suspend and reinstate users; a suspended user is refused")
    func suspension() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            let users = try await api.call(.get, "/v1/admin/users?role=contractor&limit=2", as: world.admin)
            #expect(users.items.count == 2 && users["nextCursor"]?.stringValue != nil, "\(users)")
            let next = try await api.call(.get, "/v1/admin/users?role=contractor&cursor=\(users["nextCursor"]!.stringValue!)", as: world.admin)
            #expect(next.items.count == 1)
            #expect(try await api.call(.post, "/v1/admin/users/\(world.contractorB.id)/suspend", as: world.admin)["suspended"] == true)
            // The suspension ended the user's sessions: their access token is refused like any ended one.
            let refused = try await api.call(.get, "/v1/me", as: world.contractorB)
            #expect(refused.status == .unauthorized && refused.problemCode == "unauthenticated", "\(refused)")
            let credentials: JSONValue = ["email": .string(world.contractorB.email), "password": .string(TestServer.password)]
            let login = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: credentials)
            #expect(login.status == .forbidden && login.problemCode == "account_suspended", "\(login)")
            #expect(try await api.call(.post, "/v1/admin/users/\(world.contractorB.id)/unsuspend", as: world.admin)["suspended"] == false)
            // Reinstating does not bring the old token back; signing in again works.
            #expect(try await api.call(.get, "/v1/me", as: world.contractorB).status == .unauthorized)
            let again = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: credentials)
            let token = try #require(again.string("accessToken"))
            #expect(try await api.call(.get, "/v1/me", token: token).status == .ok)
            // Vetting decides on the profile as the admin saw it: a profile changed since is not approved.
            let profile = try await api.call(.get, "/v1/users/\(world.contractorA.id)", as: world.admin)["contractorProfile"]
            let profileVersion = try #require(profile?["version"]?.integerValue)
            let edited = try await api.call(
                .put, "/v1/me/contractor-profile", as: world.contractorA,
                json: [
                    "headline": "Licensed plumber", "trades": .array([.string("\(world.plumbing)")]),
                    "serviceArea": ["center": ["latitude": 51.5, "longitude": -0.12], "radiusKm": 30],
                ])
            #expect(edited.status == .ok, "\(edited)")
            let stale = try await api.call(
                .put, "/v1/admin/contractors/\(world.contractorA.id)/vetting", as: world.admin,
                json: ["status": "approved", "expectedVersion": .integer(profileVersion)])
            #expect(stale.status == .conflict, "\(stale)")
            let vetted = try await api.call(
                .put, "/v1/admin/contractors/\(world.contractorA.id)/vetting", as: world.admin,
                json: ["status": "approved", "expectedVersion": .integer(profileVersion + 1)])
            #expect(vetted["vetting"] == "approved" && vetted["version"]?.integerValue == profileVersion + 2, "\(vetted)")
        }
    }

    @Test("Account and contractor profile updates")
    func account() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            let updated = try await api.call(.patch, "/v1/me", as: world.owner, json: ["displayName": "Ann", "phone": "+14155550123"])
            #expect(updated["displayName"] == "Ann" && updated["phone"] == "+14155550123", "\(updated)")
            let cleared = try await api.call(.patch, "/v1/me", as: world.owner, json: ["phone": .null])
            #expect(cleared["phone"] == nil, "\(cleared)")
            // Notification channels: both on at first; each turned off or on alone.
            #expect(cleared["notifications"] == ["email": true, "sms": true], "\(cleared)")
            let quiet = try await api.call(.patch, "/v1/me", as: world.owner, json: ["notifications": ["sms": false]])
            #expect(quiet["notifications"] == ["email": true, "sms": false] && quiet["displayName"] == "Ann", "\(quiet)")
            #expect(try await api.call(.get, "/v1/me", as: world.owner)["notifications"] == ["email": true, "sms": false])
            for bad: JSONValue in [
                ["notifications": .null], ["notifications": ["sms": "no"]], ["notifications": ["push": true]], ["notifications": true],
            ] {
                let refused = try await api.call(.patch, "/v1/me", as: world.owner, json: bad)
                #expect(refused.status == .unprocessableContent, "\(bad): \(refused)")
            }
            #expect(
                try await api.call(.get, "/v1/me", as: world.owner)["notifications"] == ["email": true, "sms": false], "refusals changed nothing")
            let profile = try await api.call(
                .put, "/v1/me/contractor-profile", as: world.contractorC,
                json: [
                    "headline": "Fast and tidy", "trades": [.string(world.plumbing.uuidString)],
                    "serviceArea": ["center": ["latitude": 51.5, "longitude": -0.1], "radiusKm": 30],
                    "licence": ["number": "PL-1", "region": "London", "expiresAt": "2027-01-01T00:00:00Z"],
                ])
            #expect(profile.status == .ok && profile["licence"]?["expiresAt"] == "2027-01-01T00:00:00.000Z", "\(profile)")
            #expect(try await api.call(.get, "/v1/me/contractor-profile", as: world.contractorC)["headline"] == "Fast and tidy")
            #expect(try await api.call(.get, "/v1/me/contractor-profile", as: world.owner).status == .notFound)
        }
    }
}

/// A job of `world.owner` awarded to contractor A; answers its id.
func awardedJob(_ api: API, _ world: TestServer.World) async throws -> String {
    let job = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
    let bid = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(20_000))
    let accepted = try await api.call(.post, "/v1/bids/\(bid.id)/accept", as: world.owner)
    #expect(accepted.status == .ok, "\(accepted)")
    return job.id
}
