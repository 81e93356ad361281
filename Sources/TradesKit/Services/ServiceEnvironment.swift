import Foundation
import Logging
import CoreMetrics

/// What every service shares: storage, providers, clock, ids, logger and the retry policy.
struct ServiceEnvironment: Sendable {
    let storage: any Storage
    let payments: any PaymentProcessor
    let passwordHasher: any PasswordHasher
    let emailSender: (any EmailSender)?
    let clock: any WallClock
    let ids: any IDGenerator
    let logger: Logger
    let maxAttempts: Int
    let identity: IdentityConfiguration
    /// See ``Marketplace/Configuration/captureHeldPaymentsAfter``.
    let captureHeldPaymentsAfter: TimeInterval
    /// See ``Marketplace/Configuration/settlementRetryDelay(afterFailures:)``.
    let settlementRetry: @Sendable (_ afterFailures: Int) -> TimeInterval
    /// A hash of a random password made by ``passwordHasher`` on first use, verified against for unknown e-mail addresses.
    let dummyPasswordHash = DummyPasswordHash()
    /// How long a password check with the hasher's current parameters takes in this process.
    let passwordCheckTiming = PasswordCheckTiming()
    /// One sign-in per account key at a time in this process.
    let signInGate = SignInGate()

    func now() -> Date { clock.now().truncatedToMilliseconds }

    /// The tenant-scoped handle for a principal: the only way a service reaches data.
    func store(_ principal: Principal) -> any TenantStorage { storage.tenant(principal.tenantID) }

    /// Runs a read-decide-commit operation, retrying it from a fresh read when a concurrent change won
    /// (``StorageError/Code/versionConflict``), and turning storage errors into ``TradesKitError``.
    func run<T: Sendable>(_ operation: String, tenant: TenantID?, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as StorageError where error.code == .versionConflict && attempt < maxAttempts {
                attempt += 1
                // A short random pause spreads out writers that collided, so the next round has a winner quickly.
                try? await Task.sleep(nanoseconds: UInt64.random(in: 0...UInt64(attempt) * 2_000_000))
            } catch let error as StorageError {
                var metadata: Logger.Metadata = ["tradeskit.operation": "\(operation)", "tradeskit.storage_error": "\(error.code)"]
                if let tenant { metadata["tradeskit.tenant"] = "\(tenant)" }
                logger.log(level: error.logLevel, "Storage error", metadata: metadata)
                throw error.serviceError
            }
        }
    }

    /// Runs `body` for `principal` with its tenant's storage and its checked user (see ``actor(_:in:)``), retried and
    /// translated like ``run(_:tenant:_:)``: the shape of almost every service call.
    func acting<T: Sendable>(_ operation: String, as principal: Principal, _ body: (any TenantStorage, User) async throws -> T) async throws -> T {
        try await run(operation, tenant: principal.tenantID) {
            let store = store(principal)
            return try await body(store, try await actor(principal, in: store))
        }
    }

    /// ``acting(_:as:_:)`` for a call about one job: the caller and the job are read together (one storage call, see
    /// ``TenantStorage/context(user:job:reading:)``), and `body` gets the job only if the caller may see it
    /// (``visible(_:for:)``).
    func acting<T: Sendable>(
        _ operation: String, as principal: Principal, onJob jobID: JobID, _ body: (any TenantStorage, User, Job) async throws -> T
    ) async throws -> T {
        try await acting(operation, as: principal, onJob: jobID, reading: []) { store, actor, job, _ in try await body(store, actor, job) }
    }

    /// ``acting(_:as:onJob:_:)`` that also reads what `extra` names in the same storage call, for `body` to decide on.
    func acting<T: Sendable>(
        _ operation: String, as principal: Principal, onJob jobID: JobID, reading extra: JobCallContext.Extra,
        _ body: (any TenantStorage, User, Job, JobCallContext) async throws -> T
    ) async throws -> T {
        try await run(operation, tenant: principal.tenantID) {
            let store = store(principal)
            let context = try await store.context(user: principal.userID, job: jobID, reading: extra)
            let actor = try checkedActor(context.user, principal)
            return try await body(store, actor, try visible(context.job, for: principal), context)
        }
    }

    /// `job` (as read) if `principal` may see it: open jobs for everyone in the tenant; others for their parties and
    /// admins. Not found otherwise, whether it exists or not.
    ///
    /// Other bidders lose sight of a job when it leaves `open`, like every other contractor. Its status would tell them
    /// what their `bid.declined` event deliberately leaves open (another bid won, or the job was cancelled), a bidder who
    /// withdrew would learn that another bid existed and won, and each later step (the work started, completed,
    /// disputed) is the parties' business.
    private func visible(_ job: Job?, for principal: Principal) throws -> Job {
        guard let job else { throw TradesKitError.notFound("Job") }
        if job.status == .open || principal.role == .admin || job.isParty(principal.userID) { return job }
        throw TradesKitError.notFound("Job")
    }

    /// The calling user, checked to exist in the principal's tenant, in the principal's role and session generation, and
    /// not suspended.
    func actor(_ principal: Principal, in store: any TenantStorage) async throws -> User {
        try checkedActor(try await store.user(principal.userID), principal)
    }

    private func checkedActor(_ user: User?, _ principal: Principal) throws -> User {
        if let user, let generation = principal.sessionGeneration, generation != user.sessionGeneration {
            throw TradesKitError(.unauthenticated, "The session has ended; sign in again")
        }
        guard let user, user.role == principal.role else { throw TradesKitError(.forbidden, "Unknown user or role") }
        if user.suspended { throw TradesKitError(.suspended, "This account is suspended") }
        return user
    }

    /// The principal's tenant record.
    func tenant(of store: any TenantStorage) async throws -> Tenant {
        guard let tenant = try await store.tenantRecord() else { throw TradesKitError.notFound("Tenant") }
        return tenant
    }

    /// Records a typed event in a change set with a fresh id.
    func record<Event: DomainEvent>(_ event: Event, in changes: inout ChangeSet, at now: Date) throws {
        try changes.record(event, id: ids.make(), at: now)
    }

    /// A balanced ledger transaction with fresh ids.
    func ledger(_ kind: LedgerTransactionKind, job: JobID, _ lines: [(LedgerAccount, Money)], at now: Date) throws -> ChangeSet.Change {
        .insertLedgerTransaction(try LedgerTransaction(kind: kind, jobID: job, lines: lines, at: now, ids: ids))
    }

    /// Calls the payment processor, turning its failures into ``TradesKitError/Code/paymentFailed`` without leaking details.
    func pay<T: Sendable>(_ step: String, tenant: TenantID, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as TradesKitError {
            throw error
        } catch {
            // A warning: an owed settlement is retried, and its own log rises to an error when it keeps failing.
            logger.warning(
                "Payment step failed",
                metadata: [
                    "tradeskit.tenant": "\(tenant)", "tradeskit.payment_step": "\(step)", "tradeskit.error_type": "\(type(of: error))",
                ])
            throw TradesKitError(.paymentFailed, "The payment processor could not \(step)")
        }
    }
}

/// Business counters (swift-metrics); the reference server exports them to Prometheus.
enum BusinessMetrics {
    static let jobsPosted = Counter(label: "tradeskit_jobs_posted_total")
    static let bidsSubmitted = Counter(label: "tradeskit_bids_submitted_total")
    static let bidsAccepted = Counter(label: "tradeskit_bids_accepted_total")
    static let paymentsReleased = Counter(label: "tradeskit_payments_released_total")
    static let settlementFailures = Counter(label: "tradeskit_settlement_failures_total")
    static let disputesOpened = Counter(label: "tradeskit_disputes_opened_total")
    static let loginFailures = Counter(label: "tradeskit_login_failures_total")
    static let loginLockouts = Counter(label: "tradeskit_login_lockouts_total")
    static let refreshTokenReuses = Counter(label: "tradeskit_refresh_token_reuses_total")
}

extension ChangeSet {
    /// Commits only while the caller is as read: a suspension or an ended session that commits between the read and
    /// this commit refuses the change (the retry reads the caller again and stops), rather than being outrun by it.
    mutating func expectCaller(_ actor: User) {
        append(.expectVersion(.user(actor.id), version: actor.version))
    }
}

/// The hash that logins of unknown e-mail addresses are verified against, so they take as long as logins of known
/// ones. Made once, by the configured hasher, so its cost and format are the real ones (bcrypt's, in the server).
actor DummyPasswordHash {
    private var hash: String?

    func value(using hasher: any PasswordHasher) async throws -> String {
        if let hash { return hash }
        let made = try await hasher.hash(OpaqueToken.generate())
        hash = made
        return made
    }
}

/// How long a password check with the hasher's current parameters takes in this process, learned from the checks it
/// makes (an average that follows the load), so a check against a cheaper hash can be made to last as long.
actor PasswordCheckTiming {
    private(set) var typical: Duration?

    func record(_ sample: Duration) {
        typical = typical.map { ($0 * 7 + sample) / 8 } ?? sample
    }
}
