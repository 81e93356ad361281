import Crypto
import Foundation
import HTTPTypes
import ReferenceServer
import Testing
import TradesKit
import TradesKitTesting

/// Attacks on access tokens: every one answers 401 problem+json and reveals nothing about which check failed.
@Suite("Access tokens")
struct TokenTests {
    /// Base64url without padding.
    static func b64(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A token with this header and these claims, signed with HMAC-SHA256 (or SHA-512) over `key`, or unsigned.
    static func forge(header: JSONValue, claims: JSONValue, key: [UInt8]? = TestServer.secret, sha512: Bool = false) throws -> String {
        let input = b64(try header.serialized()) + "." + b64(try claims.serialized())
        guard let key else { return input + "." }
        let symmetric = SymmetricKey(data: key)
        let signature =
            sha512
            ? Data(HMAC<SHA512>.authenticationCode(for: Data(input.utf8), using: symmetric))
            : Data(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: symmetric))
        return input + "." + b64(signature)
    }

    static func claims(
        _ actor: TestServer.Actor, now: Date, iss: String = "tradeskit", aud: String = "tradeskit-api", role: String? = nil,
        lifetime: Double = 900, tenant: TenantID? = nil, generation: JSONValue? = .integer(0)
    ) -> JSONValue {
        var claims: [String: JSONValue] = [
            "iss": .string(iss), "aud": [.string(aud)], "iat": .integer(Int64(now.timeIntervalSince1970)),
            "exp": .integer(Int64(now.timeIntervalSince1970 + lifetime)), "sub": .string(actor.id.uuidString),
            "tid": .string((tenant ?? actor.principal.tenantID).uuidString), "role": .string(role ?? actor.principal.role.rawValue),
        ]
        claims["sgn"] = generation
        return .object(claims)
    }

    @Test("A well-formed forged token is accepted: the forging helper matches the server's format")
    func control() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let token = try Self.forge(header: ["alg": "HS256", "typ": "JWT"], claims: Self.claims(world.owner, now: harness.clock.now()))
        try await harness.test { api async throws in
            #expect(try await api.call(.get, "/v1/me", token: token).status == .ok)
        }
    }

    @Test(
        "Refused tokens",
        arguments: [
            "missing", "garbage", "alg none", "alg none signed", "HS512 with the same key", "RS256 header", "EdDSA header", "kid header",
            "jku header", "wrong key", "wrong issuer", "wrong audience", "tampered role", "tampered subject", "lifetime too long",
            "issued in the future", "two parts", "basic scheme", "refresh token", "no session generation", "negative session generation",
            "textual session generation", "ended session generation",
        ])
    func refused(_ attack: String) async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let now = harness.clock.now()
        let owner = world.owner
        let good = Self.claims(owner, now: now)
        var bearerScheme = "Bearer"
        let token: String
        switch attack {
        case "missing": token = ""
        case "garbage": token = "not.a.token"
        case "alg none": token = try Self.forge(header: ["alg": "none", "typ": "JWT"], claims: good, key: nil)
        case "alg none signed": token = try Self.forge(header: ["alg": "none"], claims: good)
        case "HS512 with the same key": token = try Self.forge(header: ["alg": "HS512", "typ": "JWT"], claims: good, sha512: true)
        case "RS256 header": token = try Self.forge(header: ["alg": "RS256", "typ": "JWT"], claims: good)
        case "EdDSA header": token = try Self.forge(header: ["alg": "EdDSA", "typ": "JWT"], claims: good)
        case "kid header": token = try Self.forge(header: ["alg": "HS256", "kid": "other"], claims: good)
        case "jku header": token = try Self.forge(header: ["alg": "HS256", "jku": "https://attacker.example/keys"], claims: good)
        case "wrong key": token = try Self.forge(header: ["alg": "HS256"], claims: good, key: Array("another-secret-another-secret-12345".utf8))
        case "wrong issuer": token = try Self.forge(header: ["alg": "HS256"], claims: Self.claims(owner, now: now, iss: "attacker"))
        case "wrong audience": token = try Self.forge(header: ["alg": "HS256"], claims: Self.claims(owner, now: now, aud: "another-api"))
        case "tampered role":
            // A genuine token whose payload is swapped for one claiming admin, keeping the signature.
            let parts = owner.token.split(separator: ".")
            let forged = Self.b64(try Self.claims(owner, now: now, role: "admin").serialized())
            token = "\(parts[0]).\(forged).\(parts[2])"
        case "tampered subject":
            let parts = world.contractorA.token.split(separator: ".")
            let forged = Self.b64(try Self.claims(owner, now: now, role: "contractor").serialized())
            token = "\(parts[0]).\(forged).\(parts[2])"
        case "lifetime too long": token = try Self.forge(header: ["alg": "HS256"], claims: Self.claims(owner, now: now, lifetime: 86_400))
        case "issued in the future": token = try Self.forge(header: ["alg": "HS256"], claims: Self.claims(owner, now: now.addingTimeInterval(3_600)))
        case "no session generation": token = try Self.forge(header: ["alg": "HS256"], claims: Self.claims(owner, now: now, generation: nil))
        case "negative session generation":
            token = try Self.forge(header: ["alg": "HS256"], claims: Self.claims(owner, now: now, generation: .integer(-1)))
        case "textual session generation":
            token = try Self.forge(header: ["alg": "HS256"], claims: Self.claims(owner, now: now, generation: .string("0")))
        case "ended session generation":
            // Genuinely signed and otherwise valid, but the user has since logged out: core refuses it.
            let session = try await harness.market.identity.login(in: world.tenant.id, email: owner.email, password: TestServer.password)
            try await harness.market.identity.logout(in: world.tenant.id, token: session.refreshToken)
            token = owner.token
        case "two parts": token = owner.token.split(separator: ".").prefix(2).joined(separator: ".")
        case "basic scheme":
            bearerScheme = "Basic"
            token = owner.token
        case "refresh token":
            // A genuine refresh token is opaque, not a JWT: it never works as an access token.
            token = try await harness.market.identity.login(in: world.tenant.id, email: owner.email, password: TestServer.password).refreshToken
        default: Issue.record("unknown attack"); return
        }
        let scheme = bearerScheme
        try await harness.test { api async throws in
            var headers = HTTPFields()
            if !token.isEmpty { headers[.authorization] = "\(scheme) \(token)" }
            let response = try await api.call(.get, "/v1/me", headers: headers)
            #expect(response.status == .unauthorized, "\(attack): \(response)")
            #expect(response.problemCode == "unauthenticated")
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(response["detail"] == "The access token is missing, invalid or expired")
        }
    }

    @Test("A reused refresh token is refused, and the token it was rotated to stops working too")
    func reusedRefreshToken() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let stolen = try await harness.market.identity.login(in: world.tenant.id, email: world.owner.email, password: TestServer.password)
        try await harness.test { api async throws in
            let rotated = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(stolen.refreshToken)])
            #expect(rotated.status == .ok, "\(rotated)")
            let replayed = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": .string(stolen.refreshToken)])
            #expect(replayed.status == .unauthorized && replayed.problemCode == "unauthenticated", "\(replayed)")
            let next = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": rotated["refreshToken"] ?? .null])
            #expect(next.status == .unauthorized, "\(next)")
            #expect(replayed.body.contains("session") && !replayed.body.contains(stolen.refreshToken))
        }
    }

    @Test("An access token expires after 15 minutes on the server's clock")
    func expiry() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            // The first use verifies the token and remembers it; the later ones are answered from memory, and must
            // still expire on time.
            #expect(try await api.call(.get, "/v1/me", as: world.owner).status == .ok)
            harness.clock.advance(by: 899)
            #expect(try await api.call(.get, "/v1/me", as: world.owner).status == .ok)
            harness.clock.advance(by: 1)
            #expect(try await api.call(.get, "/v1/me", as: world.owner).problemCode == "unauthenticated")
            #expect(try await api.call(.get, "/v1/me", as: world.owner).problemCode == "unauthenticated")
        }
    }

    @Test("A token of tenant A is refused on tenant B (shared mode: header or host; per-tenant mode)")
    func otherTenant() async throws {
        let harness = try await TestServer()
        let acme = try await harness.world(slug: "acme")
        _ = try await harness.world(slug: "globex")
        try await harness.test { api async throws in
            #expect(try await api.call(.get, "/v1/me", as: acme.owner, tenant: "acme").status == .ok)
            #expect(try await api.call(.get, "/v1/me", as: acme.owner, tenant: "globex").status == .unauthorized)
            #expect(try await api.call(.get, "/v1/me", as: acme.owner, tenant: "nowhere").status == .unauthorized)
            // A token naming a tenant id that does not exist.
            let foreign = try TokenTests.forge(
                header: ["alg": "HS256"], claims: TokenTests.claims(acme.owner, now: harness.clock.now(), tenant: TenantID(UUID())))
            #expect(try await api.call(.get, "/v1/me", token: foreign).status == .unauthorized)
        }
        let perTenant = try await TestServer { $0.mode = .perTenant(slug: "globex") }
        let acme2 = try await perTenant.world(slug: "acme")
        let globex = try await perTenant.world(slug: "globex")
        try await perTenant.test { api async throws in
            #expect(try await api.call(.get, "/v1/me", as: acme2.owner).status == .unauthorized)
            #expect(try await api.call(.get, "/v1/me", as: globex.owner).status == .ok)
            // Per-tenant mode ignores X-Tenant for public routes: the server's tenant is the only one.
            let categories = try await api.call(.get, "/v1/categories", tenant: "acme")
            #expect(categories.status == .ok)
            let login = try await api.call(
                .post, "/v1/auth/login", json: ["email": .string(acme2.owner.email), "password": .string(TestServer.password)])
            #expect(login.status == .unauthorized)
        }
    }

    @Test("Logout over HTTP ends the access tokens of every session; the others get new ones at their next refresh")
    func logoutEndsAccessTokens() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            func login() async throws -> (access: JSONValue, refresh: JSONValue) {
                let response = try await api.call(
                    .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(world.owner.email), "password": .string(TestServer.password)])
                #expect(response.status == .ok, "\(response)")
                return (response["accessToken"] ?? .null, response["refreshToken"] ?? .null)
            }
            let phone = try await login()
            let laptop = try await login()
            let phoneToken = try #require(phone.access.stringValue)
            let laptopToken = try #require(laptop.access.stringValue)
            #expect(try await api.call(.get, "/v1/me", token: phoneToken).status == .ok)
            #expect(try await api.call(.get, "/v1/me", token: laptopToken).status == .ok)

            let logout = try await api.call(.post, "/v1/auth/logout", tenant: "acme", json: ["refreshToken": phone.refresh])
            #expect(logout.status == .noContent, "\(logout)")
            for token in [phoneToken, laptopToken, world.owner.token] {
                let refused = try await api.call(.get, "/v1/me", token: token)
                #expect(refused.status == .unauthorized && refused.problemCode == "unauthenticated", "\(refused)")
                #expect(refused.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                #expect(refused["detail"] == "The access token is missing, invalid or expired")
            }
            let refreshed = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": laptop.refresh])
            #expect(refreshed.status == .ok, "\(refreshed)")
            let fresh = try #require(refreshed["accessToken"]?.stringValue)
            #expect(try await api.call(.get, "/v1/me", token: fresh).status == .ok)
            // Another user's tokens are untouched.
            #expect(try await api.call(.get, "/v1/me", as: world.contractorA).status == .ok)
        }
    }

    @Test("An expired or forged access token sent to an open route is ignored: refresh and logout still work")
    func staleTokenOnOpenRoutes() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            func login() async throws -> (access: String, refresh: JSONValue) {
                let response = try await api.call(
                    .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(world.owner.email), "password": .string(TestServer.password)])
                return (try #require(response["accessToken"]?.stringValue), response["refreshToken"] ?? .null)
            }
            let first = try await login()
            let second = try await login()
            harness.clock.advance(by: 16 * 60)
            #expect(try await api.call(.get, "/v1/me", token: first.access).status == .unauthorized, "the access token expired")
            // The client sends its expired token out of habit: the refresh still rotates, the logout still revokes.
            let refreshed = try await api.call(.post, "/v1/auth/refresh", token: first.access, tenant: "acme", json: ["refreshToken": first.refresh])
            #expect(refreshed.status == .ok, "\(refreshed)")
            let logout = try await api.call(.post, "/v1/auth/logout", token: second.access, tenant: "acme", json: ["refreshToken": second.refresh])
            #expect(logout.status == .noContent, "\(logout)")
            let revoked = try await api.call(.post, "/v1/auth/refresh", tenant: "acme", json: ["refreshToken": second.refresh])
            #expect(revoked.status == .unauthorized, "the logout revoked the family: \(revoked)")
            // A token that does not verify at all is ignored the same way; the tenant then comes from X-Tenant, as for
            // anyone, so it still has to be named.
            let categories = try await api.call(.get, "/v1/categories", token: "not.a.token", tenant: "acme")
            #expect(categories.status == .ok, "\(categories)")
            let unnamed = try await api.call(.get, "/v1/categories", token: "not.a.token")
            #expect(unnamed.status == .badRequest && unnamed.problemCode == "tenant_required", "\(unnamed)")
            // A valid token still decides: one of acme never addresses another tenant.
            let fresh = try #require(refreshed["accessToken"]?.stringValue)
            #expect(try await api.call(.get, "/v1/categories", token: fresh, tenant: "globex").status == .unauthorized)
        }
    }

    @Test("Issued tokens carry exactly iss, aud, exp, iat, sub, tid, role and sgn, signed HS256")
    func issuedClaims() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let parts = world.owner.token.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        func decode(_ part: String) throws -> JSONValue {
            var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            return try JSONValue.parse(try #require(Data(base64Encoded: base64)))
        }
        #expect(try decode(parts[0])["alg"] == "HS256")
        guard case .object(let claims) = try decode(parts[1]) else { Issue.record("claims are not an object"); return }
        #expect(Set(claims.keys) == ["iss", "aud", "exp", "iat", "sub", "tid", "role", "sgn"])
        #expect(claims["sgn"] == .integer(0))
        #expect(claims["tid"]?.stringValue == world.tenant.id.uuidString)
        #expect(claims["role"] == "homeowner")
    }
}
