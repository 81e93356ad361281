import Foundation
import Testing
import TradesKit
import TradesKitTesting

/// A processor that runs a hook before the next call of a kind, then forwards to the recording fake: the hook is how a
/// test makes a concurrent operation land between a service's reads and its payment call, deterministically.
final class InterceptingPayments: PaymentProcessor {
    enum Step: Sendable, Hashable { case authorize, capture, void, refund, transfer }
    typealias Hook = @Sendable () async throws -> Void

    let base: MemoryPaymentProcessor
    private let hooks = Hooks()

    init(base: MemoryPaymentProcessor) { self.base = base }

    /// Runs `hook` once, before the next call of `step`.
    func beforeNext(_ step: Step, _ hook: @escaping Hook) async { await hooks.set(step, hook) }

    func authorize(_ request: PaymentAuthorizationRequest) async throws -> PaymentAuthorization {
        try await hooks.run(.authorize)
        return try await base.authorize(request)
    }

    func capture(paymentReference: String, amount: Money, idempotencyKey: String) async throws {
        try await hooks.run(.capture)
        try await base.capture(paymentReference: paymentReference, amount: amount, idempotencyKey: idempotencyKey)
    }

    func void(paymentReference: String, idempotencyKey: String) async throws {
        try await hooks.run(.void)
        try await base.void(paymentReference: paymentReference, idempotencyKey: idempotencyKey)
    }

    func refund(paymentReference: String, amount: Money, idempotencyKey: String) async throws -> String {
        try await hooks.run(.refund)
        return try await base.refund(paymentReference: paymentReference, amount: amount, idempotencyKey: idempotencyKey)
    }

    func transfer(_ request: PaymentTransferRequest) async throws -> String {
        try await hooks.run(.transfer)
        return try await base.transfer(request)
    }

    private actor Hooks {
        private var pending: [Step: Hook] = [:]
        func set(_ step: Step, _ hook: @escaping Hook) { pending[step] = hook }
        func run(_ step: Step) async throws {
            guard let hook = pending.removeValue(forKey: step) else { return }
            try await hook()
        }
    }
}

@Suite("Payments against concurrent decisions")
struct PaymentRaceTests {
    static func market(_ kind: StorageKind) throws -> (TestMarket, InterceptingPayments) {
        var intercepting: InterceptingPayments?
        let t = try TestMarket(kind) { base in
            let wrapper = InterceptingPayments(base: base)
            intercepting = wrapper
            return wrapper
        }
        return (t, intercepting!)
    }

    @Test(
        "a second accept of the same bid (a double click) fails without voiding the authorisation the first committed",
        arguments: [StorageKind.sqliteFile, .memory])
    func doubleAccept(_ kind: StorageKind) async throws {
        let (t, payments) = try Self.market(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld()
        let (job, bids) = try await t.jobWithBids(world)
        // The first click's accept commits while the second is between its reads and its authorisation.
        await payments.beforeNext(.authorize) { _ = try await t.market.bids.accept(by: world.owner, bids[0].id) }
        do {
            _ = try await t.market.bids.accept(by: world.owner, bids[0].id)
            Issue.record("the second accept went through")
        } catch let error as TradesKitError {
            #expect(error.code == .invalidTransition || error.code == .conflict, "\(error)")
        }
        let escrow = try await t.market.payments.escrow(by: world.owner, job: job.id)
        #expect(escrow.status == .held)
        let reference = try #require(escrow.paymentReference)
        let payment = try #require(t.payments.payment(reference: reference))
        #expect(!payment.voided, "the committed hold was voided")
        #expect(t.payments.calls.filter { $0.idempotencyKey.hasPrefix("void:") }.isEmpty)
    }
}
