import Foundation
import HTTPTypes
import TradesKit

/// The caller's own account (`GET /v1/me`). Never the password hash.
struct AccountResponse: Encodable {
    let id: UserID
    let email: String
    let displayName: String
    let phone: String?
    let role: Role
    let emailVerified: Bool
    let suspended: Bool
    let notifications: NotificationPreferences
    let createdAt: Date

    init(_ user: User) {
        id = user.id
        email = user.email.value
        displayName = user.displayName
        phone = user.phone?.value
        role = user.role
        emailVerified = user.emailVerified
        suspended = user.suspended
        notifications = user.notifications
        createdAt = user.createdAt
    }
}

/// What any member of the tenant may see about a user.
struct PublicUserResponse: Encodable {
    let id: UserID
    let displayName: String
    let role: Role
    let rating: RatingResponse
    let contractorProfile: ContractorProfileResponse?

    init(_ user: PublicUser) {
        id = user.id
        displayName = user.displayName
        role = user.role
        rating = RatingResponse(user.rating)
        contractorProfile = user.contractorProfile.map(ContractorProfileResponse.init)
    }
}

/// A rating summary; the average is in hundredths (467 for 4.67), exact.
struct RatingResponse: Encodable {
    let count: Int
    let averageHundredths: Int?

    init(_ rating: RatingSummary) {
        count = rating.count
        averageHundredths = rating.averageHundredths
    }
}

/// A contractor's profile.
struct ContractorProfileResponse: Encodable {
    let userId: UserID
    let headline: String
    let trades: [CategoryID]
    let serviceArea: GeoCircle
    let licence: LicenceResponse?
    let insuranceExpiresAt: Date?
    let vetting: VettingStatus
    /// What an admin's vetting decision names as `expectedVersion`.
    let version: Int64

    init(_ profile: ContractorProfile) {
        userId = profile.userID
        headline = profile.headline
        trades = profile.trades
        serviceArea = profile.serviceArea
        licence = profile.licence.map(LicenceResponse.init)
        insuranceExpiresAt = profile.insuranceExpiresAt
        vetting = profile.vetting
        version = profile.version
    }
}

/// A trade licence.
struct LicenceResponse: Encodable {
    let number: String
    let region: String
    let expiresAt: Date

    init(_ licence: Licence) {
        number = licence.number
        region = licence.region
        expiresAt = licence.expiresAt
    }
}

/// A user as an admin lists them.
struct AdminUserResponse: Encodable {
    let id: UserID
    let email: String
    let displayName: String
    let role: Role
    let emailVerified: Bool
    let suspended: Bool
    let createdAt: Date

    init(_ user: User) {
        id = user.id
        email = user.email.value
        displayName = user.displayName
        role = user.role
        emailVerified = user.emailVerified
        suspended = user.suspended
        createdAt = user.createdAt
    }
}

/// What a login or a refresh answers: a new access token and the session's next refresh token.
struct TokenResponse: Encodable {
    let accessToken: String
    let tokenType = "Bearer"
    /// Seconds until the access token expires.
    let expiresIn: Int64
    /// The only copy of the refresh token: core stores its hash.
    let refreshToken: String

    init(_ token: IssuedAccessToken, refreshToken: String) {
        accessToken = token.token
        expiresIn = token.expiresIn
        self.refreshToken = refreshToken
    }
}

/// What two-factor enrolment answers: the secret to type in, or the URI to show as a QR code.
struct TwoFactorSetupResponse: Encodable {
    let secret: String
    let otpauthUri: String

    init(_ setup: IdentityService.TwoFactorSetup) {
        secret = setup.secret
        otpauthUri = setup.provisioningURI
    }
}
