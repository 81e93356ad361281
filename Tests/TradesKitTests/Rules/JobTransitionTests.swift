import Foundation
import Testing
import TradesKit

/// Every transition method of the job state machine, as a name the tests can enumerate.
enum JobAction: String, CaseIterable, CustomTestStringConvertible {
    case update, accept, start, complete, approve, cancel, dispute, resolveDispute

    /// DESIGN.md §4: the statuses each action is legal from, and where it leads.
    var legalTargets: [JobStatus: JobStatus] {
        switch self {
        case .update: [.open: .open]
        case .accept: [.open: .awarded]
        case .start: [.awarded: .inProgress]
        case .complete: [.inProgress: .completed]
        case .approve: [.completed: .closed]
        case .cancel: [.open: .cancelled, .awarded: .cancelled, .inProgress: .cancelled]
        case .dispute: [.awarded: .disputed, .inProgress: .disputed, .completed: .disputed]
        case .resolveDispute: [.disputed: .closed]
        }
    }

    func apply(to job: Job, at now: Date) throws(TradesKitError) -> Job {
        switch self {
        case .update: try job.updated(title: "New title", description: nil, budget: nil, at: now)
        case .accept: try job.accepting(Fixture.bid(), at: now)
        case .start: try job.starting(at: now)
        case .complete: try job.completing(at: now)
        case .approve: try job.approving(at: now)
        case .cancel: try job.cancelling(at: now).job
        case .dispute: try job.disputing(at: now)
        case .resolveDispute: try job.resolvingDispute(at: now)
        }
    }

    var testDescription: String { rawValue }
}

@Suite("Job state machine")
struct JobTransitionTests {
    @Test(
        "Every action from every status: legal moves land on the right status, illegal ones throw invalidTransition",
        arguments: JobAction.allCases, JobStatus.allCases)
    func table(action: JobAction, status: JobStatus) {
        let job = Fixture.job(status: status)
        if let target = action.legalTargets[status] {
            do {
                let moved = try action.apply(to: job, at: Fixture.t1)
                #expect(moved.status == target)
                #expect(moved.updatedAt == Fixture.t1)
                #expect(moved.createdAt == job.createdAt)
                #expect(moved.id == job.id && moved.ownerID == job.ownerID)
            } catch {
                Issue.record("\(action) from \(status) should be legal, threw \(error)")
            }
        } else {
            let error = tradesKitError { () throws(TradesKitError) in try action.apply(to: job, at: Fixture.t1) }
            #expect(error?.code == .invalidTransition)
        }
    }

    @Test func updateChangesOnlyTheGivenFields() throws {
        let job = Fixture.job()
        let budget = BudgetRange(min: Fixture.usd(1), max: Fixture.usd(2))
        let titled = try job.updated(title: "Roof", description: nil, budget: nil, at: Fixture.t1)
        #expect(titled.title == "Roof" && titled.description == job.description && titled.budget == job.budget)
        let all = try job.updated(title: "Roof", description: "Tiles", budget: budget, at: Fixture.t1)
        #expect(all.title == "Roof" && all.description == "Tiles" && all.budget == budget)
        #expect(all.status == .open && all.updatedAt == Fixture.t1)
    }

    @Test func acceptingRecordsTheBidAndContractor() throws {
        let job = Fixture.job()
        let bid = Fixture.bid(contractorID: Fixture.otherContractor)
        let awarded = try job.accepting(bid, at: Fixture.t1)
        #expect(awarded.status == .awarded)
        #expect(awarded.acceptedBidID == bid.id)
        #expect(awarded.contractorID == Fixture.otherContractor)
        #expect(awarded.updatedAt == Fixture.t1)
        #expect(awarded.completedAt == nil && awarded.closedAt == nil)
    }

    @Test func acceptingRejectsABidOfAnotherJob() {
        let error = tradesKitError { () throws(TradesKitError) in
            try Fixture.job().accepting(Fixture.bid(jobID: Fixture.otherJobID), at: Fixture.t1)
        }
        #expect(error?.code == .invalidTransition)
    }

    @Test("Accepting rejects a bid that is not submitted", arguments: BidStatus.allCases.filter { $0 != .submitted })
    func acceptingRejectsANonSubmittedBid(status: BidStatus) {
        let error = tradesKitError { () throws(TradesKitError) in try Fixture.job().accepting(Fixture.bid(status: status), at: Fixture.t1) }
        #expect(error?.code == .invalidTransition)
    }

    @Test func startingKeepsAwardAndTimestamps() throws {
        let job = Fixture.job(status: .awarded, acceptedBidID: Fixture.bidID, contractorID: Fixture.contractor)
        let started = try job.starting(at: Fixture.t1)
        #expect(started.status == .inProgress)
        #expect(started.acceptedBidID == Fixture.bidID && started.contractorID == Fixture.contractor)
        #expect(started.completedAt == nil && started.closedAt == nil && started.updatedAt == Fixture.t1)
    }

    @Test func completingStampsCompletedAt() throws {
        let job = Fixture.job(status: .inProgress, acceptedBidID: Fixture.bidID, contractorID: Fixture.contractor)
        let completed = try job.completing(at: Fixture.t1)
        #expect(completed.status == .completed)
        #expect(completed.completedAt == Fixture.t1)
        #expect(completed.closedAt == nil)
        #expect(completed.updatedAt == Fixture.t1)
    }

    @Test func approvingStampsClosedAtAndKeepsCompletedAt() throws {
        let job = Fixture.job(status: .completed, completedAt: Fixture.t0)
        let closed = try job.approving(at: Fixture.t1)
        #expect(closed.status == .closed)
        #expect(closed.closedAt == Fixture.t1)
        #expect(closed.completedAt == Fixture.t0)
        #expect(closed.updatedAt == Fixture.t1)
    }

    @Test func resolvingDisputeStampsClosedAt() throws {
        let closed = try Fixture.job(status: .disputed).resolvingDispute(at: Fixture.t1)
        #expect(closed.status == .closed)
        #expect(closed.closedAt == Fixture.t1)
        #expect(closed.updatedAt == Fixture.t1)
    }

    @Test func disputingDoesNotClose() throws {
        let disputed = try Fixture.job(status: .completed, completedAt: Fixture.t0).disputing(at: Fixture.t1)
        #expect(disputed.status == .disputed)
        #expect(disputed.closedAt == nil)
        #expect(disputed.completedAt == Fixture.t0)
    }

    @Test(
        "Cancelling reports the money stage",
        arguments: [(JobStatus.open, Job.CancellationStage.beforeAward), (.awarded, .afterAward), (.inProgress, .inProgress)])
    func cancellingStage(status: JobStatus, stage: Job.CancellationStage) throws {
        let result = try Fixture.job(status: status).cancelling(at: Fixture.t1)
        #expect(result.stage == stage)
        #expect(result.job.status == .cancelled)
        #expect(result.job.updatedAt == Fixture.t1)
        #expect(result.job.closedAt == nil)
    }

    @Test func isPartyCoversOwnerAndContractorOnly() {
        let job = Fixture.job(status: .awarded, contractorID: Fixture.contractor)
        #expect(job.isParty(Fixture.owner))
        #expect(job.isParty(Fixture.contractor))
        #expect(!job.isParty(Fixture.otherContractor))
        #expect(!Fixture.job().isParty(Fixture.contractor))
    }
}

@Suite("Auto-approval window")
struct AutoApprovalTests {
    static let window: Int64 = 7 * 86_400

    @Test func dueExactlyAtTheWindow() {
        let job = Fixture.job(status: .completed, completedAt: Fixture.t0)
        let now = Date(millisecondsSince1970: Fixture.t0.millisecondsSince1970 + Self.window * 1_000)
        #expect(job.isDueForAutoApproval(at: now, after: Self.window))
    }

    @Test func notDueOneMillisecondBefore() {
        let job = Fixture.job(status: .completed, completedAt: Fixture.t0)
        let now = Date(millisecondsSince1970: Fixture.t0.millisecondsSince1970 + Self.window * 1_000 - 1)
        #expect(!job.isDueForAutoApproval(at: now, after: Self.window))
    }

    @Test func boundaryHoldsForManyCompletionInstantsAndWindows() {
        var random = SeededGenerator(seed: 314)
        var wrong: [String] = []
        for _ in 0..<2_000 {
            let completed = Int64.random(in: 0...4_102_444_800_000, using: &random)
            let window = Int64.random(in: 0...(60 * 86_400), using: &random)
            let job = Fixture.job(status: .completed, completedAt: Date(millisecondsSince1970: completed))
            let exactly = Date(millisecondsSince1970: completed + window * 1_000)
            let justBefore = Date(millisecondsSince1970: completed + window * 1_000 - 1)
            if !job.isDueForAutoApproval(at: exactly, after: window) || job.isDueForAutoApproval(at: justBefore, after: window) {
                wrong.append("completedAt \(completed) ms, window \(window) s")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) cases, e.g. \(wrong.prefix(3))")
    }

    @Test func dueLongAfter() {
        let job = Fixture.job(status: .completed, completedAt: Fixture.t0)
        #expect(job.isDueForAutoApproval(at: Fixture.t0.addingTimeInterval(30 * 86_400), after: Self.window))
    }

    @Test("Never due unless completed", arguments: JobStatus.allCases.filter { $0 != .completed })
    func neverDueInOtherStatuses(status: JobStatus) {
        let job = Fixture.job(status: status, completedAt: Fixture.t0)
        #expect(!job.isDueForAutoApproval(at: Fixture.t0.addingTimeInterval(365 * 86_400), after: Self.window))
    }

    @Test func notDueWithoutCompletedAt() {
        let job = Fixture.job(status: .completed, completedAt: nil)
        #expect(!job.isDueForAutoApproval(at: Fixture.t0.addingTimeInterval(365 * 86_400), after: Self.window))
    }

    @Test func zeroWindowIsDueImmediately() {
        let job = Fixture.job(status: .completed, completedAt: Fixture.t0)
        #expect(job.isDueForAutoApproval(at: Fixture.t0, after: 0))
    }
}
