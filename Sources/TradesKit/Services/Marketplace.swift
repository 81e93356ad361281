import Foundation
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

        /// Creates a configuration.
        public init(maxAttempts: Int = 12) { self.maxAttempts = max(1, maxAttempts) }
    }

    let environment: ServiceEnvironment

    /// Creates a marketplace.
    public init(
        storage: any Storage, payments: any PaymentProcessor, passwordHasher: any PasswordHasher,
        clock: any WallClock = SystemClock(), ids: (any IDGenerator)? = nil, logger: Logger = Logger(label: "tradeskit"),
        configuration: Configuration = Configuration()
    ) {
        environment = ServiceEnvironment(
            storage: storage, payments: payments, passwordHasher: passwordHasher, clock: clock,
            ids: ids ?? UUIDv7Generator(clock: clock), logger: logger, maxAttempts: configuration.maxAttempts)
    }

    /// The storage behind the marketplace.
    public var storage: any Storage { environment.storage }
    /// Tenants (platform operator).
    public var tenants: TenantService { TenantService(environment) }
    /// Users, registration, suspension.
    public var users: UserService { UserService(environment) }
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
