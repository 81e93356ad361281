public import Foundation

/// A partner marketplace. All of its data lives under its ``TenantID``.
public struct Tenant: Sendable, Hashable, Codable, Identifiable {
    /// The tenant's id.
    public let id: TenantID
    /// A URL-safe unique name, e.g. `acme-trades` (used in `X-Tenant` headers and `--tenant`).
    public var slug: String
    /// The name shown to people.
    public var displayName: String
    /// Currency, fee, branding and policies.
    public var settings: TenantSettings
    /// When the tenant was created.
    public let createdAt: Date
    /// Optimistic-concurrency version, bumped by every committed update.
    public var version: Int64

    /// Creates a tenant value.
    public init(id: TenantID, slug: String, displayName: String, settings: TenantSettings, createdAt: Date, version: Int64 = 1) {
        self.id = id
        self.slug = slug
        self.displayName = displayName
        self.settings = settings
        self.createdAt = createdAt
        self.version = version
    }
}

/// Per-tenant settings: what the partner decides about their marketplace.
public struct TenantSettings: Sendable, Hashable, Codable {
    /// The currency every job and bid of the tenant uses.
    public var currency: Currency
    /// The platform fee taken from each released payment, in basis points (250 = 2.5 %).
    public var platformFeeBasisPoints: Int
    /// How the marketplace presents itself in e-mails, SMS and pages.
    public var branding: Branding
    /// Time windows and rules.
    public var policies: TenantPolicies

    /// Creates settings.
    public init(currency: Currency, platformFeeBasisPoints: Int, branding: Branding, policies: TenantPolicies = TenantPolicies()) {
        self.currency = currency
        self.platformFeeBasisPoints = platformFeeBasisPoints
        self.branding = branding
        self.policies = policies
    }

    func validate(into validator: inout Validator) {
        validator.range(platformFeeBasisPoints, 0...5_000, field: "platformFeeBasisPoints")
        branding.validate(into: &validator)
        policies.validate(into: &validator)
    }
}

/// White-label presentation of a tenant.
public struct Branding: Sendable, Hashable, Codable {
    /// The marketplace name in messages.
    public var name: String
    /// Primary colour as `#RRGGBB`.
    public var primaryColor: String
    /// Secondary colour as `#RRGGBB`.
    public var secondaryColor: String
    /// An https URL of the logo, if any.
    public var logoURL: String?
    /// The sender address for e-mail.
    public var fromEmail: String
    /// The SMS sender id or number.
    public var smsSender: String?

    /// Creates branding.
    public init(
        name: String, primaryColor: String = "#1F6FEB", secondaryColor: String = "#0B1F33", logoURL: String? = nil,
        fromEmail: String, smsSender: String? = nil
    ) {
        self.name = name
        self.primaryColor = primaryColor
        self.secondaryColor = secondaryColor
        self.logoURL = logoURL
        self.fromEmail = fromEmail
        self.smsSender = smsSender
    }

    func validate(into validator: inout Validator) {
        validator.text(name, field: "branding.name", max: 100)
        for (field, value) in [("branding.primaryColor", primaryColor), ("branding.secondaryColor", secondaryColor)] {
            let isHex = value.count == 7 && value.first == "#" && value.dropFirst().allSatisfy(\.isHexDigit)
            if !isHex { validator.fail(field, "invalid_format", "must be a colour like #1F6FEB") }
        }
        // A URL is printable ASCII: no spaces, no control characters (PostgreSQL refuses NUL in text and JSON outright).
        if let logoURL,
            !(logoURL.hasPrefix("https://") && logoURL.utf8.count <= 2_000 && logoURL.utf8.allSatisfy { (0x21...0x7E).contains($0) })
        {
            validator.fail("branding.logoURL", "invalid_format", "must be an https URL")
        }
        if (try? EmailAddress(fromEmail)) == nil {
            validator.fail("branding.fromEmail", "invalid_format", "must be an e-mail address")
        }
        if let smsSender { validator.text(smsSender, field: "branding.smsSender", max: 20) }
    }
}

/// Rules and windows of a tenant. Durations are in seconds.
public struct TenantPolicies: Sendable, Hashable, Codable {
    /// How long reviews stay hidden waiting for the other party's (default 14 days).
    public var reviewWindowSeconds: Int64
    /// How long after completion a job is approved automatically (default 7 days).
    public var autoApproveAfterSeconds: Int64
    /// Whether a contractor must be vetted (approved) to bid.
    public var vettingRequiredToBid: Bool
    /// Login attempts allowed per account and IP in ``rateLimitWindowSeconds``.
    public var loginAttemptsPerWindow: Int
    /// API requests per user in ``rateLimitWindowSeconds``.
    public var apiRequestsPerUserPerWindow: Int
    /// API requests per IP in ``rateLimitWindowSeconds``.
    public var apiRequestsPerIPPerWindow: Int
    /// The rate-limit window (default 15 minutes).
    public var rateLimitWindowSeconds: Int64

    /// Creates policies; the defaults are the seed's.
    public init(
        reviewWindowSeconds: Int64 = 14 * 86_400, autoApproveAfterSeconds: Int64 = 7 * 86_400,
        vettingRequiredToBid: Bool = false, loginAttemptsPerWindow: Int = 10, apiRequestsPerUserPerWindow: Int = 100,
        apiRequestsPerIPPerWindow: Int = 2_000, rateLimitWindowSeconds: Int64 = 900
    ) {
        self.reviewWindowSeconds = reviewWindowSeconds
        self.autoApproveAfterSeconds = autoApproveAfterSeconds
        self.vettingRequiredToBid = vettingRequiredToBid
        self.loginAttemptsPerWindow = loginAttemptsPerWindow
        self.apiRequestsPerUserPerWindow = apiRequestsPerUserPerWindow
        self.apiRequestsPerIPPerWindow = apiRequestsPerIPPerWindow
        self.rateLimitWindowSeconds = rateLimitWindowSeconds
    }

    func validate(into validator: inout Validator) {
        validator.range(reviewWindowSeconds, 3_600...(90 * 86_400), field: "policies.reviewWindowSeconds")
        validator.range(autoApproveAfterSeconds, 3_600...(60 * 86_400), field: "policies.autoApproveAfterSeconds")
        validator.range(loginAttemptsPerWindow, 1...1_000, field: "policies.loginAttemptsPerWindow")
        validator.range(apiRequestsPerUserPerWindow, 1...1_000_000, field: "policies.apiRequestsPerUserPerWindow")
        validator.range(apiRequestsPerIPPerWindow, 1...1_000_000, field: "policies.apiRequestsPerIPPerWindow")
        validator.range(rateLimitWindowSeconds, 1...86_400, field: "policies.rateLimitWindowSeconds")
    }
}

extension TenantSettings {
    /// Settings decoded from the JSON text a storage keeps them in, remembered by that text.
    ///
    /// Most writes read their tenant's row (for its currency and policies), and decoding the settings with
    /// `JSONDecoder` was a twentieth of the CPU of submitting a bid; the text of a tenant's settings changes rarely,
    /// and equal texts decode to equal settings, so the memo changes nothing a caller can see.
    public static func decoded(fromStoredJSON text: String) throws -> TenantSettings {
        if let settings = SettingsMemo.shared.settings(for: text) { return settings }
        let settings = try JSONDecoder().decode(TenantSettings.self, from: Data(text.utf8))
        SettingsMemo.shared.remember(settings, for: text)
        return settings
    }
}

/// The decoded settings of the most recently read settings texts; at most ``capacity`` of them (emptied when full, so a
/// stream of different texts costs what decoding each costs, never memory).
private final class SettingsMemo: @unchecked Sendable {
    static let shared = SettingsMemo()
    private static let capacity = 256
    private let lock = NSLock()
    // Guarded by `lock`.
    private var entries: [String: TenantSettings] = [:]

    func settings(for text: String) -> TenantSettings? { lock.withLock { entries[text] } }

    func remember(_ settings: TenantSettings, for text: String) {
        lock.withLock {
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[text] = settings
        }
    }
}
