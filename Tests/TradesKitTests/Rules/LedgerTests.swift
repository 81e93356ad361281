import Foundation
import Testing
import TradesKit

private func post(_ kind: LedgerTransactionKind, _ lines: [(LedgerAccount, Money)]) throws(TradesKitError) -> LedgerTransaction {
    try LedgerTransaction(kind: kind, jobID: Fixture.jobID, lines: lines, at: Fixture.t1, ids: RandomIDs())
}

private func sum(_ lines: [(LedgerAccount, Money)]) -> Int64 {
    lines.reduce(Int64(0)) { $0 + $1.1.amount }
}

@Suite("Ledger")
struct LedgerTests {
    @Test func transactionRejectsUnbalancedLines() {
        let error = tradesKitError { () throws(TradesKitError) in
            try post(.hold, [(.authorizationsReceivable, Fixture.usd(100)), (.escrowHeld, Fixture.usd(-99))])
        }
        #expect(error?.code == .validationFailed)
        #expect(tradesKitError { () throws(TradesKitError) in try post(.hold, [(.escrowHeld, Fixture.usd(1))]) }?.code == .validationFailed)
    }

    @Test func transactionRejectsMixedCurrencies() {
        let error = tradesKitError { () throws(TradesKitError) in
            try post(.hold, [(.authorizationsReceivable, Fixture.usd(100)), (.escrowHeld, Money(-100, .eur))])
        }
        #expect(error?.code == .currencyMismatch)
    }

    @Test func transactionRejectsOnlyZeroLines() {
        #expect(tradesKitError { () throws(TradesKitError) in try post(.hold, []) }?.code == .validationFailed)
        #expect(tradesKitError { () throws(TradesKitError) in try post(.hold, [(.escrowHeld, Fixture.usd(0))]) }?.code == .validationFailed)
    }

    @Test func transactionDropsZeroLinesAndStampsEveryEntry() throws {
        let transaction = try post(
            .release,
            [
                (.escrowHeld, Fixture.usd(1_000)), (.processorBalance, Fixture.usd(0)), (.platformRevenue, Fixture.usd(-100)),
                (.contractorPayable, Fixture.usd(-900)),
            ])
        #expect(transaction.entries.map(\.account) == [.escrowHeld, .platformRevenue, .contractorPayable])
        #expect(transaction.entries.allSatisfy { $0.amount.amount != 0 })
        #expect(transaction.entries.allSatisfy { $0.transactionID == transaction.id && $0.kind == .release })
        #expect(transaction.entries.allSatisfy { $0.jobID == Fixture.jobID && $0.postedAt == Fixture.t1 })
        #expect(Set(transaction.entries.map(\.id)).count == 3)
        #expect(Ledger.unbalancedTransactions(in: transaction.entries).isEmpty)
    }

    @Test func everyPostingSumsToZeroForManyAmountsAndFees() throws {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<400 {
            let total = Fixture.usd(Int64.random(in: 1...1_000_000_000_000, using: &random))
            let bps = Int.random(in: 0...10_000, using: &random)
            let escrow = Fixture.escrow(status: .captured, amount: total, feeBasisPoints: bps)
            let refund = Fixture.usd(Int64.random(in: 0...total.amount, using: &random))
            let partial = try escrow.payout(of: total.subtracting(refund))
            let release = try escrow.payout(of: total)
            let postings: [(String, [(LedgerAccount, Money)])] = [
                ("hold", Ledger.hold(total)),
                ("capture", Ledger.capture(total)),
                ("void", Ledger.void(total)),
                ("release", Ledger.release(gross: total, contractor: release.contractor, fee: release.fee)),
                ("full refund", Ledger.refund(total)),
                ("partial refund", Ledger.refund(refund)),
                ("partial release", Ledger.release(gross: try total.subtracting(refund), contractor: partial.contractor, fee: partial.fee)),
            ]
            for (name, lines) in postings {
                #expect(sum(lines) == 0, "\(name) of \(total) at \(bps) bps")
                // And the checked constructor agrees.
                let transaction = try post(.release, lines)
                #expect(Ledger.unbalancedTransactions(in: transaction.entries).isEmpty, "\(name) of \(total) at \(bps) bps")
            }
        }
    }

    @Test func unbalancedTransactionsFindsATamperedSet() throws {
        let good = try post(.hold, Ledger.hold(Fixture.usd(5_000)))
        let victim = try post(.capture, Ledger.capture(Fixture.usd(5_000)))
        var tampered = victim.entries
        let first = tampered[0]
        tampered[0] = LedgerEntry(
            id: first.id, transactionID: first.transactionID, kind: first.kind, jobID: first.jobID, account: first.account,
            amount: Fixture.usd(first.amount.amount + 1), postedAt: first.postedAt)
        #expect(Ledger.unbalancedTransactions(in: good.entries + tampered) == [victim.id])
        #expect(Ledger.unbalancedTransactions(in: good.entries + victim.entries).isEmpty)
        // A dropped entry unbalances its set too.
        #expect(Ledger.unbalancedTransactions(in: good.entries + victim.entries.dropLast()) == [victim.id])
    }

    @Test func unbalancedTransactionsFindsMixedCurrenciesThatSumToZero() throws {
        let victim = try post(.hold, Ledger.hold(Fixture.usd(700)))
        let first = victim.entries[0]
        let swapped = LedgerEntry(
            id: first.id, transactionID: first.transactionID, kind: first.kind, jobID: first.jobID, account: first.account,
            amount: Money(first.amount.amount, .eur), postedAt: first.postedAt)
        #expect(Ledger.unbalancedTransactions(in: [swapped] + victim.entries.dropFirst()) == [victim.id])
    }

    @Test func balancesAfterHoldCaptureRelease() throws {
        let total = Fixture.usd(25_000)
        let escrow = Fixture.escrow(status: .captured, amount: total, feeBasisPoints: 1_250)
        let (contractor, fee) = try escrow.payout(of: total)
        let entries = try [
            post(.hold, Ledger.hold(total)),
            post(.capture, Ledger.capture(total)),
            post(.release, Ledger.release(gross: total, contractor: contractor, fee: fee)),
        ].flatMap(\.entries)
        let balances = Ledger.balances(of: entries)
        #expect(fee == Fixture.usd(3_125))
        #expect(balances[.escrowHeld, default: 0] == 0)
        #expect(balances[.authorizationsReceivable, default: 0] == 0)
        #expect(balances[.contractorPayable, default: 0] == 0)
        #expect(balances[.platformRevenue, default: 0] == -3_125)
        #expect(balances[.processorBalance, default: 0] == 3_125)
        #expect(balances.values.reduce(0, +) == 0)
    }

    @Test func balancesAfterHoldAndVoidAreAllZero() throws {
        let total = Fixture.usd(9_999)
        let entries = try [post(.hold, Ledger.hold(total)), post(.void, Ledger.void(total))].flatMap(\.entries)
        #expect(Ledger.balances(of: entries).values.allSatisfy { $0 == 0 })
    }

    @Test func balancesAfterFullRefundLeaveNothingAnywhere() throws {
        let total = Fixture.usd(12_000)
        let entries = try [
            post(.hold, Ledger.hold(total)), post(.capture, Ledger.capture(total)),
            post(.refund, Ledger.refund(total)),
        ].flatMap(\.entries)
        #expect(Ledger.balances(of: entries).values.allSatisfy { $0 == 0 })
    }

    @Test func balancesAfterPartialRefundLeaveOnlyTheFeeOnTheReleasedPart() throws {
        let total = Fixture.usd(20_000)
        let refund = Fixture.usd(5_000)
        let escrow = Fixture.escrow(status: .captured, amount: total, feeBasisPoints: 1_000)
        let (contractor, fee) = try escrow.payout(of: total.subtracting(refund))
        let entries = try [
            post(.hold, Ledger.hold(total)), post(.capture, Ledger.capture(total)), post(.refund, Ledger.refund(refund)),
            post(.release, Ledger.release(gross: total.subtracting(refund), contractor: contractor, fee: fee)),
        ].flatMap(\.entries)
        let balances = Ledger.balances(of: entries)
        #expect(fee == Fixture.usd(1_500))
        #expect(balances[.escrowHeld, default: 0] == 0 && balances[.contractorPayable, default: 0] == 0)
        #expect(balances[.platformRevenue, default: 0] == -1_500 && balances[.processorBalance, default: 0] == 1_500)
        // What went back to the homeowner is the refund transaction's, by kind.
        #expect(entries.filter { $0.kind == .refund && $0.account == .processorBalance }.map(\.amount) == [refund.negated])
    }

    @Test func aReleaseWhoseShareAndFeeDoNotMakeUpTheGrossIsRefused() {
        let error = tradesKitError { () throws(TradesKitError) in
            try post(.release, Ledger.release(gross: Fixture.usd(10_000), contractor: Fixture.usd(9_000), fee: Fixture.usd(999)))
        }
        #expect(error?.code == .validationFailed)
    }
}
