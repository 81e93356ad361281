/// An ISO 4217 currency with its minor-unit exponent.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The three-letter code, e.g. `USD`.
    public let code: String
    /// Digits after the decimal point: 2 for USD, 0 for JPY, 3 for KWD.
    public let minorUnitDigits: Int

    /// The currency for `code` (case-insensitive); `nil` when it is not a supported ISO 4217 code.
    public init?(code: String) {
        // ASCII only: Unicode case mapping would turn look-alikes (such as "uſd") into real codes.
        guard code.utf8.count == 3, code.utf8.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else { return nil }
        let upper = code.uppercased()
        guard let digits = Currency.table[upper] else { return nil }
        self.code = upper
        self.minorUnitDigits = digits
    }

    public var description: String { code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let currency = Currency(code: raw) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Unsupported currency")
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    /// US dollar.
    public static let usd = Currency(known: "USD", digits: 2)
    /// Euro.
    public static let eur = Currency(known: "EUR", digits: 2)
    /// Pound sterling.
    public static let gbp = Currency(known: "GBP", digits: 2)

    private init(known code: String, digits: Int) {
        self.code = code
        self.minorUnitDigits = digits
    }

    /// Supported ISO 4217 codes and their minor-unit digits as ISO 4217 defines them (currencies Stripe settles in; where
    /// Stripe's units differ, such as ISK, its adapter converts).
    static let table: [String: Int] = [
        "AED": 2, "AUD": 2, "BGN": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2,
        "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2,
        "MYR": 2, "NOK": 2, "NZD": 2, "PHP": 2, "PLN": 2, "RON": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2,
        "TRY": 2, "USD": 2, "ZAR": 2, "BHD": 3, "JOD": 3, "OMR": 3, "CLP": 0, "VND": 0,
    ]
}
