public import Foundation

/// A person in a tenant: homeowner, contractor or admin.
public struct User: Sendable, Hashable, Codable, Identifiable {
    /// The user's id.
    public let id: UserID
    /// The e-mail address; unique per tenant, compared case-insensitively.
    public var email: EmailAddress
    /// The name shown to other users.
    public var displayName: String
    /// An optional phone number in E.164.
    public var phone: PhoneNumber?
    /// The user's role.
    public var role: Role
    /// The stored password hash, produced by a ``PasswordHasher``; `nil` when no password is set.
    public var passwordHash: String?
    /// Whether the e-mail address was verified.
    public var emailVerified: Bool
    /// Whether the account is suspended (a suspended user can do nothing).
    public var suspended: Bool
    /// When the user registered.
    public let createdAt: Date
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a user value.
    public init(
        id: UserID, email: EmailAddress, displayName: String, phone: PhoneNumber? = nil, role: Role,
        passwordHash: String? = nil, emailVerified: Bool = false, suspended: Bool = false, createdAt: Date, version: Int64 = 1
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.phone = phone
        self.role = role
        self.passwordHash = passwordHash
        self.emailVerified = emailVerified
        self.suspended = suspended
        self.createdAt = createdAt
        self.version = version
    }
}

extension User: CustomStringConvertible {
    /// Identifies the user without personal data.
    public var description: String { "User(\(id), \(role.rawValue))" }
}

/// A syntactically valid e-mail address. Its description is redacted so it cannot leak into logs.
public struct EmailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The address as given (trimmed).
    public let value: String
    /// The lower-cased form used for uniqueness.
    public var normalized: String { value.lowercased() }

    /// Validates and wraps an address.
    public init(_ raw: String) throws(TradesKitError) {
        let value = raw.trimmingCharacters(in: .whitespaces)
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        let valid =
            value.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[0].count <= 64
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".") && !parts[1].contains("..")
            && value.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0 != "<" && $0 != ">" && $0 != "," && $0 != ";" }
        guard valid else {
            throw TradesKitError.validation([FieldError(field: "email", code: "invalid_format", message: "must be an e-mail address")])
        }
        self.value = value
    }

    public var description: String { "<redacted e-mail>" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try EmailAddress(try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// A phone number in E.164 (`+` and 8–15 digits). Its description is redacted.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The E.164 string.
    public let value: String

    /// Validates and wraps a number.
    public init(_ raw: String) throws(TradesKitError) {
        let value = raw.trimmingCharacters(in: .whitespaces)
        let digits = value.dropFirst()
        guard value.first == "+", (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" else {
            throw TradesKitError.validation([
                FieldError(field: "phone", code: "invalid_format", message: "must be in E.164 format, e.g. +14155550123")
            ])
        }
        self.value = value
    }

    public var description: String { "<redacted phone>" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try PhoneNumber(try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Hashes and verifies passwords. The server plugs in bcrypt; TradesKitTesting has a fast fake.
public protocol PasswordHasher: Sendable {
    /// A salted hash of `password` for storage.
    func hash(_ password: String) async throws -> String
    /// Whether `password` matches `hash`.
    func verify(_ password: String, against hash: String) async throws -> Bool
}
