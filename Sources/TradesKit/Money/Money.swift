/// An amount of money: whole minor units (cents) as `Int64` and a currency. Never floating point.
///
/// Arithmetic that mixes currencies or overflows throws instead of producing a wrong amount.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The amount in minor units; negative for credits in the ledger.
    public var amount: Int64
    /// The currency.
    public var currency: Currency

    /// The largest price a user may enter (a budget, a bid): 10¹² minor units, ten billion in a currency with two
    /// decimals. Every amount the marketplace then derives (fees, refunds, ledger lines) is bounded by it, so sums over
    /// millions of ledger lines stay far inside `Int64`.
    public static let maximumPrice: Int64 = 1_000_000_000_000

    /// Creates an amount in minor units.
    public init(_ amount: Int64, _ currency: Currency) {
        self.amount = amount
        self.currency = currency
    }

    /// Zero in `currency`.
    public static func zero(_ currency: Currency) -> Money { Money(0, currency) }

    /// `self + other`, same currency, no overflow.
    public func adding(_ other: Money) throws(TradesKitError) -> Money {
        try requireSameCurrency(other)
        let (sum, overflow) = amount.addingReportingOverflow(other.amount)
        if overflow { throw TradesKitError(.amountOverflow, "Amount out of range") }
        return Money(sum, currency)
    }

    /// `self - other`, same currency, no overflow.
    public func subtracting(_ other: Money) throws(TradesKitError) -> Money {
        try requireSameCurrency(other)
        let (difference, overflow) = amount.subtractingReportingOverflow(other.amount)
        if overflow { throw TradesKitError(.amountOverflow, "Amount out of range") }
        return Money(difference, currency)
    }

    /// The amount with the opposite sign.
    public var negated: Money { Money(0 &- amount, currency) }

    /// A fee of `basisPoints` (1/100 of a percent) of this amount, rounded down so the payee is never short-changed
    /// by rounding.
    public func fee(basisPoints: Int) throws(TradesKitError) -> Money {
        guard (0...10_000).contains(basisPoints) else {
            throw TradesKitError(.validationFailed, "Fee basis points must be between 0 and 10000")
        }
        // amount * bps can overflow Int64 for huge amounts; split to stay exact.
        let quotient = amount / 10_000
        let remainder = amount % 10_000
        let (high, overflow) = quotient.multipliedReportingOverflow(by: Int64(basisPoints))
        if overflow { throw TradesKitError(.amountOverflow, "Amount out of range") }
        return Money(high + (remainder * Int64(basisPoints)) / 10_000, currency)
    }

    private func requireSameCurrency(_ other: Money) throws(TradesKitError) {
        if other.currency != currency {
            throw TradesKitError(.currencyMismatch, "Cannot combine \(currency.code) with \(other.currency.code)")
        }
    }

    /// A human rendering such as `USD 1234.56`; exact, no floating point.
    public var description: String {
        let digits = currency.minorUnitDigits
        let sign = amount < 0 ? "-" : ""
        let magnitude = amount.magnitude
        guard digits > 0 else { return "\(currency.code) \(sign)\(magnitude)" }
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let fraction = String(magnitude % scale)
        let padded = String(repeating: "0", count: digits - fraction.count) + fraction
        return "\(currency.code) \(sign)\(magnitude / scale).\(padded)"
    }
}
