public import Foundation

/// The accounts of the per-tenant double-entry ledger. Debits are positive amounts, credits negative.
public enum LedgerAccount: String, Sendable, Hashable, Codable, CaseIterable {
    /// Money authorised on a homeowner's card but not yet collected (asset).
    case authorizationsReceivable = "authorizations_receivable"
    /// Money collected and sitting at the payment processor (asset).
    case processorBalance = "processor_balance"
    /// What the platform holds on behalf of homeowners until work is approved (liability).
    case escrowHeld = "escrow_held"
    /// What is owed to contractors (liability), paid out by transfer.
    case contractorPayable = "contractor_payable"
    /// The platform's fees (revenue).
    case platformRevenue = "platform_revenue"
}

/// What a set of ledger entries records.
public enum LedgerTransactionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A bid was accepted and the money authorised.
    case hold
    /// Work started and the money was collected.
    case capture
    /// The hold was voided.
    case void
    /// The money was paid to the contractor, minus the fee.
    case release
    /// Money was returned to the homeowner.
    case refund
}

/// One line of the ledger.
public struct LedgerEntry: Sendable, Hashable, Codable, Identifiable {
    /// The entry's id.
    public let id: LedgerEntryID
    /// The balanced set it belongs to.
    public let transactionID: LedgerTransactionID
    /// What the set records.
    public let kind: LedgerTransactionKind
    /// The job the money belongs to.
    public let jobID: JobID
    /// The account.
    public let account: LedgerAccount
    /// Positive for a debit, negative for a credit.
    public let amount: Money
    /// When it was posted.
    public let postedAt: Date

    /// Creates an entry.
    public init(
        id: LedgerEntryID, transactionID: LedgerTransactionID, kind: LedgerTransactionKind, jobID: JobID, account: LedgerAccount,
        amount: Money, postedAt: Date
    ) {
        self.id = id
        self.transactionID = transactionID
        self.kind = kind
        self.jobID = jobID
        self.account = account
        self.amount = amount
        self.postedAt = postedAt
    }
}

/// A balanced set of ledger entries. It cannot be built unbalanced: the entries sum to zero in one currency.
public struct LedgerTransaction: Sendable, Hashable {
    /// The set's id.
    public let id: LedgerTransactionID
    /// The entries, summing to zero.
    public let entries: [LedgerEntry]

    /// Builds a balanced set from `(account, signed amount)` lines, dropping zero lines.
    public init(kind: LedgerTransactionKind, jobID: JobID, lines: [(LedgerAccount, Money)], at now: Date, ids: any IDGenerator) throws(TradesKitError)
    {
        let nonZero = lines.filter { $0.1.amount != 0 }
        guard let currency = nonZero.first?.1.currency else {
            throw TradesKitError(.validationFailed, "A ledger transaction needs at least one non-zero line")
        }
        guard nonZero.allSatisfy({ $0.1.currency == currency }) else {
            throw TradesKitError(.currencyMismatch, "Ledger lines must share one currency")
        }
        guard Ledger.sumsToZero(nonZero.map(\.1.amount)) else { throw TradesKitError(.validationFailed, "Ledger lines must balance") }
        let id: LedgerTransactionID = ids.make()
        self.id = id
        self.entries = nonZero.map { account, amount in
            LedgerEntry(id: ids.make(), transactionID: id, kind: kind, jobID: jobID, account: account, amount: amount, postedAt: now)
        }
    }
}

/// The postings of each money movement. One place defines what each movement does to which account.
public enum Ledger {
    /// Authorisation: the platform may collect `amount` and owes it to escrow.
    public static func hold(_ amount: Money) -> [(LedgerAccount, Money)] {
        [(.authorizationsReceivable, amount), (.escrowHeld, amount.negated)]
    }

    /// Capture: the authorised money is now at the processor.
    public static func capture(_ amount: Money) -> [(LedgerAccount, Money)] {
        [(.processorBalance, amount), (.authorizationsReceivable, amount.negated)]
    }

    /// Void: the authorisation lapses; escrow owes nothing.
    public static func void(_ amount: Money) -> [(LedgerAccount, Money)] {
        [(.escrowHeld, amount), (.authorizationsReceivable, amount.negated)]
    }

    /// Refund after capture: `refund` of the collected money goes back to the homeowner.
    public static func refund(_ refund: Money) -> [(LedgerAccount, Money)] {
        [(.escrowHeld, refund), (.processorBalance, refund.negated)]
    }

    /// Release after capture: `gross` of the collected money is released; the `contractor`'s share is owed to them and
    /// paid out of the processor balance by the transfer, and the `fee` is the platform's revenue. (A share and fee that
    /// do not make up `gross` do not balance, and ``LedgerTransaction`` refuses them.)
    public static func release(gross: Money, contractor: Money, fee: Money) -> [(LedgerAccount, Money)] {
        [
            (.escrowHeld, gross),
            (.platformRevenue, fee.negated),
            (.contractorPayable, contractor.negated), (.contractorPayable, contractor), (.processorBalance, contractor.negated),
        ]
    }

    /// Settlement after capture as one set of postings, refund and release together.
    @available(*, deprecated, message: "Post a partial refund as two transactions: Ledger.refund(_:) and Ledger.release(gross:contractor:fee:)")
    public static func settle(total: Money, refund: Money, contractor: Money, fee: Money) -> [(LedgerAccount, Money)] {
        let gross = Money(total.amount &- refund.amount, total.currency)
        return Self.refund(refund) + release(gross: gross, contractor: contractor, fee: fee)
    }

    /// Whether entries balance per transaction: the ids of any set that does not sum to zero.
    public static func unbalancedTransactions(in entries: [LedgerEntry]) -> [LedgerTransactionID] {
        var amounts: [LedgerTransactionID: [Int64]] = [:]
        var currencies: [LedgerTransactionID: Set<Currency>] = [:]
        for entry in entries {
            amounts[entry.transactionID, default: []].append(entry.amount.amount)
            currencies[entry.transactionID, default: []].insert(entry.amount.currency)
        }
        return amounts.filter { !sumsToZero($0.value) || (currencies[$0.key]?.count ?? 0) > 1 }.map(\.key).sorted()
    }

    /// Whether `amounts` sum to exactly zero, computed without overflow (a wrapped sum could hide an imbalance).
    public static func sumsToZero(_ amounts: [Int64]) -> Bool {
        var low: Int64 = 0
        var carry = 0
        for amount in amounts {
            let (sum, overflow) = low.addingReportingOverflow(amount)
            if overflow { carry += amount > 0 ? 1 : -1 }
            low = sum
        }
        return low == 0 && carry == 0
    }

    /// Balances per account, in one currency.
    public static func balances(of entries: [LedgerEntry]) -> [LedgerAccount: Int64] {
        entries.reduce(into: [:]) { $0[$1.account, default: 0] &+= $1.amount.amount }
    }
}
