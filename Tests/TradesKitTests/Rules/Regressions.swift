import Foundation
import Testing
import TradesKit

// Tests that assert the correct behaviour of rules that core gets wrong today. They fail on purpose until core is fixed;
// each names the file and function at fault. Delete nothing here to make the suite green: fix core.

@Suite("Regressions found in core")
struct Regressions {
    /// Support/Clock.swift, `Date.truncatedToMilliseconds`: it floors `timeIntervalSince1970 * 1000`, but a date built from whole
    /// milliseconds is stored as a binary double that is often a hair below the exact value (e.g. 0.999 s → 998.9999… ms), so
    /// truncating an already-whole-millisecond date loses a millisecond. Truncation must be the identity on whole milliseconds.
    @Test func truncatingAWholeMillisecondDateKeepsIt() {
        let date = Date(millisecondsSince1970: 999)
        #expect(date.truncatedToMilliseconds.millisecondsSince1970 == 999)
        #expect(date.truncatedToMilliseconds == date)
    }

    @Test func truncationIsTheIdentityOnWholeMillisecondsForManyValues() {
        var random = SeededGenerator(seed: 99)
        let values = [Int64(999)] + (0..<2_000).map { _ in Int64.random(in: 0...4_102_444_800_000, using: &random) }
        let wrong = values.filter { Date(millisecondsSince1970: $0).truncatedToMilliseconds.millisecondsSince1970 != $0 }
        #expect(
            wrong.count == 0,
            "e.g. \(wrong.prefix(3).map { "\($0) → \(Date(millisecondsSince1970: $0).truncatedToMilliseconds.millisecondsSince1970)" })")
    }

    /// Money/Ledger.swift, `Ledger.unbalancedTransactions(in:)`: it sums with wrapping `&+=`, so a tampered set whose amounts
    /// overflow `Int64` and wrap to exactly zero is reported as balanced.
    @Test func unbalancedTransactionsIsNotFooledByOverflow() {
        let transaction = LedgerTransactionID(UUID())
        let amounts: [Int64] = [.max, .max, 2]  // really 2^64, wraps to 0
        let entries = amounts.enumerated().map { index, amount in
            LedgerEntry(
                id: LedgerEntryID(UUID()), transactionID: transaction, kind: .hold, jobID: Fixture.jobID,
                account: index == 2 ? .escrowHeld : .authorizationsReceivable, amount: Fixture.usd(amount), postedAt: Fixture.t0)
        }
        #expect(Ledger.unbalancedTransactions(in: entries) == [transaction])
    }
}
