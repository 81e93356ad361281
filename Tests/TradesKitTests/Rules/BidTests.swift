import Foundation
import Testing
import TradesKit

enum BidAction: String, CaseIterable, CustomTestStringConvertible {
    case withdraw, accept, decline

    var target: BidStatus {
        switch self {
        case .withdraw: .withdrawn
        case .accept: .accepted
        case .decline: .declined
        }
    }

    func apply(to bid: Bid, at now: Date) throws(TradesKitError) -> Bid {
        switch self {
        case .withdraw: try bid.withdrawing(at: now)
        case .accept: try bid.accepting(at: now)
        case .decline: try bid.declining(at: now)
        }
    }

    var testDescription: String { rawValue }
}

@Suite("Bid rules")
struct BidTests {
    @Test("Every bid action from every status: only a submitted bid moves", arguments: BidAction.allCases, BidStatus.allCases)
    func transitions(action: BidAction, status: BidStatus) {
        let bid = Fixture.bid(status: status)
        if status == .submitted {
            do {
                let moved = try action.apply(to: bid, at: Fixture.t1)
                #expect(moved.status == action.target)
                #expect(moved.updatedAt == Fixture.t1)
                #expect(moved.createdAt == Fixture.t0)
                #expect(moved.amount == bid.amount && moved.contractorID == bid.contractorID && moved.jobID == bid.jobID)
            } catch {
                Issue.record("\(action) from submitted should be legal, threw \(error)")
            }
        } else {
            let error = tradesKitError { () throws(TradesKitError) in try action.apply(to: bid, at: Fixture.t1) }
            #expect(error?.code == .invalidTransition)
        }
    }

    @Test(
        "isLive: submitted and accepted only",
        arguments: [(BidStatus.submitted, true), (.accepted, true), (.withdrawn, false), (.declined, false)])
    func isLive(status: BidStatus, live: Bool) {
        #expect(status.isLive == live)
        #expect(Fixture.bid(status: status).isLive == live)
    }

    @Test func ownerAdminAndBidderSeeTheBid() {
        let bid = Fixture.bid()
        #expect(BidViewer.user(Fixture.owner).canSee(bid, jobOwner: Fixture.owner))
        #expect(BidViewer.admin.canSee(bid, jobOwner: Fixture.owner))
        #expect(BidViewer.user(Fixture.contractor).canSee(bid, jobOwner: Fixture.owner))
    }

    @Test func othersDoNotSeeTheBid() {
        let bid = Fixture.bid()
        #expect(!BidViewer.user(Fixture.otherContractor).canSee(bid, jobOwner: Fixture.owner))
        #expect(!BidViewer.user(Fixture.otherHomeowner).canSee(bid, jobOwner: Fixture.owner))
        #expect(!BidViewer.user(Fixture.admin).canSee(bid, jobOwner: Fixture.owner), "an admin's user id is not an admin viewer")
    }

    @Test func viewerFromPrincipal() {
        #expect(BidViewer(Principal(tenantID: Fixture.tenant, userID: Fixture.admin, role: .admin)) == .admin)
        #expect(BidViewer(Principal(tenantID: Fixture.tenant, userID: Fixture.owner, role: .homeowner)) == .user(Fixture.owner))
        #expect(BidViewer(Principal(tenantID: Fixture.tenant, userID: Fixture.contractor, role: .contractor)) == .user(Fixture.contractor))
    }
}
