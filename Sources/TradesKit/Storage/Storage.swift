public import Foundation

/// A place to keep a marketplace: SQLite, PostgreSQL, or a partner's own.
///
/// There is no way to read or write tenant data without naming the tenant: everything goes through the handle
/// that ``tenant(_:)`` returns. Prove an implementation with the conformance suite in TradesKitTesting.
public protocol Storage: Sendable {
    /// The handle for one tenant's data.
    func tenant(_ id: TenantID) -> any TenantStorage

    /// Every tenant, ordered by creation (platform scope).
    func allTenants() async throws -> [Tenant]

    /// The tenant with this slug, if any (platform scope; resolves `X-Tenant` and `--tenant`).
    func tenant(slug: String) async throws -> Tenant?

    /// Brings the schema up to date. Idempotent.
    func migrate() async throws
}

/// Reads and writes of one tenant's data. Every query is filtered by the handle's tenant inside the storage;
/// an id from another tenant behaves exactly like an id that does not exist.
public protocol TenantStorage: Sendable {
    /// The tenant this handle is scoped to.
    var tenantID: TenantID { get }

    /// Applies every change atomically, or none.
    /// - Throws: ``StorageError`` with `versionConflict`, `uniqueViolation`, `missingRow` or `unavailable`.
    func commit(_ changes: ChangeSet) async throws

    /// The tenant's own record.
    func tenantRecord() async throws -> Tenant?

    // MARK: Users

    /// A user by id.
    func user(_ id: UserID) async throws -> User?
    /// A user by e-mail, compared case-insensitively.
    func user(email: EmailAddress) async throws -> User?
    /// Users in creation order, optionally of one role.
    func users(role: Role?, page: PageRequest) async throws -> Page<User>
    /// A contractor's profile.
    func contractorProfile(_ userID: UserID) async throws -> ContractorProfile?
    /// The rating summary of reviews about `userID` visible at `now`.
    func ratingSummary(for userID: UserID, at now: Date) async throws -> RatingSummary

    // MARK: Catalogue

    /// Every trade category, by name.
    func categories() async throws -> [TradeCategory]
    /// A category by id.
    func category(_ id: CategoryID) async throws -> TradeCategory?

    // MARK: Jobs and bids

    /// A job by id.
    func job(_ id: JobID) async throws -> Job?
    /// A user and a job, and on request the tenant's record and the user's contractor profile, read together: one
    /// snapshot, and one trip to the database where the storage can make it one. Most calls are about their caller (read
    /// on every call, for its role and suspension) and one job; submitting a bid also decides on the tenant's policy and
    /// the contractor's profile. What `extra` does not name is `nil`.
    func context(user userID: UserID, job jobID: JobID, reading extra: JobCallContext.Extra) async throws -> JobCallContext
    /// Jobs matching `query`, newest first, keyset-paginated.
    func jobs(_ query: JobQuery) async throws -> Page<Job>
    /// Completed jobs whose `completedAt` is at or before `cutoff`, oldest first (by `completedAt`, then id),
    /// keyset-paginated: a caller that cannot handle some of them walks on past them instead of meeting them again.
    func jobsCompleted(before cutoff: Date, page: PageRequest) async throws -> Page<Job>
    /// A bid by id, if `viewer` may see it (DESIGN.md §3); applied in the query.
    func bid(_ id: BidID, viewer: BidViewer) async throws -> Bid?
    /// The bids on a job that `viewer` may see, oldest first; applied in the query.
    func bids(job: JobID, viewer: BidViewer) async throws -> [Bid]
    /// A contractor's own bids, newest first.
    func bids(contractor: UserID, page: PageRequest) async throws -> Page<Bid>

    // MARK: Money

    /// The escrow of a job.
    func escrow(job: JobID) async throws -> Escrow?
    /// Escrows with a ``SettlementInstruction`` owed and due at or before `now` (``Escrow/settlementDueAt``), the
    /// longest due first, then by id; an instruction without a due time is due at once and comes before them.
    func pendingSettlements(dueBy now: Date, limit: Int) async throws -> [Escrow]
    /// Escrows whose money is held (``EscrowStatus/held``) with no instruction owed, opened at or before `cutoff`, oldest
    /// first (by `createdAt`, then id): the authorisations to capture before they lapse.
    func heldEscrows(openedBefore cutoff: Date, limit: Int) async throws -> [Escrow]
    /// Ledger entries, of one job or all, in posting order.
    func ledgerEntries(job: JobID?) async throws -> [LedgerEntry]
    /// The ids of ledger transactions whose entries do not sum to zero (should always be empty).
    func unbalancedLedgerTransactions() async throws -> [LedgerTransactionID]

    // MARK: Reporting

    /// Users by role, jobs by status, disputes by status, and owed and failing settlements, counted without reading the rows.
    func counts() async throws -> TenantCounts

    // MARK: Disputes, reviews, messages

    /// A dispute by id.
    func dispute(_ id: DisputeID) async throws -> Dispute?
    /// Disputes newest first: all of them, or those where `participant` opened or must respond; optionally by status.
    func disputes(participant: UserID?, statuses: Set<DisputeStatus>?, page: PageRequest) async throws -> Page<Dispute>
    /// The unresolved dispute of a job, if any.
    func openDispute(job: JobID) async throws -> Dispute?
    /// The reviews of a job (visible or not; core decides what to show).
    func reviews(job: JobID) async throws -> [Review]
    /// Reviews about `subject` visible at `now`, newest first.
    func reviews(subject: UserID, visibleAt now: Date, page: PageRequest) async throws -> Page<Review>
    /// A job's messages, oldest first.
    func messages(job: JobID, page: PageRequest) async throws -> Page<Message>

    // MARK: Identity

    /// The refresh token whose hash is `hash` (``OpaqueToken/hash(_:)``), whatever its state.
    func refreshToken(hash: String) async throws -> RefreshToken?
    /// The one-time token of `purpose` whose hash is `hash`, whatever its state.
    func oneTimeToken(hash: String, purpose: OneTimeTokenPurpose) async throws -> OneTimeToken?
    /// The user's two-factor enrolment, pending or confirmed.
    func twoFactor(user: UserID) async throws -> TwoFactorEnrollment?
    /// The failed-login bookkeeping of an account key.
    func loginThrottle(key: AccountKey) async throws -> LoginThrottle?
    /// Deletes identity bookkeeping nothing needs any more, in one transaction: refresh and one-time tokens that expired
    /// before `tokensExpiredBefore` (whatever their state), and login throttles whose last failure and lock both ended
    /// before `throttlesIdleSince`. Answers how many rows went.
    func purgeIdentityRecords(tokensExpiredBefore: Date, throttlesIdleSince: Date) async throws -> Int

    // MARK: Events and outbox

    /// The event feed of `recipient` (every event for `nil`, the admin view), oldest first.
    func events(recipient: UserID?, page: PageRequest) async throws -> Page<OutboxEvent>
    /// Claims up to `limit` pending events available at `now`, hiding them from other consumers until `leaseUntil`.
    func claimEvents(limit: Int, now: Date, leaseUntil: Date) async throws -> [OutboxEvent]
    /// Marks events delivered (a dead-lettered one too: it was delivered after all).
    func markDelivered(_ ids: [EventID]) async throws
    /// Records a failed delivery: retry at `retryAt`, or dead-letter when `retryAt` is `nil`. Only a pending event
    /// changes: a consumer whose lease ran out must not send again, or dead-letter, an event another one delivered.
    func recordFailure(_ id: EventID, attempts: Int, retryAt: Date?, reason: String) async throws
    /// Dead-lettered events, oldest first.
    func deadLetters(limit: Int) async throws -> [OutboxEvent]
}

extension TenantStorage {
    /// The reads one after the other: correct for any storage, though not one snapshot; SQLite and PostgreSQL read
    /// them in one transaction.
    public func context(user userID: UserID, job jobID: JobID, reading extra: JobCallContext.Extra) async throws -> JobCallContext {
        JobCallContext(
            user: try await user(userID), job: try await job(jobID), tenant: extra.contains(.tenant) ? try await tenantRecord() : nil,
            contractorProfile: extra.contains(.contractorProfile) ? try await contractorProfile(userID) : nil)
    }

    /// A user and a job, read together (``context(user:job:reading:)`` with nothing else).
    public func user(_ userID: UserID, andJob jobID: JobID) async throws -> (user: User?, job: Job?) {
        let context = try await context(user: userID, job: jobID, reading: [])
        return (context.user, context.job)
    }
}

/// What a call about one job decides on, read together by ``TenantStorage/context(user:job:reading:)``.
public struct JobCallContext: Sendable, Hashable {
    /// What to read besides the user and the job.
    public struct Extra: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// The tenant's record (its settings and policies).
        public static let tenant = Extra(rawValue: 1 << 0)
        /// The user's contractor profile.
        public static let contractorProfile = Extra(rawValue: 1 << 1)
    }

    /// The user, if they exist in the tenant.
    public var user: User?
    /// The job, if it exists in the tenant.
    public var job: Job?
    /// The tenant's record, when ``Extra/tenant`` was asked for.
    public var tenant: Tenant?
    /// The user's contractor profile, when ``Extra/contractorProfile`` was asked for and they have one.
    public var contractorProfile: ContractorProfile?

    /// Creates a context.
    public init(user: User?, job: Job?, tenant: Tenant? = nil, contractorProfile: ContractorProfile? = nil) {
        self.user = user
        self.job = job
        self.tenant = tenant
        self.contractorProfile = contractorProfile
    }
}
