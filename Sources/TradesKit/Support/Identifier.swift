public import Foundation

/// A typed identifier: a UUID that knows what it names, so a `JobID` can never be passed where a `BidID` is expected.
public struct Identifier<Tag>: Hashable, Sendable, Comparable {
    /// The underlying UUID.
    public let rawValue: UUID

    /// Wraps an existing UUID.
    public init(_ rawValue: UUID) { self.rawValue = rawValue }

    /// Parses a UUID string; `nil` when it is not one.
    public init?(uuidString: String) {
        guard let uuid = UUID(canonicalText: uuidString) else { return nil }
        self.rawValue = uuid
    }

    /// The canonical lower-case UUID string.
    public var uuidString: String { rawValue.lowercasedString }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue.isOrderedBefore(rhs.rawValue) }
}

extension Identifier: CustomStringConvertible {
    public var description: String { uuidString }
}

extension Identifier: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let uuid = UUID(canonicalText: string) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a UUID")
        }
        self.rawValue = uuid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(uuidString)
    }
}

extension UUID {
    /// Byte-wise order, which for UUIDv7 is creation order.
    func isOrderedBefore(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { lhs in
            withUnsafeBytes(of: other.uuid) { rhs in
                lhs.lexicographicallyPrecedes(rhs)
            }
        }
    }
}

public enum TenantTag {}
public enum UserTag {}
public enum CategoryTag {}
public enum JobTag {}
public enum BidTag {}
public enum EscrowTag {}
public enum LedgerTransactionTag {}
public enum LedgerEntryTag {}
public enum DisputeTag {}
public enum ReviewTag {}
public enum MessageTag {}
public enum EventTag {}
public enum RefreshTokenTag {}
public enum RefreshTokenFamilyTag {}
public enum OneTimeTokenTag {}

/// Identifies a tenant (a partner marketplace). Every tenant-scoped storage call needs one.
public typealias TenantID = Identifier<TenantTag>
/// Identifies a user within a tenant.
public typealias UserID = Identifier<UserTag>
/// Identifies a trade category within a tenant.
public typealias CategoryID = Identifier<CategoryTag>
/// Identifies a job.
public typealias JobID = Identifier<JobTag>
/// Identifies a bid.
public typealias BidID = Identifier<BidTag>
/// Identifies an escrow record.
public typealias EscrowID = Identifier<EscrowTag>
/// Identifies one balanced set of ledger entries.
public typealias LedgerTransactionID = Identifier<LedgerTransactionTag>
/// Identifies one ledger entry.
public typealias LedgerEntryID = Identifier<LedgerEntryTag>
/// Identifies a dispute.
public typealias DisputeID = Identifier<DisputeTag>
/// Identifies a review.
public typealias ReviewID = Identifier<ReviewTag>
/// Identifies a message.
public typealias MessageID = Identifier<MessageTag>
/// Identifies a domain event in the outbox.
public typealias EventID = Identifier<EventTag>
/// Identifies one refresh token.
public typealias RefreshTokenID = Identifier<RefreshTokenTag>
/// Identifies a refresh-token family: every token rotated from one login.
public typealias RefreshTokenFamilyID = Identifier<RefreshTokenFamilyTag>
/// Identifies a single-use token (e-mail verification, password reset).
public typealias OneTimeTokenID = Identifier<OneTimeTokenTag>
