import Foundation
import Testing
import TradesKit

// Tests that assert the correct behaviour of rules that core gets wrong today. They fail on purpose until core is fixed;
// each names the file and function at fault. Delete nothing here to make the suite green: fix core.

@Suite("Known bugs in core")
struct KnownBugs {
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
        #expect(wrong.count == 0, "e.g. \(wrong.prefix(3).map { "\($0) → \(Date(millisecondsSince1970: $0).truncatedToMilliseconds.millisecondsSince1970)" })")
    }

    /// Money/Ledger.swift, `Ledger.unbalancedTransactions(in:)`: it sums with wrapping `&+=`, so a tampered set whose amounts
    /// overflow `Int64` and wrap to exactly zero is reported as balanced.
    @Test func unbalancedTransactionsIsNotFooledByOverflow() {
        let transaction = LedgerTransactionID(UUID())
        let amounts: [Int64] = [.max, .max, 2]  // really 2^64, wraps to 0
        let entries = amounts.enumerated().map { index, amount in
            LedgerEntry(id: LedgerEntryID(UUID()), transactionID: transaction, kind: .hold, jobID: Fixture.jobID,
                        account: index == 2 ? .escrowHeld : .authorizationsReceivable, amount: Fixture.usd(amount), postedAt: Fixture.t0)
        }
        #expect(Ledger.unbalancedTransactions(in: entries) == [transaction])
    }

    /// Money/Money.swift, `Money.description`: its doc comment promises "a human rendering such as `USD 1,234.56`", but it
    /// renders `USD 1234.56` (no digit grouping). Either the code or the doc comment is wrong; this asserts the documented form.
    @Test("Money.description groups thousands as documented",
          arguments: [
              (Money(123_456, .usd), "USD 1,234.56"),
              (Money(-123_456_789, .usd), "USD -1,234,567.89"),
              (Money(1_234, Currency(code: "JPY")!), "JPY 1,234"),
              (Money(1_234_567, Currency(code: "KWD")!), "KWD 1,234.567"),
              (Money(.max, .usd), "USD 92,233,720,368,547,758.07"),
          ])
    func moneyDescriptionGroupsThousands(money: Money, text: String) {
        #expect(money.description == text)
    }
}
