import Foundation
import Testing
import TradesKit

@Suite("TOTP (RFC 6238)")
struct TOTPTests {
    /// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890", 8 digits.
    @Test(
        "RFC 6238 SHA-1 test vectors",
        arguments: [
            (59, 1, "94287082"), (1_111_111_109, 0x23523EC, "07081804"), (1_111_111_111, 0x23523ED, "14050471"),
            (1_234_567_890, 0x273EF07, "89005924"), (2_000_000_000, 0x3F940AA, "69279037"), (20_000_000_000, 0x27BC86AA, "65353130"),
        ] as [(Int64, Int64, String)])
    func rfcVectors(seconds: Int64, step: Int64, code: String) throws {
        let totp = TOTP(secret: Data("12345678901234567890".utf8), digits: 8)
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        #expect(TOTP.step(at: date) == step)
        #expect(totp.code(at: date) == code)
        #expect(totp.code(forStep: step) == code)
        // The same secret given in base32, the form authenticator apps take.
        let fromBase32 = try #require(TOTP(base32Secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", digits: 8))
        #expect(fromBase32.code(at: date) == code)
    }

    @Test func sixDigitCodesAreTheLastSixOfTheRFCs() {
        let totp = TOTP(secret: Data("12345678901234567890".utf8))
        #expect(totp.code(at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(totp.code(at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
    }

    @Test func base32RoundTripsAndIgnoresCaseSpacesAndPadding() throws {
        let secret = Data((0..<20).map { UInt8($0 * 13 % 256) })
        let totp = TOTP(secret: secret)
        let encoded = totp.base32Secret
        #expect(encoded.count == 32 && !encoded.contains("="))
        let spaced = encoded.lowercased().enumerated().map { $0.offset % 4 == 3 ? "\($0.element) " : "\($0.element)" }.joined()
        let parsed = try #require(TOTP(base32Secret: spaced + "===="))
        #expect(parsed.base32Secret == encoded)
        #expect(TOTP(base32Secret: "MZXW6YTBOI")?.base32Secret == "MZXW6YTBOI")  // RFC 4648: "foobar"
        #expect(TOTP(base32Secret: "not base32!") == nil)
        #expect(TOTP(base32Secret: "") == nil)
    }

    @Test func acceptsOneStepEitherSideOnceAndNothingElse() {
        let totp = TOTP(secret: Data("an example shared secret".utf8))
        let now = Date(timeIntervalSince1970: 1_767_603_615)
        let step = TOTP.step(at: now)
        #expect(totp.acceptedStep(for: totp.code(forStep: step), at: now, after: nil) == step)
        #expect(totp.acceptedStep(for: totp.code(forStep: step - 1), at: now, after: nil) == step - 1)
        #expect(totp.acceptedStep(for: totp.code(forStep: step + 1), at: now, after: nil) == step + 1)
        #expect(totp.acceptedStep(for: totp.code(forStep: step - 2), at: now, after: nil) == nil)
        #expect(totp.acceptedStep(for: totp.code(forStep: step + 2), at: now, after: nil) == nil)
        // Replay protection: nothing at or before the last accepted step.
        #expect(totp.acceptedStep(for: totp.code(forStep: step), at: now, after: step) == nil)
        #expect(totp.acceptedStep(for: totp.code(forStep: step - 1), at: now, after: step - 1) == nil)
        #expect(totp.acceptedStep(for: totp.code(forStep: step + 1), at: now, after: step) == step + 1)
        // Format.
        let code = totp.code(forStep: step)
        #expect(totp.acceptedStep(for: String(code.prefix(3)) + " " + String(code.suffix(3)), at: now, after: nil) == step)
        #expect(totp.acceptedStep(for: String(code.prefix(5)), at: now, after: nil) == nil)
        #expect(totp.acceptedStep(for: "12345a", at: now, after: nil) == nil)
        #expect(totp.acceptedStep(for: "١٢٣٤٥٦", at: now, after: nil) == nil)
    }

    @Test func provisioningURIAndRedaction() {
        let totp = TOTP(secret: Data("12345678901234567890".utf8))
        let uri = totp.provisioningURI(issuer: "Acme & Sons", account: "ann+1@example.com")
        #expect(
            uri == "otpauth://totp/Acme%20%26%20Sons:ann%2B1%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20%26%20Sons"
                + "&algorithm=SHA1&digits=6&period=30")
        #expect(!"\(totp)".contains("GEZDGNBV"))
    }
}

@Suite("Opaque tokens and account keys")
struct OpaqueTokenTests {
    @Test func tokensAre32RandomBytesInBase64URL() {
        var seen = Set<String>()
        for _ in 0..<200 {
            let token = OpaqueToken.generate()
            #expect(token.count == 43)
            #expect(token.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" })
            seen.insert(token)
        }
        #expect(seen.count == 200)
    }

    @Test func hashIsHexSHA256() {
        #expect(OpaqueToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let token = OpaqueToken.generate()
        #expect(OpaqueToken.hash(token).count == 64 && OpaqueToken.hash(token) != token)
    }

    @Test func accountKeysNormalizeTheAddressAndNameTheTenant() {
        let tenant = TenantID(UUID())
        let key = AccountKey(tenant: tenant, email: "Ann@Example.com")
        #expect(key == AccountKey(tenant: tenant, email: "  ann@example.COM "))
        #expect(key != AccountKey(tenant: TenantID(UUID()), email: "ann@example.com"))
        #expect(key != AccountKey(tenant: tenant, email: "bob@example.com"))
        #expect(key.rawValue == OpaqueToken.hash("\(tenant.uuidString):ann@example.com"))
        #expect(!"\(key)".contains(key.rawValue.prefix(6)))
    }
}

@Suite("Login throttle")
struct LoginThrottleTests {
    let start = Date(timeIntervalSince1970: 1_767_603_600)

    @Test func locksFromTheThresholdWithDoublingDelaysUpToTheMaximum() {
        let policy = LockoutPolicy()
        var throttle = LoginThrottle(key: AccountKey(rawValue: String(repeating: "a", count: 64)))
        var now = start
        for failure in 1...4 {
            throttle = throttle.recordingFailure(at: now, policy: policy)
            #expect(throttle.failures == failure && throttle.lockedUntil(at: now) == nil)
        }
        var expected: [TimeInterval] = []
        var delays: [TimeInterval] = []
        for index in 0..<10 {
            throttle = throttle.recordingFailure(at: now, policy: policy)
            let until = throttle.lockedUntil(at: now)
            delays.append(until.map { $0.timeIntervalSince(now) } ?? 0)
            expected.append(min(3_600, 60 * pow(2, Double(index))))
            now = until ?? now
        }
        #expect(delays == expected)
        #expect(delays.suffix(3) == [3_600, 3_600, 3_600])
        #expect(throttle.lockedUntil(at: now) == nil, "a lock ends at its instant")
    }

    @Test func failuresAreForgottenAfterAQuietDayAndClearedBySuccess() {
        let policy = LockoutPolicy(threshold: 3)
        var throttle = LoginThrottle(key: AccountKey(rawValue: String(repeating: "b", count: 64)))
        throttle = throttle.recordingFailure(at: start, policy: policy).recordingFailure(at: start, policy: policy)
        let later = start.addingTimeInterval(86_400)
        throttle = throttle.recordingFailure(at: later, policy: policy)
        #expect(throttle.failures == 1 && throttle.lockedUntil == nil)
        throttle = throttle.recordingFailure(at: later, policy: policy).recordingFailure(at: later, policy: policy)
        #expect(throttle.lockedUntil(at: later) == later.addingTimeInterval(60))
        let cleared = throttle.cleared()
        #expect(cleared.isClear && cleared.lastFailureAt == throttle.lastFailureAt && cleared.version == throttle.version)
    }
}

@Suite("Identity records")
struct IdentityRecordTests {
    @Test func aUserRoundTripsAndOneEncodedBeforeNotificationPreferencesHasBothChannelsOn() throws {
        let user = User(
            id: Fixture.owner, email: try EmailAddress("owner@example.com"), displayName: "Owner", phone: try PhoneNumber("+14155550123"),
            role: .homeowner, passwordHash: "hash", emailVerified: true, sessionGeneration: 3,
            notifications: NotificationPreferences(email: true, sms: false), createdAt: Fixture.t0, version: 4)
        let data = try JSONEncoder().encode(user)
        #expect(try JSONDecoder().decode(User.self, from: data) == user)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.removeValue(forKey: "notifications") != nil)
        let older = try JSONDecoder().decode(User.self, from: JSONSerialization.data(withJSONObject: object))
        var expected = user
        expected.notifications = NotificationPreferences()
        #expect(older == expected)
        object.removeValue(forKey: "email")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(User.self, from: JSONSerialization.data(withJSONObject: object)) }
    }

    @Test func refreshTokensAreSpentOnceUsedOrRevokedAndExpireAtTheirInstant() {
        let now = Date(timeIntervalSince1970: 1_767_603_600)
        var token = RefreshToken(
            id: RefreshTokenID(UUID()), familyID: RefreshTokenFamilyID(UUID()), userID: UserID(UUID()), tokenHash: OpaqueToken.hash("t"),
            issuedAt: now, expiresAt: now.addingTimeInterval(60))
        #expect(!token.isSpent && !token.isExpired(at: now.addingTimeInterval(59.999)) && token.isExpired(at: now.addingTimeInterval(60)))
        token.usedAt = now
        #expect(token.isSpent)
        token.usedAt = nil
        token.revokedAt = now
        #expect(token.isSpent)
        #expect(!"\(token)".contains(token.tokenHash))
    }

    @Test func oneTimeTokensAreUsableOnceBeforeTheyExpire() {
        let now = Date(timeIntervalSince1970: 1_767_603_600)
        var token = OneTimeToken(
            id: OneTimeTokenID(UUID()), userID: UserID(UUID()), purpose: .passwordReset, tokenHash: OpaqueToken.hash("t"), createdAt: now,
            expiresAt: now.addingTimeInterval(3_600))
        #expect(token.isUsable(at: now.addingTimeInterval(3_599)) && !token.isUsable(at: now.addingTimeInterval(3_600)))
        token.usedAt = now
        #expect(!token.isUsable(at: now))
        #expect(!"\(token)".contains(token.tokenHash))
    }

    @Test func errorsCarryTheirRetryInstant() {
        let until = Date(timeIntervalSince1970: 1_767_603_660)
        let error = TradesKitError(.accountLocked, "Too many failed sign-ins; try again later", retryAfter: until)
        #expect(error.retryAfter == until && error.code.rawValue == "account_locked")
        #expect(TradesKitError(.conflict, "x").retryAfter == nil)
    }
}
