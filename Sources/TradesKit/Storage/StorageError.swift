public import Logging

/// What a storage reports when a change set cannot be applied or the database fails.
///
/// Like GRDB's and postgres-nio's errors, its description never includes SQL text or bound values.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An update or expectation found a different version (someone else changed the row first).
        public static let versionConflict = Code(rawValue: "version_conflict")
        /// A unique constraint was hit; ``StorageError/constraint`` names which.
        public static let uniqueViolation = Code(rawValue: "unique_violation")
        /// A row the change set refers to does not exist (in this tenant).
        public static let missingRow = Code(rawValue: "missing_row")
        /// The database could not be reached or the connection was lost.
        public static let unavailable = Code(rawValue: "unavailable")
        /// Anything else the database reported.
        public static let failure = Code(rawValue: "failure")
    }

    /// The code.
    public let code: Code
    /// For unique violations, the constraint: one of the ``UniqueConstraint`` names.
    public let constraint: String?
    /// A short, redacted explanation.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, constraint: String? = nil, message: String) {
        self.code = code
        self.constraint = constraint
        self.message = message
    }

    public var description: String {
        "StorageError(\(code)\(constraint.map { ", constraint: \($0)" } ?? "")): \(message)"
    }
}

extension StorageError {
    /// What a service answers for this error: a race lost too often or a taken unique value is a conflict, a row gone is
    /// not found, anything else means the storage is unavailable. A layer that calls storage itself (a tenant lookup)
    /// answers the same.
    public var serviceError: TradesKitError {
        switch code {
        case .versionConflict:
            TradesKitError(.conflict, "The data changed concurrently too many times; try again")
        case .uniqueViolation:
            TradesKitError(.conflict, Self.uniqueMessage(constraint))
        case .missingRow:
            TradesKitError(.notFound, "The record no longer exists")
        default:
            TradesKitError(.storageUnavailable, "Storage is unavailable")
        }
    }

    /// The level to log it at: conflicts the caller caused or can retry (a second live bid, a taken e-mail address, a row
    /// gone, a race lost too often) are ordinary answers, info; anything else means the storage is in trouble, a
    /// warning. A client repeating a refused request must not flood the warnings.
    public var logLevel: Logger.Level {
        switch code {
        case .uniqueViolation, .missingRow, .versionConflict: .info
        default: .warning
        }
    }

    private static func uniqueMessage(_ constraint: String?) -> String {
        switch constraint {
        case UniqueConstraint.tenantSlug: "A tenant with this slug already exists"
        case UniqueConstraint.userEmail: "An account with this e-mail address already exists"
        case UniqueConstraint.categorySlug: "A category with this slug already exists"
        case UniqueConstraint.liveBid: "You already have a live bid on this job"
        case UniqueConstraint.escrowJob: "This job already has a payment"
        case UniqueConstraint.openDispute: "This job already has an open dispute"
        case UniqueConstraint.reviewAuthor: "You already reviewed this job"
        case UniqueConstraint.twoFactorUser: "Two-factor authentication is already being set up"
        default: "This record already exists"
        }
    }
}

/// The unique constraints every storage enforces, by stable name, so core can map a violation to a message.
public enum UniqueConstraint {
    /// One tenant per slug.
    public static let tenantSlug = "tenant_slug"
    /// One user per e-mail (case-insensitive) per tenant.
    public static let userEmail = "user_email"
    /// One category per slug per tenant.
    public static let categorySlug = "category_slug"
    /// One live (submitted or accepted) bid per contractor per job.
    public static let liveBid = "live_bid"
    /// One escrow per job.
    public static let escrowJob = "escrow_job"
    /// One open dispute per job.
    public static let openDispute = "open_dispute"
    /// One review per author per job.
    public static let reviewAuthor = "review_author"
    /// One refresh token per token hash per tenant.
    public static let refreshTokenHash = "refresh_token_hash"
    /// One one-time token per token hash per tenant.
    public static let oneTimeTokenHash = "one_time_token_hash"
    /// One two-factor enrolment per user.
    public static let twoFactorUser = "two_factor_user"
    /// One login throttle per account key per tenant.
    public static let loginThrottleKey = "login_throttle_key"
    /// Primary keys.
    public static let primaryKey = "primary_key"
}
