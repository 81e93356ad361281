/// Moves real money: authorise, capture, transfer to a contractor, refund, void.
///
/// Every call carries an idempotency key derived from the business operation (`capture:<job>`, `release:<job>`,
/// `refund:<job>`, `void:<job>`; an accept's authorisation `accept:<bid>:<call>`, one per accept call), so a retry can
/// never charge or pay twice. Amounts are ISO 4217 minor units (``Money``); an adapter converts them to its processor's
/// units and rules where they differ (Stripe counts ISK in hundredths, and wants amounts in BHD, JOD, KWD and OMR to end
/// in 0). The Stripe adapter implements this port; TradesKitTesting has `MemoryPaymentProcessor`.
///
/// An owed settlement is retried with the same keys until it goes through (``PaymentService/runPendingSettlements(in:limit:)``),
/// which may be days after a first attempt whose answer was lost, when the processor is down that long; Stripe keeps a
/// key for 24 hours. So an adapter must answer a repeated call as the first one was answered even after its processor
/// has forgotten the key: a capture of a payment already captured for that amount succeeds, and a refund or transfer
/// already made under the key (found through the metadata the adapter attached to it) answers its reference rather
/// than being made again.
public protocol PaymentProcessor: Sendable {
    /// Authorises (holds) the amount on the homeowner's payment method.
    func authorize(_ request: PaymentAuthorizationRequest) async throws -> PaymentAuthorization
    /// Collects a held authorisation.
    func capture(paymentReference: String, amount: Money, idempotencyKey: String) async throws
    /// Releases a held authorisation without collecting it.
    func void(paymentReference: String, idempotencyKey: String) async throws
    /// Returns collected money to the homeowner; answers the processor's refund reference.
    func refund(paymentReference: String, amount: Money, idempotencyKey: String) async throws -> String
    /// Pays a contractor from a collected payment; answers the processor's transfer reference.
    func transfer(_ request: PaymentTransferRequest) async throws -> String
}

/// A request to authorise the amount of an accepted bid.
public struct PaymentAuthorizationRequest: Sendable, Hashable {
    /// The tenant.
    public let tenantID: TenantID
    /// The job, used as the transfer group.
    public let jobID: JobID
    /// The accepted bid.
    public let bidID: BidID
    /// Who pays.
    public let homeownerID: UserID
    /// The amount.
    public let amount: Money
    /// Derived from the bid and the accept call (`accept:<bid>:<call>`): the call's own retries reuse the authorisation,
    /// and a later accept of the same bid asks for a new one.
    public let idempotencyKey: String

    /// Creates a request.
    public init(tenantID: TenantID, jobID: JobID, bidID: BidID, homeownerID: UserID, amount: Money, idempotencyKey: String) {
        self.tenantID = tenantID
        self.jobID = jobID
        self.bidID = bidID
        self.homeownerID = homeownerID
        self.amount = amount
        self.idempotencyKey = idempotencyKey
    }
}

/// The processor's answer to an authorisation.
public struct PaymentAuthorization: Sendable, Hashable {
    /// Whether the money is held now or needs the payer's action first.
    public enum Status: String, Sendable, Hashable {
        /// The authorisation succeeded.
        case held
        /// The payer must confirm (e.g. 3-D Secure); the escrow waits in `authorization_pending`.
        case requiresAction = "requires_action"
    }

    /// The processor's reference.
    public let reference: String
    /// The status.
    public let status: Status

    /// Creates an authorisation.
    public init(reference: String, status: Status) {
        self.reference = reference
        self.status = status
    }
}

/// A payout to a contractor.
public struct PaymentTransferRequest: Sendable, Hashable {
    /// The tenant.
    public let tenantID: TenantID
    /// The job, as transfer group.
    public let jobID: JobID
    /// The contractor paid.
    public let contractorID: UserID
    /// The collected payment the transfer draws on.
    public let paymentReference: String
    /// The amount, after the platform fee.
    public let amount: Money
    /// Derived from the job (`release:<job>`).
    public let idempotencyKey: String

    /// Creates a request.
    public init(tenantID: TenantID, jobID: JobID, contractorID: UserID, paymentReference: String, amount: Money, idempotencyKey: String) {
        self.tenantID = tenantID
        self.jobID = jobID
        self.contractorID = contractorID
        self.paymentReference = paymentReference
        self.amount = amount
        self.idempotencyKey = idempotencyKey
    }
}
