import Foundation
import Testing
import TradesKit

@Suite("Escrow rules")
struct EscrowTests {
    @Test("holding: only from authorizationPending", arguments: EscrowStatus.allCases)
    func holding(status: EscrowStatus) {
        let escrow = Fixture.escrow(status: status)
        if status == .authorizationPending {
            do {
                let held = try escrow.holding(reference: "pi_123", at: Fixture.t1)
                #expect(held.status == .held)
                #expect(held.paymentReference == "pi_123")
                #expect(held.updatedAt == Fixture.t1)
            } catch {
                Issue.record("holding should be legal from pending, threw \(error)")
            }
        } else {
            let error = tradesKitError { () throws(TradesKitError) in try escrow.holding(reference: "pi_123", at: Fixture.t1) }
            #expect(error?.code == .invalidTransition)
        }
    }

    @Test("Codable: an escrow round-trips, and one encoded before scheduled retries decodes as due at once with no failure")
    func codable() throws {
        var escrow = Fixture.escrow(status: .captured)
        escrow.paymentReference = "pi_123"
        escrow.instruction = .settle(refund: Fixture.usd(5_000))
        escrow.settlementDueAt = Fixture.t1
        escrow.settlementFailures = 3
        let data = try JSONEncoder().encode(escrow)
        #expect(try JSONDecoder().decode(Escrow.self, from: data) == escrow)

        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.removeValue(forKey: "settlementDueAt") != nil && object.removeValue(forKey: "settlementFailures") != nil)
        let older = try JSONDecoder().decode(Escrow.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(older.settlementDueAt == nil && older.settlementFailures == 0)
        var expected = escrow
        expected.settlementDueAt = nil
        expected.settlementFailures = 0
        #expect(older == expected)
        // Anything else still missing is an error, not a default.
        object.removeValue(forKey: "amount")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Escrow.self, from: JSONSerialization.data(withJSONObject: object)) }
    }

    @Test("capturing: only from held", arguments: EscrowStatus.allCases)
    func capturing(status: EscrowStatus) {
        let escrow = Fixture.escrow(status: status)
        if status == .held {
            do {
                let captured = try escrow.capturing(at: Fixture.t1)
                #expect(captured.status == .captured)
                #expect(captured.updatedAt == Fixture.t1)
            } catch {
                Issue.record("capturing should be legal from held, threw \(error)")
            }
        } else {
            let error = tradesKitError { () throws(TradesKitError) in try escrow.capturing(at: Fixture.t1) }
            #expect(error?.code == .invalidTransition)
        }
    }

    @Test("voiding: only from pending or held", arguments: EscrowStatus.allCases)
    func voiding(status: EscrowStatus) {
        let escrow = Fixture.escrow(status: status)
        if status == .held || status == .authorizationPending {
            do {
                let voided = try escrow.voiding(at: Fixture.t1)
                #expect(voided.status == .cancelled)
                #expect(voided.updatedAt == Fixture.t1)
                #expect(voided.refundedAmount.amount == 0 && voided.releasedAmount.amount == 0 && voided.platformFee.amount == 0)
            } catch {
                Issue.record("voiding should be legal from \(status), threw \(error)")
            }
        } else {
            let error = tradesKitError { () throws(TradesKitError) in try escrow.voiding(at: Fixture.t1) }
            #expect(error?.code == .invalidTransition)
        }
    }

    @Test("settling: only from captured", arguments: EscrowStatus.allCases)
    func settlingStatus(status: EscrowStatus) {
        let escrow = Fixture.escrow(status: status)
        let settle = { () throws(TradesKitError) in
            try escrow.settling(
                refund: Fixture.usd(0), contractor: Fixture.usd(22_500), fee: Fixture.usd(2_500), transferReference: "tr_1",
                at: Fixture.t1)
        }
        if status == .captured {
            #expect((try? settle())?.status == .released)
        } else {
            #expect(tradesKitError(settle)?.code == .invalidTransition)
        }
    }

    @Test func settlingWithNoRefundReleases() throws {
        let escrow = Fixture.escrow(status: .captured)
        let (contractor, fee) = try escrow.payout(of: escrow.amount)
        let settled = try escrow.settling(refund: .zero(.usd), contractor: contractor, fee: fee, transferReference: "tr_1", at: Fixture.t1)
        #expect(settled.status == .released)
        #expect(settled.releasedAmount == Fixture.usd(22_500))
        #expect(settled.platformFee == Fixture.usd(2_500))
        #expect(settled.refundedAmount == Fixture.usd(0))
        #expect(settled.transferReference == "tr_1")
        #expect(settled.updatedAt == Fixture.t1)
    }

    @Test func settlingWithAFullRefundRefunds() throws {
        let escrow = Fixture.escrow(status: .captured)
        let settled = try escrow.settling(refund: escrow.amount, contractor: .zero(.usd), fee: .zero(.usd), transferReference: nil, at: Fixture.t1)
        #expect(settled.status == .refunded)
        #expect(settled.refundedAmount == escrow.amount)
        #expect(settled.releasedAmount.amount == 0 && settled.platformFee.amount == 0)
        #expect(settled.transferReference == nil)
    }

    @Test func settlingWithAPartialRefundIsPartiallyRefunded() throws {
        let escrow = Fixture.escrow(status: .captured)
        let refund = Fixture.usd(5_000)
        let (contractor, fee) = try escrow.payout(of: escrow.amount.subtracting(refund))
        let settled = try escrow.settling(refund: refund, contractor: contractor, fee: fee, transferReference: "tr_2", at: Fixture.t1)
        #expect(settled.status == .partiallyRefunded)
        #expect(settled.refundedAmount == refund)
        #expect(settled.releasedAmount == Fixture.usd(18_000))
        #expect(settled.platformFee == Fixture.usd(2_000))
    }

    @Test func newEscrowStartsWithZeroAmountsInItsCurrency() {
        let escrow = Fixture.escrow(status: .authorizationPending, amount: Money(500, .gbp))
        #expect(escrow.refundedAmount == Money(0, .gbp))
        #expect(escrow.releasedAmount == Money(0, .gbp))
        #expect(escrow.platformFee == Money(0, .gbp))
    }

    @Test(
        "payout splits gross into contractor + fee, fee rounded down",
        arguments: [
            (Int64(10_000), 1_000, Int64(9_000), Int64(1_000)),
            (999, 250, 975, 24),  // 24.975 → 24
            (1, 9_999, 1, 0),  // 0.9999 → 0
            (12_345, 0, 12_345, 0),
            (12_345, 10_000, 0, 12_345),
            (0, 1_000, 0, 0),
        ])
    func payout(gross: Int64, bps: Int, contractor: Int64, fee: Int64) throws {
        let escrow = Fixture.escrow(status: .captured, amount: Fixture.usd(gross), feeBasisPoints: bps)
        let split = try escrow.payout(of: Fixture.usd(gross))
        #expect(split.contractor == Fixture.usd(contractor))
        #expect(split.fee == Fixture.usd(fee))
        #expect(split.contractor.amount + split.fee.amount == gross)
    }

    @Test("payout rejects out-of-range basis points", arguments: [-1, 10_001, Int.max, Int.min])
    func payoutRejectsBadBasisPoints(bps: Int) {
        let escrow = Fixture.escrow(status: .captured, feeBasisPoints: bps)
        #expect(tradesKitError { () throws(TradesKitError) in try escrow.payout(of: escrow.amount) }?.code == .validationFailed)
    }
}

@Suite("Dispute rules")
struct DisputeTests {
    @Test("responding: only while awaiting a response", arguments: DisputeStatus.allCases)
    func responding(status: DisputeStatus) {
        let dispute = Fixture.dispute(status: status)
        if status == .awaitingResponse {
            do {
                let answered = try dispute.responding("It was fine when I left", at: Fixture.t1)
                #expect(answered.status == .underReview)
                #expect(answered.response == "It was fine when I left")
                #expect(answered.updatedAt == Fixture.t1)
                #expect(answered.resolution == nil)
            } catch {
                Issue.record("responding should be legal, threw \(error)")
            }
        } else {
            let error = tradesKitError { () throws(TradesKitError) in try dispute.responding("late", at: Fixture.t1) }
            #expect(error?.code == .invalidTransition)
        }
    }

    @Test("resolving: from awaiting response or under review, never twice", arguments: DisputeStatus.allCases)
    func resolving(status: DisputeStatus) {
        let dispute = Fixture.dispute(status: status)
        let resolution = DisputeResolution(
            outcome: .partialRefund(Fixture.usd(1_000)), note: "Half the tap", resolvedBy: Fixture.admin,
            resolvedAt: Fixture.t1)
        if status != .resolved {
            do {
                let resolved = try dispute.resolving(resolution, at: Fixture.t1)
                #expect(resolved.status == .resolved)
                #expect(resolved.resolution == resolution)
                #expect(resolved.updatedAt == Fixture.t1)
            } catch {
                Issue.record("resolving should be legal from \(status), threw \(error)")
            }
        } else {
            let error = tradesKitError { () throws(TradesKitError) in try dispute.resolving(resolution, at: Fixture.t1) }
            #expect(error?.code == .invalidTransition)
        }
    }

    @Test func outcomeNames() {
        #expect(DisputeOutcome.release.name == "release")
        #expect(DisputeOutcome.fullRefund.name == "full_refund")
        #expect(DisputeOutcome.partialRefund(Fixture.usd(1)).name == "partial_refund")
    }
}
