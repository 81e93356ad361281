public import Foundation
import NIOConcurrencyHelpers
import HTTPTypes
import JWTKit
public import TradesKit

/// Issues and verifies access tokens: the only type that knows about JWTs.
///
/// Tokens are HS256 JWTs signed with the configured secret. Verification accepts exactly one algorithm: the header is
/// read first and anything but `{"alg":"HS256"}` (optionally with `typ: JWT`) is refused before any key is used, so
/// `alg: none`, other HMAC strengths and public-key algorithms cannot be smuggled in. Then jwt-kit checks the
/// signature, and this type checks every claim against its injected clock: `iss`, `aud`, `exp`, `iat` (not in the
/// future, lifetime not longer than configured), `sub`, `tid`, `role` and `sgn`.
///
/// Refresh tokens, revocation and second factors belong to the identity service; a login that has one answers its
/// refresh token next to the access token this type issues (see ``IssuedAccessToken``). An access token carries the
/// user's session generation (`sgn`) into its ``TradesKit/Principal``, and core refuses it once the user's generation
/// has moved on (logout, password reset, a reused refresh token, a suspension): revocation without a list here.
public struct TokenAuthority: Sendable {
    /// Why a token was refused: for logs and tests, never for clients (they all get one 401).
    public enum Rejection: Error, Sendable, Hashable {
        /// Not three base64url parts with a JSON header.
        case malformed
        /// A header other than `{"alg":"HS256"}` (with an optional `typ: JWT`).
        case algorithmNotAllowed
        /// The signature does not match, or the claims do not decode.
        case badSignature
        /// `iss` is not this server's.
        case wrongIssuer
        /// `aud` is not exactly this API.
        case wrongAudience
        /// `exp` has passed.
        case expired
        /// `iat` is later than now plus a minute of skew.
        case issuedInFuture
        /// `exp - iat` is longer than the configured lifetime.
        case lifetimeTooLong
        /// `sub`, `tid`, `role` or `sgn` is not a user id, tenant id, role or session generation.
        case badSubject
    }

    /// Why a token could not be issued.
    public enum IssueError: Error, Sendable, Hashable {
        /// The principal has no ``TradesKit/Principal/sessionGeneration``: a token without one could not be revoked. Issue
        /// tokens for ``TradesKit/Principal/init(tenantID:user:)``.
        case noSessionGeneration
    }

    /// The only algorithm issued and accepted.
    public static let algorithm = "HS256"
    /// Clock skew tolerated for `iat`.
    static let leeway: TimeInterval = 60

    private let keys: JWTKeyCollection
    private let clock: any WallClock
    private let verified = VerifiedTokens()
    /// The `iss` claim.
    public let issuer: String
    /// The `aud` claim.
    public let audience: String
    /// Lifetime of access tokens, in seconds.
    public let lifetime: Int64

    /// Creates an authority signing with `key` (at least 32 bytes).
    public init(key: [UInt8], issuer: String, audience: String, lifetime: Int64 = 900, clock: any WallClock) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: key), digestAlgorithm: .sha256)
        self.keys = keys
        self.clock = clock
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
    }

    /// A new access token for `principal`, which must name its session generation.
    /// - Throws: ``IssueError/noSessionGeneration``.
    public func issue(for principal: Principal) async throws -> IssuedAccessToken {
        guard let generation = principal.sessionGeneration else { throw IssueError.noSessionGeneration }
        // Whole seconds: JWT times are seconds, and a fractional `iat` would round differently on the way back.
        let issuedAt = Date(timeIntervalSince1970: clock.now().timeIntervalSince1970.rounded(.down))
        let expiresAt = issuedAt.addingTimeInterval(TimeInterval(lifetime))
        let claims = AccessTokenClaims(
            iss: IssuerClaim(value: issuer), aud: AudienceClaim(value: [audience]), exp: ExpirationClaim(value: expiresAt),
            iat: IssuedAtClaim(value: issuedAt), sub: SubjectClaim(value: principal.userID.uuidString),
            tid: principal.tenantID.uuidString, role: principal.role.rawValue, sgn: generation)
        let token = try await keys.sign(claims)
        return IssuedAccessToken(token: token, expiresIn: lifetime, expiresAt: expiresAt)
    }

    /// The principal of a valid token, or a ``Rejection``.
    ///
    /// A token that passed every check is remembered until it expires (a bounded cache keyed by the whole token), so a
    /// client's next requests with it cost a dictionary lookup and the expiry check instead of parsing and verifying
    /// the JWT again: that was about a tenth of the server's CPU per API request. Only tokens this authority verified
    /// enter the cache, and `exp` is checked against the clock on every use.
    public func verify(_ token: String) async throws(Rejection) -> Principal {
        let now = clock.now()
        if let known = verified.principal(of: token, at: now) { return try known.get() }
        let principal = try await verifyAnew(token, at: now)
        return principal
    }

    private func verifyAnew(_ token: String, at now: Date) async throws(Rejection) -> Principal {
        try Self.checkHeader(of: token)
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw .badSignature
        }
        guard claims.iss.value == issuer else { throw .wrongIssuer }
        guard claims.aud.value == [audience] else { throw .wrongAudience }
        guard now < claims.exp.value else { throw .expired }
        guard claims.iat.value <= now.addingTimeInterval(Self.leeway) else { throw .issuedInFuture }
        guard claims.exp.value.timeIntervalSince(claims.iat.value) <= TimeInterval(lifetime) + 1 else { throw .lifetimeTooLong }
        guard let user = UserID(uuidString: claims.sub.value), let tenant = TenantID(uuidString: claims.tid),
            let role = Role(rawValue: claims.role), claims.sgn >= 0
        else { throw .badSubject }
        let principal = Principal(tenantID: tenant, userID: user, role: role, sessionGeneration: claims.sgn)
        verified.remember(token, principal, until: claims.exp.value)
        return principal
    }

    /// Refuses every header but `{"alg":"HS256"}` with an optional `typ: JWT`: no `none`, no other algorithm, no
    /// `kid`/`jku`/`jwk`/`x5u`/`crit` that could point verification at another key.
    static func checkHeader(of token: String) throws(Rejection) {
        guard token.utf8.count <= 4_096 else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { throw .malformed }
        guard let headerData = base64URLDecode(parts[0]), let header = try? JSONValue.parse(headerData),
            case .object(let fields) = header
        else { throw .malformed }
        guard fields["alg"] == .string(algorithm) else { throw .algorithmNotAllowed }
        if let type = fields["typ"], type != "JWT" { throw .malformed }
        guard Set(fields.keys).isSubset(of: ["alg", "typ"]) else { throw .algorithmNotAllowed }
    }

    static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// An access token and when it expires.
public struct IssuedAccessToken: Sendable, Hashable {
    /// The compact JWT.
    public let token: String
    /// Seconds until it expires.
    public let expiresIn: Int64
    /// When it expires.
    public let expiresAt: Date
}

/// Access tokens that passed verification, until they expire. Bounded: when full it is emptied (verification then
/// simply runs again), so a flood of valid tokens cannot grow it.
private final class VerifiedTokens: Sendable {
    private struct Entry {
        let principal: Principal
        let expiresAt: Date
    }

    private static let maximumEntries = 10_000
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    /// The principal of a remembered token; `.expired` once its `exp` has passed; `nil` for a token not seen.
    func principal(of token: String, at now: Date) -> Result<Principal, TokenAuthority.Rejection>? {
        entries.withLockedValue { entries in
            guard let entry = entries[token] else { return nil }
            guard now < entry.expiresAt else {
                entries[token] = nil
                return .failure(.expired)
            }
            return .success(entry.principal)
        }
    }

    func remember(_ token: String, _ principal: Principal, until expiresAt: Date) {
        entries.withLockedValue { entries in
            if entries.count >= Self.maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[token] = Entry(principal: principal, expiresAt: expiresAt)
        }
    }
}
