public import Foundation
public import Logging

/// The marketplace: every service of TradesKit over one storage and one set of providers.
///
/// ```swift
/// let market = Marketplace(storage: try SQLiteStorage(.file(path: "trades.sqlite")),
///                          payments: myProcessor, passwordHasher: myHasher)
/// let job = try await market.jobs.post(by: homeowner, NewJob(...))
/// ```
public struct Marketplace: Sendable {
    /// Tunables of the services.
    public struct Configuration: Sendable {
        /// How many times an operation is retried from a fresh read when a concurrent change won (default 12).
        public var maxAttempts: Int
        /// Sessions, e-mailed links, lockout and two-factor secrets.
        public var identity: IdentityConfiguration
        /// How long an authorised payment stays held before it is captured though the work has not started (default six
        /// days: a card authorisation lapses after seven at Stripe, and the money with it). See
        /// ``PaymentService/runHoldCaptures(in:limit:)``.
        public var captureHeldPaymentsAfter: TimeInterval
        /// How long an owed settlement waits after its first failed attempt before
        /// ``PaymentService/runPendingSettlements(in:limit:)`` tries it again (default one minute). The wait doubles with
        /// each further failure, up to ``settlementRetryMaxDelay``, so an escrow the processor keeps refusing is tried
        /// less and less often, and never holds up the others behind it. Taken as at least one second and at most
        /// twelve hours.
        public var settlementRetryDelay: TimeInterval
        /// The longest wait between two attempts (default one hour). Taken as at least ``settlementRetryDelay`` and at
        /// most twelve hours, so a payment the processor refuses for a while is still tried twice a day.
        public var settlementRetryMaxDelay: TimeInterval

        /// Creates a configuration.
        public init(
            maxAttempts: Int = 12, identity: IdentityConfiguration = IdentityConfiguration(),
            captureHeldPaymentsAfter: TimeInterval = 6 * 86_400, settlementRetryDelay: TimeInterval = 60,
            settlementRetryMaxDelay: TimeInterval = 3_600
        ) {
            self.maxAttempts = max(1, maxAttempts)
            self.identity = identity
            self.captureHeldPaymentsAfter = max(0, captureHeldPaymentsAfter)
            self.settlementRetryDelay = settlementRetryDelay
            self.settlementRetryMaxDelay = settlementRetryMaxDelay
        }

        /// How long a settlement waits after its `failures`-th failed attempt in a row: ``settlementRetryDelay`` doubled
        /// `failures - 1` times, at most ``settlementRetryMaxDelay``, both within their bounds (a value that is not a
        /// number counts as the lower bound).
        public func settlementRetryDelay(afterFailures failures: Int) -> TimeInterval {
            func bounded(_ value: TimeInterval, atLeast lowest: TimeInterval) -> TimeInterval {
                value.isNaN ? lowest : min(max(lowest, value), 12 * 3_600)
            }
            let first = bounded(settlementRetryDelay, atLeast: 1)
            let doublings = failures <= 1 ? 0 : min(failures - 1, 32)
            return min(first * Double(1 << doublings), bounded(settlementRetryMaxDelay, atLeast: first))
        }
    }

    let environment: ServiceEnvironment
    /// The tunables the marketplace was created with.
    public let configuration: Configuration

    /// Creates a marketplace.
    ///
    /// `emailSender` delivers the identity e-mails (address verification, password reset). Without one, the operations
    /// that send them fail with ``TradesKitError/Code/notConfigured`` rather than pretend to have sent anything.
    public init(
        storage: any Storage, payments: any PaymentProcessor, passwordHasher: any PasswordHasher, emailSender: (any EmailSender)? = nil,
        clock: any WallClock = SystemClock(), ids: (any IDGenerator)? = nil, logger: Logger = Logger(label: "tradeskit"),
        configuration: Configuration = Configuration()
    ) {
        self.configuration = configuration
        environment = ServiceEnvironment(
            storage: storage, payments: payments, passwordHasher: passwordHasher, emailSender: emailSender, clock: clock,
            ids: ids ?? UUIDv7Generator(clock: clock), logger: logger, maxAttempts: configuration.maxAttempts,
            identity: configuration.identity, captureHeldPaymentsAfter: configuration.captureHeldPaymentsAfter,
            settlementRetry: { [configuration] in configuration.settlementRetryDelay(afterFailures: $0) })
    }

    /// The storage behind the marketplace.
    public var storage: any Storage { environment.storage }
    /// Tenants (platform operator).
    public var tenants: TenantService { TenantService(environment) }
    /// Users, registration, suspension.
    public var users: UserService { UserService(environment) }
    /// Login, rotating sessions, e-mail verification, password reset, two-factor authentication and lockout.
    public var identity: IdentityService { IdentityService(environment) }
    /// Contractor profiles and vetting.
    public var contractors: ContractorService { ContractorService(environment) }
    /// Trade categories.
    public var catalog: CatalogService { CatalogService(environment) }
    /// Jobs and their lifecycle.
    public var jobs: JobService { JobService(environment) }
    /// Blind bids and acceptance.
    public var bids: BidService { BidService(environment) }
    /// Disputes.
    public var disputes: DisputeService { DisputeService(environment) }
    /// Reviews.
    public var reviews: ReviewService { ReviewService(environment) }
    /// Job threads.
    public var messages: MessageService { MessageService(environment) }
    /// Event feed and outbox consumer.
    public var events: EventService { EventService(environment) }
    /// Escrow and ledger.
    public var payments: PaymentService { PaymentService(environment) }
}
