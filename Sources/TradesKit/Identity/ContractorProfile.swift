public import Foundation

/// What a contractor offers and where: trades, service area, licence, insurance and vetting.
public struct ContractorProfile: Sendable, Hashable, Codable {
    /// The contractor's user id.
    public let userID: UserID
    /// A short public description of the business.
    public var headline: String
    /// The trade categories the contractor works in; bids are only allowed on jobs in these.
    public var trades: [CategoryID]
    /// Where the contractor works; bids are only allowed on jobs inside it.
    public var serviceArea: GeoCircle
    /// The trade licence, if any.
    public var licence: Licence?
    /// When the liability insurance expires, if known.
    public var insuranceExpiresAt: Date?
    /// The background-check and vetting status, set by an admin.
    public var vetting: VettingStatus
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a profile value.
    public init(
        userID: UserID, headline: String = "", trades: [CategoryID], serviceArea: GeoCircle, licence: Licence? = nil,
        insuranceExpiresAt: Date? = nil, vetting: VettingStatus = .pending, version: Int64 = 1
    ) {
        self.userID = userID
        self.headline = headline
        self.trades = trades
        self.serviceArea = serviceArea
        self.licence = licence
        self.insuranceExpiresAt = insuranceExpiresAt
        self.vetting = vetting
        self.version = version
    }
}

/// A trade licence.
public struct Licence: Sendable, Hashable, Codable {
    /// The licence number.
    public var number: String
    /// The issuing region, e.g. `CA` or `England`.
    public var region: String
    /// When it expires.
    public var expiresAt: Date

    /// Creates a licence.
    public init(number: String, region: String, expiresAt: Date) {
        self.number = number
        self.region = region
        self.expiresAt = expiresAt
    }
}

/// The outcome of vetting a contractor.
public enum VettingStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Not checked yet.
    case pending
    /// Checked and approved.
    case approved
    /// Checked and rejected.
    case rejected
}

/// A contractor's rating from visible reviews.
public struct RatingSummary: Sendable, Hashable, Codable {
    /// How many visible reviews.
    public var count: Int
    /// The sum of their ratings; the average is `ratingSum / count`.
    public var ratingSum: Int

    /// Creates a summary.
    public init(count: Int, ratingSum: Int) {
        self.count = count
        self.ratingSum = ratingSum
    }

    /// The average in hundredths (e.g. 467 for 4.67), exact and integer; `nil` when there is no review.
    public var averageHundredths: Int? { count == 0 ? nil : (ratingSum * 100 + count / 2) / count }
}
