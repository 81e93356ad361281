public import TradesKit

/// A ``PaymentProcessor`` that keeps a record of every payment and checks the rules a real processor enforces.
///
/// Idempotency: a call whose key was seen before answers the first call's result and records no second effect;
/// reusing a key for a different request throws ``MemoryPaymentError/Code/idempotencyKeyReused``. A call that fails
/// (scripted or by a rule) stores nothing under its key, so a retry may succeed.
public final class MemoryPaymentProcessor: PaymentProcessor, Sendable {
    /// One recorded call, in the order made, failures and idempotent replays included.
    public enum Call: Sendable, Hashable {
        /// ``MemoryPaymentProcessor/authorize(_:)``.
        case authorize(PaymentAuthorizationRequest)
        /// ``MemoryPaymentProcessor/capture(paymentReference:amount:idempotencyKey:)``.
        case capture(paymentReference: String, amount: Money, idempotencyKey: String)
        /// ``MemoryPaymentProcessor/void(paymentReference:idempotencyKey:)``.
        case void(paymentReference: String, idempotencyKey: String)
        /// ``MemoryPaymentProcessor/refund(paymentReference:amount:idempotencyKey:)``.
        case refund(paymentReference: String, amount: Money, idempotencyKey: String)
        /// ``MemoryPaymentProcessor/transfer(_:)``.
        case transfer(PaymentTransferRequest)

        /// The call's idempotency key.
        public var idempotencyKey: String {
            switch self {
            case .authorize(let request): request.idempotencyKey
            case .capture(_, _, let key), .void(_, let key), .refund(_, _, let key): key
            case .transfer(let request): request.idempotencyKey
            }
        }

        /// The payment the call is about; `nil` for an authorisation, which makes one.
        public var paymentReference: String? {
            switch self {
            case .authorize: nil
            case .capture(let reference, _, _), .void(let reference, _), .refund(let reference, _, _): reference
            case .transfer(let request): request.paymentReference
            }
        }
    }

    /// A payout recorded against a payment.
    public struct Transfer: Sendable, Hashable {
        /// The transfer's reference (`tr_mem_<n>`).
        public let reference: String
        /// The contractor paid.
        public let contractorID: UserID
        /// The amount paid.
        public let amount: Money
    }

    /// What happened to one authorisation.
    public struct Payment: Sendable, Hashable {
        /// The payment's reference (`pi_mem_<n>`).
        public let reference: String
        /// The request that created it.
        public let request: PaymentAuthorizationRequest
        /// `requiresAction` until ``MemoryPaymentProcessor/confirmAction(reference:)``.
        public var status: PaymentAuthorization.Status
        /// The captured amount, once captured.
        public var captured: Money?
        /// Whether the hold was voided.
        public var voided: Bool
        /// The total refunded so far.
        public var refunded: Money
        /// The references of the refunds, in order.
        public var refunds: [String]
        /// The payouts, in order.
        public var transfers: [Transfer]

        /// The authorised amount.
        public var amount: Money { request.amount }
        /// The total transferred so far.
        public var transferred: Int64 { transfers.reduce(0) { $0 + $1.amount.amount } }
    }

    private enum Outcome: Sendable {
        case authorization(PaymentAuthorization)
        case reference(String)
        case done
    }

    private struct State: Sendable {
        var calls: [Call] = []
        var payments: [String: Payment] = [:]
        var order: [String] = []
        var outcomes: [String: (call: Call, outcome: Outcome)] = [:]
        var requireActionCount = 0
        var failures = FailureQueue()
        var lostAnswers = FailureQueue()
        var refusals: [String: any Error] = [:]
        var counter = 0

        mutating func reference(_ prefix: String) -> String {
            counter += 1
            return "\(prefix)_mem_\(counter)"
        }

        func payment(_ reference: String) throws(MemoryPaymentError) -> Payment {
            guard let payment = payments[reference] else { throw MemoryPaymentError(.unknownPayment, "No payment with this reference") }
            return payment
        }
    }

    private let state = Locked(State())

    /// Creates a processor with no payments.
    public init() {}

    /// Every call, in order.
    public var calls: [Call] { state.current.calls }

    /// Every payment, in authorisation order.
    public var payments: [Payment] {
        let current = state.current
        return current.order.compactMap { current.payments[$0] }
    }

    /// The payment with `reference`.
    public func payment(reference: String) -> Payment? { state.current.payments[reference] }

    /// Makes the next call (after any already scripted) throw `error` with no effect.
    public func failNext(with error: any Error) { state.withLock { $0.failures.add(error) } }

    /// Makes the next call (after any already scripted) take effect and then throw `error`, as a call whose answer was
    /// lost (a timeout after the processor acted) does. A repeat with the same idempotency key answers what it did.
    public func loseNextAnswer(with error: any Error) { state.withLock { $0.lostAnswers.add(error) } }

    /// Makes every call about the payment with `reference` throw `error` with no effect, as a processor that keeps
    /// refusing one payment does (a closed card, a contractor's account under review); `nil` ends it.
    public func refuseCalls(about reference: String, with error: (any Error)?) { state.withLock { $0.refusals[reference] = error } }

    /// Makes the next `count` new authorisations answer ``PaymentAuthorization/Status/requiresAction``.
    public func requireAction(forNext count: Int = 1) { state.withLock { $0.requireActionCount += count } }

    /// The payer completed the action (e.g. 3-D Secure): the payment is now held.
    public func confirmAction(reference: String) throws {
        try state.withLock { state in
            var payment = try state.payment(reference)
            payment.status = .held
            state.payments[reference] = payment
        }
    }

    /// Holds `request.amount`; answers `requiresAction` when scripted.
    public func authorize(_ request: PaymentAuthorizationRequest) async throws -> PaymentAuthorization {
        let outcome = try perform(.authorize(request)) { state throws(MemoryPaymentError) in
            guard request.amount.amount > 0 else { throw MemoryPaymentError(.invalidAmount, "Amount must be positive") }
            let reference = state.reference("pi")
            let status: PaymentAuthorization.Status
            if state.requireActionCount > 0 {
                state.requireActionCount -= 1
                status = .requiresAction
            } else {
                status = .held
            }
            state.payments[reference] = Payment(
                reference: reference, request: request, status: status, captured: nil, voided: false,
                refunded: .zero(request.amount.currency), refunds: [], transfers: [])
            state.order.append(reference)
            return .authorization(PaymentAuthorization(reference: reference, status: status))
        }
        guard case .authorization(let authorization) = outcome else { throw MemoryPaymentError(.idempotencyKeyReused, "Key reused") }
        return authorization
    }

    /// Captures a held payment once, at most the authorised amount.
    public func capture(paymentReference: String, amount: Money, idempotencyKey: String) async throws {
        let call = Call.capture(paymentReference: paymentReference, amount: amount, idempotencyKey: idempotencyKey)
        _ = try perform(call) { state throws(MemoryPaymentError) in
            var payment = try state.payment(paymentReference)
            guard !payment.voided else { throw MemoryPaymentError(.invalidState, "The payment was voided") }
            guard payment.captured == nil else { throw MemoryPaymentError(.alreadyCaptured, "The payment was already captured") }
            guard payment.status == .held else { throw MemoryPaymentError(.invalidState, "The payment requires action") }
            guard amount.currency == payment.amount.currency else { throw MemoryPaymentError(.currencyMismatch, "Wrong currency") }
            guard amount.amount > 0, amount.amount <= payment.amount.amount else {
                throw MemoryPaymentError(.amountExceedsAuthorization, "Capture must be positive and at most the authorised amount")
            }
            payment.captured = amount
            state.payments[paymentReference] = payment
            return .done
        }
    }

    /// Voids an uncaptured payment once.
    public func void(paymentReference: String, idempotencyKey: String) async throws {
        _ = try perform(.void(paymentReference: paymentReference, idempotencyKey: idempotencyKey)) { state throws(MemoryPaymentError) in
            var payment = try state.payment(paymentReference)
            guard payment.captured == nil else { throw MemoryPaymentError(.alreadyCaptured, "A captured payment cannot be voided") }
            guard !payment.voided else { throw MemoryPaymentError(.alreadyVoided, "The payment was already voided") }
            payment.voided = true
            state.payments[paymentReference] = payment
            return .done
        }
    }

    /// Refunds part of a captured payment; all refunds together at most the captured amount.
    public func refund(paymentReference: String, amount: Money, idempotencyKey: String) async throws -> String {
        let outcome = try perform(.refund(paymentReference: paymentReference, amount: amount, idempotencyKey: idempotencyKey)) {
            state throws(MemoryPaymentError) in
            var payment = try state.payment(paymentReference)
            guard let captured = payment.captured else { throw MemoryPaymentError(.invalidState, "Only a captured payment can be refunded") }
            guard amount.currency == captured.currency else { throw MemoryPaymentError(.currencyMismatch, "Wrong currency") }
            guard amount.amount > 0 else { throw MemoryPaymentError(.invalidAmount, "Amount must be positive") }
            guard payment.refunded.amount + amount.amount <= captured.amount else {
                throw MemoryPaymentError(.refundExceedsCaptured, "Refunds would exceed the captured amount")
            }
            let reference = state.reference("re")
            payment.refunded.amount += amount.amount
            payment.refunds.append(reference)
            state.payments[paymentReference] = payment
            return .reference(reference)
        }
        guard case .reference(let reference) = outcome else { throw MemoryPaymentError(.idempotencyKeyReused, "Key reused") }
        return reference
    }

    /// Pays a contractor from a captured payment; refunds and transfers together at most the captured amount.
    public func transfer(_ request: PaymentTransferRequest) async throws -> String {
        let outcome = try perform(.transfer(request)) { state throws(MemoryPaymentError) in
            var payment = try state.payment(request.paymentReference)
            guard let captured = payment.captured else { throw MemoryPaymentError(.invalidState, "Only a captured payment can be transferred") }
            guard request.amount.currency == captured.currency else { throw MemoryPaymentError(.currencyMismatch, "Wrong currency") }
            guard request.amount.amount > 0 else { throw MemoryPaymentError(.invalidAmount, "Amount must be positive") }
            guard payment.refunded.amount + payment.transferred + request.amount.amount <= captured.amount else {
                throw MemoryPaymentError(.transferExceedsAvailable, "Transfers would exceed what is left of the captured amount")
            }
            let reference = state.reference("tr")
            payment.transfers.append(Transfer(reference: reference, contractorID: request.contractorID, amount: request.amount))
            state.payments[request.paymentReference] = payment
            return .reference(reference)
        }
        guard case .reference(let reference) = outcome else { throw MemoryPaymentError(.idempotencyKeyReused, "Key reused") }
        return reference
    }

    /// Records the call, replays a known key, or applies `effect` on a copy and keeps it only when it succeeds.
    private func perform(_ call: Call, _ effect: (inout State) throws(MemoryPaymentError) -> Outcome) throws -> Outcome {
        try state.withLock { (state: inout State) throws -> Outcome in
            state.calls.append(call)
            if let error = state.failures.next() { throw error }
            if let reference = call.paymentReference, let error = state.refusals[reference] { throw error }
            if let previous = state.outcomes[call.idempotencyKey] {
                guard previous.call == call else {
                    throw MemoryPaymentError(.idempotencyKeyReused, "The idempotency key was used for a different request")
                }
                return previous.outcome
            }
            var copy = state
            let outcome = try effect(&copy)
            copy.outcomes[call.idempotencyKey] = (call, outcome)
            state = copy
            if let lost = state.lostAnswers.next() { throw lost }
            return outcome
        }
    }
}

/// What ``MemoryPaymentProcessor`` throws when a request breaks a processor rule.
public struct MemoryPaymentError: Error, Hashable, CustomStringConvertible {
    /// A stable code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The stable string.
        public let rawValue: String
        /// Creates a code.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The stable string.
        public var description: String { rawValue }

        /// No payment has the reference.
        public static let unknownPayment = Code(rawValue: "unknown_payment")
        /// The payment is not in a state that allows the call.
        public static let invalidState = Code(rawValue: "invalid_state")
        /// The payment was captured already.
        public static let alreadyCaptured = Code(rawValue: "already_captured")
        /// The payment was voided already.
        public static let alreadyVoided = Code(rawValue: "already_voided")
        /// A capture above the authorised amount.
        public static let amountExceedsAuthorization = Code(rawValue: "amount_exceeds_authorization")
        /// Refunds above the captured amount.
        public static let refundExceedsCaptured = Code(rawValue: "refund_exceeds_captured")
        /// Transfers above what is left after refunds.
        public static let transferExceedsAvailable = Code(rawValue: "transfer_exceeds_available")
        /// An amount in another currency than the payment's.
        public static let currencyMismatch = Code(rawValue: "currency_mismatch")
        /// A zero or negative amount.
        public static let invalidAmount = Code(rawValue: "invalid_amount")
        /// An idempotency key reused for a different request.
        public static let idempotencyKeyReused = Code(rawValue: "idempotency_key_reused")
    }

    /// The code.
    public let code: Code
    /// A short explanation.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The code and message.
    public var description: String { "MemoryPaymentError(\(code)): \(message)" }
}
