public import Foundation

/// The money for one awarded job: authorised when a bid is accepted, captured when work starts (or before the
/// authorisation lapses, if the work starts late), released to the contractor (minus the platform fee) when approved, or
/// refunded.
public struct Escrow: Sendable, Hashable, Codable, Identifiable {
    /// The escrow's id.
    public let id: EscrowID
    /// The job.
    public let jobID: JobID
    /// The accepted bid.
    public let bidID: BidID
    /// Who pays.
    public let homeownerID: UserID
    /// Who is paid.
    public let contractorID: UserID
    /// The accepted amount.
    public let amount: Money
    /// The platform fee basis points in force when the bid was accepted.
    public let feeBasisPoints: Int
    /// Where the money is.
    public var status: EscrowStatus
    /// The processor's reference for the payment (e.g. a PaymentIntent id).
    public var paymentReference: String?
    /// The processor's reference for the payout transfer.
    public var transferReference: String?
    /// How much was refunded to the homeowner.
    public var refundedAmount: Money
    /// How much was paid out to the contractor.
    public var releasedAmount: Money
    /// The platform's fee taken on release.
    public var platformFee: Money
    /// Where the money is to go next, decided and committed with the job's change, not yet done at the processor.
    /// `nil` when the processor and ``status`` agree. See ``SettlementInstruction``.
    public var instruction: SettlementInstruction?
    /// When ``instruction`` is due to be carried out: when it was decided, then, after each failed attempt, later by a
    /// delay that grows with ``settlementFailures`` (``Marketplace/Configuration/settlementRetryDelay``). `nil` when no
    /// instruction is owed; an instruction without one is due at once.
    public var settlementDueAt: Date?
    /// How many attempts in a row to carry out ``instruction`` have failed; 0 when none is owed or none has failed.
    public var settlementFailures: Int
    /// When it was opened.
    public let createdAt: Date
    /// When it last changed.
    public var updatedAt: Date
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates an escrow value.
    public init(
        id: EscrowID, jobID: JobID, bidID: BidID, homeownerID: UserID, contractorID: UserID, amount: Money, feeBasisPoints: Int,
        status: EscrowStatus, paymentReference: String? = nil, transferReference: String? = nil, refundedAmount: Money? = nil,
        releasedAmount: Money? = nil, platformFee: Money? = nil, instruction: SettlementInstruction? = nil, settlementDueAt: Date? = nil,
        settlementFailures: Int = 0, createdAt: Date, updatedAt: Date? = nil, version: Int64 = 1
    ) {
        self.id = id
        self.jobID = jobID
        self.bidID = bidID
        self.homeownerID = homeownerID
        self.contractorID = contractorID
        self.amount = amount
        self.feeBasisPoints = feeBasisPoints
        self.status = status
        self.paymentReference = paymentReference
        self.transferReference = transferReference
        self.refundedAmount = refundedAmount ?? .zero(amount.currency)
        self.releasedAmount = releasedAmount ?? .zero(amount.currency)
        self.platformFee = platformFee ?? .zero(amount.currency)
        self.instruction = instruction
        self.settlementDueAt = settlementDueAt
        self.settlementFailures = settlementFailures
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.version = version
    }

    /// Decodes an escrow, as encoded by this version or by one before owed settlements were retried on a schedule
    /// (without ``settlementDueAt`` and ``settlementFailures``: due at once, and no failure counted).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(EscrowID.self, forKey: .id), jobID: try container.decode(JobID.self, forKey: .jobID),
            bidID: try container.decode(BidID.self, forKey: .bidID), homeownerID: try container.decode(UserID.self, forKey: .homeownerID),
            contractorID: try container.decode(UserID.self, forKey: .contractorID), amount: try container.decode(Money.self, forKey: .amount),
            feeBasisPoints: try container.decode(Int.self, forKey: .feeBasisPoints), status: try container.decode(EscrowStatus.self, forKey: .status),
            paymentReference: try container.decodeIfPresent(String.self, forKey: .paymentReference),
            transferReference: try container.decodeIfPresent(String.self, forKey: .transferReference),
            refundedAmount: try container.decode(Money.self, forKey: .refundedAmount),
            releasedAmount: try container.decode(Money.self, forKey: .releasedAmount),
            platformFee: try container.decode(Money.self, forKey: .platformFee),
            instruction: try container.decodeIfPresent(SettlementInstruction.self, forKey: .instruction),
            settlementDueAt: try container.decodeIfPresent(Date.self, forKey: .settlementDueAt),
            settlementFailures: try container.decodeIfPresent(Int.self, forKey: .settlementFailures) ?? 0,
            createdAt: try container.decode(Date.self, forKey: .createdAt), updatedAt: try container.decode(Date.self, forKey: .updatedAt),
            version: try container.decode(Int64.self, forKey: .version))
    }

    /// How a released or partly refunded amount splits between contractor and platform.
    public func payout(of gross: Money) throws(TradesKitError) -> (contractor: Money, fee: Money) {
        let fee = try gross.fee(basisPoints: feeBasisPoints)
        return (try gross.subtracting(fee), fee)
    }

    /// Authorisation confirmed: pending → held.
    public func holding(reference: String, at now: Date) throws(TradesKitError) -> Escrow {
        guard status == .authorizationPending else { throw .invalidTransition("Only a pending authorisation can be held") }
        var escrow = self
        escrow.status = .held
        escrow.paymentReference = reference
        escrow.updatedAt = now
        return escrow
    }

    /// Whether the homeowner's money is collected or may be: captured, or a capture owed, whose call may have gone
    /// through with its answer lost. Such money is refunded (a settlement captures first, with the same key), never
    /// voided.
    public var captureBegun: Bool { status == .captured || instruction == .capture }

    /// Captured when work starts, or before the authorisation lapses: held → captured.
    public func capturing(at now: Date) throws(TradesKitError) -> Escrow {
        guard status == .held else { throw .invalidTransition("Only held money can be captured") }
        var escrow = self
        escrow.status = .captured
        escrow.updatedAt = now
        return escrow
    }

    /// Paid out: captured → released, or partially refunded with the rest released.
    public func settling(refund: Money, contractor: Money, fee: Money, transferReference: String?, at now: Date) throws(TradesKitError) -> Escrow {
        guard status == .captured else { throw .invalidTransition("Only captured money can be released or refunded") }
        let parts = [refund, contractor, fee]
        guard parts.allSatisfy({ $0.currency == amount.currency && $0.amount >= 0 }),
            Ledger.sumsToZero(parts.map(\.amount) + [0 &- amount.amount])
        else {
            throw .invalidTransition("A settlement must split exactly the escrowed amount")
        }
        var escrow = self
        escrow.refundedAmount = refund
        escrow.releasedAmount = contractor
        escrow.platformFee = fee
        escrow.transferReference = transferReference
        escrow.status = refund.amount == 0 ? .released : (refund == amount ? .refunded : .partiallyRefunded)
        escrow.updatedAt = now
        return escrow
    }

    /// The hold is voided before capture: pending or held → cancelled.
    public func voiding(at now: Date) throws(TradesKitError) -> Escrow {
        guard status == .held || status == .authorizationPending else { throw .invalidTransition("Only uncaptured money can be voided") }
        var escrow = self
        escrow.status = .cancelled
        escrow.updatedAt = now
        return escrow
    }
}

/// A money movement decided with a job's change and owed by the processor: the decision (the job started, approved,
/// cancelled, or its dispute resolved) commits first, with this on the escrow; the processor calls follow, each with an
/// idempotency key derived from the job; their result commits with the instruction cleared. A decision that loses a race
/// therefore never moves money, and one whose processor calls fail or are cut off stays owed, for
/// ``PaymentService/runPendingSettlements(in:limit:)`` to finish.
public enum SettlementInstruction: Sendable, Hashable, Codable {
    /// The work started: capture the held money.
    case capture
    /// Refund `refund` to the homeowner and pay the rest, minus the platform fee, to the contractor; held money is
    /// captured first.
    case settle(refund: Money)
    /// Nothing was collected: release the hold.
    case void

    /// The storage form: `capture`, `void` or `settle:<refund in minor units>` (in the escrow's currency).
    public var storageValue: String {
        switch self {
        case .capture: "capture"
        case .void: "void"
        case .settle(let refund): "settle:\(refund.amount)"
        }
    }

    /// Parses ``storageValue``; `nil` for anything else.
    public init?(storageValue: String, currency: Currency) {
        switch storageValue {
        case "capture": self = .capture
        case "void": self = .void
        default:
            guard storageValue.hasPrefix("settle:"), let minor = Int64(storageValue.dropFirst("settle:".count)), minor >= 0 else { return nil }
            self = .settle(refund: Money(minor, currency))
        }
    }
}

/// Where escrowed money is (DESIGN.md §4).
public enum EscrowStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for the processor to confirm the authorisation.
    case authorizationPending = "authorization_pending"
    /// Authorised on the homeowner's card.
    case held
    /// Collected from the homeowner.
    case captured
    /// Paid to the contractor, minus the fee.
    case released
    /// Returned to the homeowner in full.
    case refunded
    /// Part returned to the homeowner, the rest paid to the contractor.
    case partiallyRefunded = "partially_refunded"
    /// The hold was voided; no money moved.
    case cancelled
}
