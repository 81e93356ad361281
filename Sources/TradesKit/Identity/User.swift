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
    /// The generation of the user's sessions: every credential names the generation it was issued in (see
    /// ``Principal/sessionGeneration``), and incrementing it ends them all at once, access tokens included. Logout,
    /// a password reset, a reused refresh token and a suspension increment it.
    public var sessionGeneration: Int64
    /// Which channels the user wants the marketplace's notices by (both, unless they turned one off).
    public var notifications: NotificationPreferences
    /// When the user registered.
    public let createdAt: Date
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a user value.
    public init(
        id: UserID, email: EmailAddress, displayName: String, phone: PhoneNumber? = nil, role: Role,
        passwordHash: String? = nil, emailVerified: Bool = false, suspended: Bool = false, sessionGeneration: Int64 = 0,
        notifications: NotificationPreferences = NotificationPreferences(), createdAt: Date, version: Int64 = 1
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.phone = phone
        self.role = role
        self.passwordHash = passwordHash
        self.emailVerified = emailVerified
        self.suspended = suspended
        self.sessionGeneration = sessionGeneration
        self.notifications = notifications
        self.createdAt = createdAt
        self.version = version
    }

    /// Decodes a user, as encoded by this version or by one before notification preferences (then both channels on).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(UserID.self, forKey: .id), email: try container.decode(EmailAddress.self, forKey: .email),
            displayName: try container.decode(String.self, forKey: .displayName),
            phone: try container.decodeIfPresent(PhoneNumber.self, forKey: .phone), role: try container.decode(Role.self, forKey: .role),
            passwordHash: try container.decodeIfPresent(String.self, forKey: .passwordHash),
            emailVerified: try container.decode(Bool.self, forKey: .emailVerified), suspended: try container.decode(Bool.self, forKey: .suspended),
            sessionGeneration: try container.decode(Int64.self, forKey: .sessionGeneration),
            notifications: try container.decodeIfPresent(NotificationPreferences.self, forKey: .notifications) ?? NotificationPreferences(),
            createdAt: try container.decode(Date.self, forKey: .createdAt), version: try container.decode(Int64.self, forKey: .version))
    }
}

/// The channels a user wants the marketplace's notices by (``NotificationService``). Both are on until the user turns
/// one off; a channel also needs what it sends to (a verified address, a phone number).
public struct NotificationPreferences: Sendable, Hashable, Codable {
    /// Notices by e-mail.
    public var email: Bool
    /// Notices by SMS.
    public var sms: Bool

    /// Creates preferences (both channels on by default).
    public init(email: Bool = true, sms: Bool = true) {
        self.email = email
        self.sms = sms
    }
}

extension User {
    /// Ends every session of the user: ``sessionGeneration`` moves on, so credentials issued before stop working.
    mutating func endSessions() { sessionGeneration &+= 1 }
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
        let value = Self.trimmed(raw)
        guard Self.isValid(value.utf8) else {
            throw TradesKitError.validation([FieldError(field: "email", code: "invalid_format", message: "must be an e-mail address")])
        }
        self.value = value
    }

    /// `raw` without surrounding blanks. Every stored address (decoded from storage on each request) has none, and
    /// is answered without Foundation.
    private static func trimmed(_ raw: String) -> String {
        guard let first = raw.utf8.first, let last = raw.utf8.last, first > 32, first < 0x80, last > 32, last < 0x80 else {
            return raw.trimmingCharacters(in: .whitespaces)
        }
        return raw
    }

    /// One `@` between a local part of 1…64 characters and a domain with a dot that neither starts nor ends it and
    /// never doubles; at most 254 characters, printable ASCII only, none of `<>,;`.
    private static func isValid(_ bytes: String.UTF8View) -> Bool {
        var length = 0
        var at: Int?
        var domainHasDot = false
        var previous: UInt8 = 0
        for byte in bytes {
            guard byte > 32, byte < 0x80 else { return false }
            switch byte {
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ";"): return false
            case UInt8(ascii: "@"):
                guard at == nil else { return false }
                at = length
            case UInt8(ascii: "."):
                if at != nil {
                    // A domain starting with a dot, or two dots in a row.
                    if previous == UInt8(ascii: "@") || previous == UInt8(ascii: ".") { return false }
                    domainHasDot = true
                }
            default: break
            }
            previous = byte
            length += 1
        }
        guard let at, length <= 254, (1...64).contains(at), domainHasDot, previous != UInt8(ascii: ".") else { return false }
        return true
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
    /// Whether `hash` was made with other parameters than ``hash(_:)`` uses now (an older bcrypt cost, say). A sign-in
    /// with the right password then stores a new hash; until then a wrong password checked against it waits as long as
    /// a check with the current parameters takes, so the account does not answer measurably faster than an unknown
    /// address (which is checked against a hash made with the current parameters).
    func needsRehash(_ hash: String) -> Bool
}

extension PasswordHasher {
    /// Never: a hasher with a single set of parameters.
    public func needsRehash(_ hash: String) -> Bool { false }
}
