public import Foundation

/// Everything one business operation writes, applied by a storage atomically or not at all.
///
/// Core reads what it needs (each row carries a `version`), decides with the pure rules, and records the outcome
/// here. An update names the version it read; if the row has moved on, the whole set fails with
/// ``StorageError/Code/versionConflict`` and core retries from a fresh read. Expectations assert facts that the
/// decision relied on without writing anything. Storages apply changes in order.
public struct ChangeSet: Sendable {
    /// One write or expectation.
    public enum Change: Sendable, Hashable {
        case insertTenant(Tenant)
        case updateTenant(Tenant)
        case insertUser(User)
        case updateUser(User)
        case insertContractorProfile(ContractorProfile)
        case updateContractorProfile(ContractorProfile)
        case insertCategory(TradeCategory)
        case insertJob(Job)
        case updateJob(Job)
        case insertBid(Bid)
        case updateBid(Bid)
        case insertEscrow(Escrow)
        case updateEscrow(Escrow)
        case insertLedgerTransaction(LedgerTransaction)
        case insertDispute(Dispute)
        case updateDispute(Dispute)
        case insertReview(Review)
        case updateReview(Review)
        case insertMessage(Message)
        case appendEvent(OutboxEvent)
        /// The row must still be at `version`: a fact the decision read and relied on without writing the row (the job
        /// is open, the bidder is vetted and not suspended). A row that moved on fails the set with
        /// ``StorageError/Code/versionConflict`` (core decides again from a fresh read); a row missing from the tenant
        /// with ``StorageError/Code/missingRow``.
        case expectVersion(VersionedRow, version: Int64)
        /// The live bids of the job must be exactly these; an accept relies on it to decline every other bid.
        case expectLiveBids(JobID, Set<BidID>)
        case insertRefreshToken(RefreshToken)
        case updateRefreshToken(RefreshToken)
        /// Revokes every token of the family not revoked yet (bumping each one's version); no row is not an error.
        case revokeRefreshTokenFamily(RefreshTokenFamilyID, at: Date)
        /// Revokes every token of the user not revoked yet (bumping each one's version); no row is not an error.
        case revokeRefreshTokens(user: UserID, at: Date)
        case insertOneTimeToken(OneTimeToken)
        case updateOneTimeToken(OneTimeToken)
        /// Marks every unused token of the user and purpose used at the instant (bumping each one's version).
        case consumeOneTimeTokens(user: UserID, purpose: OneTimeTokenPurpose, at: Date)
        case insertTwoFactor(TwoFactorEnrollment)
        case updateTwoFactor(TwoFactorEnrollment)
        /// Deletes the user's enrolment, which must still be at `version`.
        case deleteTwoFactor(UserID, version: Int64)
        case insertLoginThrottle(LoginThrottle)
        case updateLoginThrottle(LoginThrottle)
    }

    /// A row that ``Change/expectVersion(_:version:)`` names.
    public enum VersionedRow: Sendable, Hashable {
        case job(JobID)
        case user(UserID)
        /// The profile of the contractor with this id.
        case contractorProfile(UserID)
    }

    /// The changes, in order.
    public private(set) var changes: [Change] = []

    /// An empty change set.
    public init() {}

    /// Whether nothing was recorded.
    public var isEmpty: Bool { changes.isEmpty }

    /// Records a change as it is.
    public mutating func append(_ change: Change) { changes.append(change) }

    /// Records a domain event for the outbox.
    public mutating func record<Event: DomainEvent>(_ event: Event, id: EventID, at now: Date) throws(TradesKitError) {
        do {
            changes.append(.appendEvent(try OutboxEvent(event, id: id, at: now)))
        } catch {
            throw TradesKitError(.validationFailed, "The \(Event.eventType) event could not be encoded")
        }
    }

    // Updates record the row as read (its version is the expected one) and return it as it will be after commit.

    /// Records a tenant update; returns the tenant as committed.
    @discardableResult public mutating func update(_ tenant: Tenant) -> Tenant {
        changes.append(.updateTenant(tenant))
        return tenant.bumped
    }

    /// Records a user update; returns the user as committed.
    @discardableResult public mutating func update(_ user: User) -> User {
        changes.append(.updateUser(user))
        return user.bumped
    }

    /// Records a contractor profile update; returns the profile as committed.
    @discardableResult public mutating func update(_ profile: ContractorProfile) -> ContractorProfile {
        changes.append(.updateContractorProfile(profile))
        return profile.bumped
    }

    /// Records a job update; returns the job as committed.
    @discardableResult public mutating func update(_ job: Job) -> Job {
        changes.append(.updateJob(job))
        return job.bumped
    }

    /// Records a bid update; returns the bid as committed.
    @discardableResult public mutating func update(_ bid: Bid) -> Bid {
        changes.append(.updateBid(bid))
        return bid.bumped
    }

    /// Records an escrow update; returns the escrow as committed.
    @discardableResult public mutating func update(_ escrow: Escrow) -> Escrow {
        changes.append(.updateEscrow(escrow))
        return escrow.bumped
    }

    /// Records a dispute update; returns the dispute as committed.
    @discardableResult public mutating func update(_ dispute: Dispute) -> Dispute {
        changes.append(.updateDispute(dispute))
        return dispute.bumped
    }

    /// Records a review update; returns the review as committed.
    @discardableResult public mutating func update(_ review: Review) -> Review {
        changes.append(.updateReview(review))
        return review.bumped
    }

    /// Records a refresh-token update; returns the token as committed.
    @discardableResult public mutating func update(_ token: RefreshToken) -> RefreshToken {
        changes.append(.updateRefreshToken(token))
        return token.bumped
    }

    /// Records a one-time-token update; returns the token as committed.
    @discardableResult public mutating func update(_ token: OneTimeToken) -> OneTimeToken {
        changes.append(.updateOneTimeToken(token))
        return token.bumped
    }

    /// Records a two-factor enrolment update; returns the enrolment as committed.
    @discardableResult public mutating func update(_ enrollment: TwoFactorEnrollment) -> TwoFactorEnrollment {
        changes.append(.updateTwoFactor(enrollment))
        return enrollment.bumped
    }

    /// Records a login-throttle update; returns the throttle as committed.
    @discardableResult public mutating func update(_ throttle: LoginThrottle) -> LoginThrottle {
        changes.append(.updateLoginThrottle(throttle))
        return throttle.bumped
    }
}

/// A row with an optimistic-concurrency version.
public protocol Versioned {
    /// Starts at 1; every committed update adds 1.
    var version: Int64 { get set }
}

extension Versioned {
    /// The same value with the version a committed update gives it.
    public var bumped: Self {
        var copy = self
        copy.version += 1
        return copy
    }
}

extension Tenant: Versioned {}
extension User: Versioned {}
extension ContractorProfile: Versioned {}
extension Job: Versioned {}
extension Bid: Versioned {}
extension Escrow: Versioned {}
extension Dispute: Versioned {}
extension Review: Versioned {}
extension RefreshToken: Versioned {}
extension OneTimeToken: Versioned {}
extension TwoFactorEnrollment: Versioned {}
extension LoginThrottle: Versioned {}
