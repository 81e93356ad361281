import Foundation
import Testing
import TradesKit
import TradesKitTesting

struct Boom: Error, Equatable {}

@Suite struct ManualClockTests {
    @Test func startsAtTheFixedDateAndMovesOnlyWhenTold() {
        let clock = ManualClock()
        #expect(clock.now() == ManualClock.defaultStart)
        #expect(ISO8601DateFormatter().string(from: clock.now()) == "2026-01-05T09:00:00Z")
        clock.advance(by: 90.0004)
        #expect(clock.now().millisecondsSince1970 == ManualClock.defaultStart.millisecondsSince1970 + 90_000)
        clock.set(Date(timeIntervalSince1970: 10.123456))
        #expect(clock.now() == Date(millisecondsSince1970: 10_123))
    }

    @Test func sequentialIDsIncrease() {
        let ids = SequentialIDGenerator()
        let first = ids.next()
        let second = ids.next()
        #expect(first.uuidString.lowercased() == "00000000-0000-7000-8000-000000000001")
        #expect(first.uuidString.lowercased() < second.uuidString.lowercased())
        let typed: JobID = ids.make()
        #expect(Identifier<BidTag>(second) < Identifier<BidTag>(typed.rawValue))
    }
}

@Suite struct MemoryPaymentProcessorTests {
    let tenant = TenantID(UUID())
    let job = JobID(UUID())
    let bid = BidID(UUID())
    let owner = UserID(UUID())
    let contractor = UserID(UUID())

    func request(_ key: String = "accept:1", amount: Int64 = 10_000) -> PaymentAuthorizationRequest {
        PaymentAuthorizationRequest(tenantID: tenant, jobID: job, bidID: bid, homeownerID: owner, amount: Money(amount, .usd), idempotencyKey: key)
    }

    @Test func sameKeyReturnsTheSameResultWithoutASecondEffect() async throws {
        let processor = MemoryPaymentProcessor()
        let first = try await processor.authorize(request())
        let again = try await processor.authorize(request())
        #expect(first == again)
        #expect(processor.payments.count == 1)
        #expect(processor.calls.count == 2)
        try await processor.capture(paymentReference: first.reference, amount: Money(10_000, .usd), idempotencyKey: "capture:1")
        try await processor.capture(paymentReference: first.reference, amount: Money(10_000, .usd), idempotencyKey: "capture:1")
        let refund = try await processor.refund(paymentReference: first.reference, amount: Money(4_000, .usd), idempotencyKey: "refund:1")
        let refundAgain = try await processor.refund(paymentReference: first.reference, amount: Money(4_000, .usd), idempotencyKey: "refund:1")
        #expect(refund == refundAgain)
        let transfer = PaymentTransferRequest(
            tenantID: tenant, jobID: job, contractorID: contractor, paymentReference: first.reference,
            amount: Money(5_400, .usd), idempotencyKey: "release:1")
        let reference = try await processor.transfer(transfer)
        #expect(try await processor.transfer(transfer) == reference)
        let payment = try #require(processor.payment(reference: first.reference))
        #expect(payment.captured == Money(10_000, .usd))
        #expect(payment.refunded == Money(4_000, .usd))
        #expect(payment.refunds.count == 1)
        #expect(payment.transfers.map(\.amount) == [Money(5_400, .usd)])
    }

    @Test func keyReusedForAnotherRequestIsRejected() async throws {
        let processor = MemoryPaymentProcessor()
        let first = try await processor.authorize(request())
        await expectCode(.idempotencyKeyReused) { _ = try await processor.authorize(request(amount: 1)) }
        // Nothing was held for the second request, and the first stands as it was.
        #expect(processor.payments.map(\.reference) == [first.reference])
        #expect(processor.payment(reference: first.reference)?.amount == Money(10_000, .usd))
    }

    @Test func enforcesProcessorRules() async throws {
        let processor = MemoryPaymentProcessor()
        let auth = try await processor.authorize(request())
        await expectCode(.amountExceedsAuthorization) {
            try await processor.capture(paymentReference: auth.reference, amount: Money(10_001, .usd), idempotencyKey: "c0")
        }
        await expectCode(.invalidState) {
            _ = try await processor.refund(paymentReference: auth.reference, amount: Money(1, .usd), idempotencyKey: "r0")
        }
        try await processor.capture(paymentReference: auth.reference, amount: Money(10_000, .usd), idempotencyKey: "c1")
        await expectCode(.alreadyCaptured) {
            try await processor.capture(paymentReference: auth.reference, amount: Money(10_000, .usd), idempotencyKey: "c2")
        }
        await expectCode(.alreadyCaptured) { try await processor.void(paymentReference: auth.reference, idempotencyKey: "v1") }
        _ = try await processor.refund(paymentReference: auth.reference, amount: Money(6_000, .usd), idempotencyKey: "r1")
        await expectCode(.refundExceedsCaptured) {
            _ = try await processor.refund(paymentReference: auth.reference, amount: Money(4_001, .usd), idempotencyKey: "r2")
        }
        await expectCode(.unknownPayment) { try await processor.void(paymentReference: "pi_nope", idempotencyKey: "v2") }
        #expect(processor.payment(reference: auth.reference)?.refunded == Money(6_000, .usd))
    }

    @Test func scriptedFailuresAndRequiresAction() async throws {
        let processor = MemoryPaymentProcessor()
        processor.failNext(with: Boom())
        await #expect(throws: Boom.self) { try await processor.authorize(request()) }
        #expect(processor.payments.isEmpty)
        processor.requireAction()
        let pending = try await processor.authorize(request())
        #expect(pending.status == .requiresAction)
        await expectCode(.invalidState) {
            try await processor.capture(paymentReference: pending.reference, amount: Money(10_000, .usd), idempotencyKey: "c")
        }
        try processor.confirmAction(reference: pending.reference)
        try await processor.capture(paymentReference: pending.reference, amount: Money(10_000, .usd), idempotencyKey: "c")
        #expect(try await processor.authorize(request("accept:2")).status == .held)
        let voidable = try await processor.authorize(request("accept:3"))
        try await processor.void(paymentReference: voidable.reference, idempotencyKey: "void:3")
        await expectCode(.alreadyVoided) { try await processor.void(paymentReference: voidable.reference, idempotencyKey: "void:3b") }
    }

    func expectCode(_ code: MemoryPaymentError.Code, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as MemoryPaymentError {
            #expect(error.code == code)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite struct OtherFakesTests {
    @Test func passwordHasherIsSaltedAndVerifies() async throws {
        let hasher = MemoryPasswordHasher()
        let first = try await hasher.hash("correct horse")
        let second = try await hasher.hash("correct horse")
        #expect(first != second)
        #expect(first.hasPrefix("memory$"))
        #expect(!first.contains("correct horse"))
        #expect(try await hasher.verify("correct horse", against: first))
        #expect(try await !hasher.verify("wrong", against: first))
        #expect(try await !hasher.verify("correct horse", against: "$2b$12$whatever"))
        hasher.failNext(with: Boom())
        await #expect(throws: Boom.self) { try await hasher.hash("x") }
    }

    @Test func sendersRecordAndFailOnScript() async throws {
        let email = MemoryEmailSender()
        let message = EmailMessage(to: try EmailAddress("a@example.com"), from: try EmailAddress("b@example.com"), subject: "Hi", text: "Body")
        email.failNext(with: Boom())
        await #expect(throws: Boom.self) { try await email.send(message) }
        #expect(try await email.send(message) == "email-1")
        #expect(email.sent == [message])
        #expect(email.attempts == 2)
        let sms = MemorySMSSender()
        _ = try await sms.send(SMSMessage(to: try PhoneNumber("+14155550123"), from: "TRADES", body: "Hello"))
        #expect(sms.sent.count == 1)
        let push = MemoryPushSender()
        try await push.send(PushNotification(tenantID: TenantID(UUID()), userID: UserID(UUID()), title: "T", body: "B"))
        #expect(push.sent.count == 1)
    }

    @Test func geocoderAndBackgroundChecker() async throws {
        let point = GeoPoint(latitude: 51.5, longitude: -0.12)
        let geocoder = MemoryGeocoder(places: ["10 Downing Street, London": point])
        #expect(try await geocoder.geocode("  10 downing street, london ") == point)
        #expect(try await geocoder.geocode("Nowhere") == nil)
        #expect(geocoder.queries.count == 2)
        let checker = MemoryBackgroundChecker(defaultStatus: .pending)
        let rejected = UserID(UUID())
        checker.setStatus(.rejected, for: rejected)
        #expect(try await checker.check(contractor: rejected, tenant: TenantID(UUID())) == .rejected)
        #expect(try await checker.check(contractor: UserID(UUID()), tenant: TenantID(UUID())) == .pending)
        #expect(checker.calls.count == 2)
    }
}
