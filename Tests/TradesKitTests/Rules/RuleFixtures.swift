import Foundation
import Testing
import TradesKit

/// Small value factories for the rule tests. Deliberately independent of TradesKitTesting, which is being rewritten.
enum Fixture {
    /// A whole-millisecond instant: 2023-11-14T22:13:20Z.
    static let t0 = Date(millisecondsSince1970: 1_700_000_000_000)
    /// A later instant used as "now" for transitions.
    static let t1 = Date(millisecondsSince1970: 1_700_000_123_456)

    static let owner = UserID(UUID(uuidString: "00000000-0000-7000-8000-000000000001")!)
    static let contractor = UserID(UUID(uuidString: "00000000-0000-7000-8000-000000000002")!)
    static let otherContractor = UserID(UUID(uuidString: "00000000-0000-7000-8000-000000000003")!)
    static let otherHomeowner = UserID(UUID(uuidString: "00000000-0000-7000-8000-000000000004")!)
    static let admin = UserID(UUID(uuidString: "00000000-0000-7000-8000-000000000005")!)
    static let tenant = TenantID(UUID(uuidString: "00000000-0000-7000-8000-0000000000aa")!)
    static let jobID = JobID(UUID(uuidString: "00000000-0000-7000-8000-000000000101")!)
    static let otherJobID = JobID(UUID(uuidString: "00000000-0000-7000-8000-000000000102")!)
    static let bidID = BidID(UUID(uuidString: "00000000-0000-7000-8000-000000000201")!)
    static let escrowID = EscrowID(UUID(uuidString: "00000000-0000-7000-8000-000000000301")!)
    static let disputeID = DisputeID(UUID(uuidString: "00000000-0000-7000-8000-000000000401")!)
    static let category = CategoryID(UUID(uuidString: "00000000-0000-7000-8000-000000000501")!)

    static func usd(_ cents: Int64) -> Money { Money(cents, .usd) }

    static func job(
        status: JobStatus = .open, acceptedBidID: BidID? = nil, contractorID: UserID? = nil,
        completedAt: Date? = nil, closedAt: Date? = nil
    ) -> Job {
        Job(
            id: jobID, ownerID: owner, categoryID: category, title: "Fix the sink", description: "It drips.",
            location: GeoPoint(latitude: 51.5, longitude: -0.12), budget: BudgetRange(min: usd(10_000), max: usd(50_000)),
            status: status, acceptedBidID: acceptedBidID, contractorID: contractorID, createdAt: t0, completedAt: completedAt,
            closedAt: closedAt)
    }

    static func bid(
        status: BidStatus = .submitted, jobID: JobID = Fixture.jobID, contractorID: UserID = Fixture.contractor,
        amount: Money = Fixture.usd(25_000)
    ) -> Bid {
        Bid(id: bidID, jobID: jobID, contractorID: contractorID, amount: amount, message: "Can do Tuesday.", status: status, createdAt: t0)
    }

    static func escrow(status: EscrowStatus, amount: Money = Fixture.usd(25_000), feeBasisPoints: Int = 1_000) -> Escrow {
        Escrow(
            id: escrowID, jobID: jobID, bidID: bidID, homeownerID: owner, contractorID: contractor, amount: amount,
            feeBasisPoints: feeBasisPoints, status: status, createdAt: t0)
    }

    static func dispute(status: DisputeStatus) -> Dispute {
        Dispute(
            id: disputeID, jobID: jobID, openedBy: owner, respondent: contractor, reason: "Leaks again", status: status,
            jobStatusBefore: .completed, createdAt: t0)
    }
}

/// Fresh random ids; enough for rules that only need uniqueness.
struct RandomIDs: IDGenerator {
    func next() -> UUID { UUID() }
}

/// A clock that moves forward by `step` milliseconds every time it is read.
final class SteppingClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var milliseconds: Int64
    private let step: Int64

    init(start: Int64, step: Int64) {
        self.milliseconds = start
        self.step = step
    }

    func now() -> Date {
        lock.lock()
        defer { lock.unlock() }
        let current = milliseconds
        milliseconds += step
        return Date(millisecondsSince1970: current)
    }
}

/// A deterministic 64-bit linear congruential generator (Knuth's MMIX constants), for reproducible property tests.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        // The low bits of an LCG are weak; mix the high ones down.
        return state ^ (state >> 29)
    }
}

/// Runs `body` and answers the `TradesKitError` it threw, recording an issue if it threw nothing.
func tradesKitError<T>(_ body: () throws(TradesKitError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> TradesKitError? {
    do {
        let value = try body()
        Issue.record("Expected a TradesKitError, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
