import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import StorageSQLite
@testable import ReferenceServer
import Testing
import TradesKit
import TradesKitTesting

/// Headers, request ids, CORS, rate limits, logs, metrics, health and readiness.
@Suite("Hardening and operations")
struct HardeningTests {
    @Test("Security headers on every answer, HSTS only when configured")
    func securityHeaders() async throws {
        let harness = try await TestServer()
        try await harness.test { api async throws in
            for response in [try await api.call(.get, "/health"), try await api.call(.get, "/v1/nope")] {
                #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
                #expect(response.headers[.init("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.init("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.strictTransportSecurity] == nil)
            }
        }
        let tls = try await TestServer { $0.strictTransportSecurity = true }
        try await tls.test { api async throws in
            #expect(try await api.call(.get, "/health").headers[.strictTransportSecurity]?.hasPrefix("max-age=") == true)
        }
    }

    @Test("X-Request-Id is accepted when well-formed and generated otherwise")
    func requestID() async throws {
        let harness = try await TestServer()
        try await harness.test { api async throws in
            var headers = HTTPFields()
            headers[.requestID] = "client-id_1.2"
            #expect(try await api.call(.get, "/health", headers: headers).headers[.requestID] == "client-id_1.2")
            headers[.requestID] = "bad id\u{7F}<script>"
            let generated = try await api.call(.get, "/health", headers: headers).headers[.requestID]
            #expect(generated != nil && generated != "bad id\u{7F}<script>" && UUID(uuidString: generated ?? "") != nil)
        }
    }

    @Test("Generated request ids are distinct random (version 4) UUIDs in lower case")
    func generatedRequestIDs() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = RequestIDMiddleware.newID()
            let bytes = Array(id.utf8)
            #expect(bytes.count == 36 && id == id.lowercased() && UUID(uuidString: id) != nil, "\(id)")
            #expect(bytes[14] == UInt8(ascii: "4"), "version nibble of \(id)")
            #expect([UInt8]("89ab".utf8).contains(bytes[19]), "variant nibble of \(id)")
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }

    @Test("CORS: listed origins get headers and preflights; others get neither")
    func cors() async throws {
        let harness = try await TestServer { $0.corsAllowedOrigins = ["https://app.example.com"] }
        try await harness.test { api async throws in
            var preflight = HTTPFields()
            preflight[.origin] = "https://app.example.com"
            preflight[.accessControlRequestMethod] = "POST"
            let allowed = try await api.call(.options, "/v1/jobs", headers: preflight)
            #expect(allowed.status == .noContent)
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(allowed.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            preflight[.origin] = "https://evil.example.com"
            let refused = try await api.call(.options, "/v1/jobs", headers: preflight)
            #expect(refused.status == .forbidden && refused.problemCode == "origin_not_allowed")
            var simple = HTTPFields()
            simple[.origin] = "https://app.example.com"
            #expect(try await api.call(.get, "/health", headers: simple).headers[.accessControlAllowOrigin] == "https://app.example.com")
            simple[.origin] = "https://evil.example.com"
            #expect(try await api.call(.get, "/health", headers: simple).headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test("Login: 10 attempts per account and IP per 15 minutes, then 429 with Retry-After and RateLimit headers")
    func loginLimit() async throws {
        // Core's lockout (5 failures) is out of the way here: this is the server's own limit per account and IP.
        let harness = try await TestServer(identity: { $0.lockout.threshold = 100 })
        let world = try await harness.world()
        try await harness.test { api async throws in
            let wrong: JSONValue = ["email": .string(world.owner.email), "password": "wrong password!"]
            for attempt in 1...10 {
                #expect(try await api.call(.post, "/v1/auth/login", tenant: "acme", json: wrong).status == .unauthorized, "attempt \(attempt)")
            }
            let limited = try await api.call(.post, "/v1/auth/login", tenant: "acme", json: wrong)
            #expect(limited.status == .tooManyRequests && limited.problemCode == "rate_limited", "\(limited)")
            #expect(limited.headers[.retryAfter] == "900")
            #expect(limited.headers[.rateLimitLimit] == "10")
            #expect(limited.headers[.rateLimitRemaining] == "0")
            #expect(limited.headers[.rateLimitReset] == "900")
            // Even the right password waits; another account does not.
            let right: JSONValue = ["email": .string(world.owner.email), "password": .string(TestServer.password)]
            #expect(try await api.call(.post, "/v1/auth/login", tenant: "acme", json: right).status == .tooManyRequests)
            let other: JSONValue = ["email": .string(world.contractorA.email), "password": .string(TestServer.password)]
            #expect(try await api.call(.post, "/v1/auth/login", tenant: "acme", json: other).status == .ok)
            harness.clock.advance(by: 600)
            #expect(try await api.call(.post, "/v1/auth/login", tenant: "acme", json: right).headers[.retryAfter] == "300")
            harness.clock.advance(by: 300)
            #expect(try await api.call(.post, "/v1/auth/login", tenant: "acme", json: right).status == .ok)
        }
    }

    @Test("API: per-user limit from the tenant's policy; per-IP limit from the configuration")
    func apiLimits() async throws {
        let harness = try await TestServer {
            $0.rateLimits.requestsPerIPPerWindow = 30
            $0.trustedProxies = ["127.0.0.1", "::1"]
        }
        let world = try await harness.world()
        var policies = world.tenant.settings
        policies.policies.apiRequestsPerUserPerWindow = 5
        _ = try await harness.market.tenants.updateSettings(by: TestServer.op, tenant: world.tenant.id, policies)
        harness.clock.advance(by: 60)  // past the tenant cache
        try await harness.test(.live) { api async throws in
            for _ in 1...5 { #expect(try await api.call(.get, "/v1/me", as: world.owner).status == .ok) }
            let limited = try await api.call(.get, "/v1/me", as: world.owner)
            #expect(limited.status == .tooManyRequests && limited.headers[.rateLimitLimit] == "5", "\(limited)")
            #expect(try await api.call(.get, "/v1/me", as: world.contractorA).status == .ok)

            // The proxy appends the address it saw; a client forging the hops before it gets no fresh bucket.
            var headers = HTTPFields()
            var statuses: [Int] = []
            for attempt in 1...31 {
                headers[.init("X-Forwarded-For")!] = "198.51.100.\(attempt), 203.0.113.9"
                statuses.append(try await api.call(.get, "/v1/categories", tenant: "acme", headers: headers).status.code)
            }
            #expect(statuses.filter { $0 == 200 }.count == 30 && statuses.last == 429)
            headers[.init("X-Forwarded-For")!] = "203.0.113.10"
            #expect(try await api.call(.get, "/v1/categories", tenant: "acme", headers: headers).status == .ok)
            headers[.init("X-Forwarded-For")!] = "2001:db8::1"
            #expect(try await api.call(.get, "/v1/categories", tenant: "acme", headers: headers).status == .ok)
            // The liveness probe is not limited, even for the client that spent its requests; readiness reads storage and
            // counts like any request.
            headers[.init("X-Forwarded-For")!] = "198.51.100.1, 203.0.113.9"
            #expect(try await api.call(.get, "/health", headers: headers).status == .ok)
            #expect(try await api.call(.get, "/ready", headers: headers).status == .tooManyRequests)
        }
    }

    @Test("A second Host header is refused with 400: a proxy that routed on it would disagree about the tenant")
    func duplicateHost() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.server.makeApplication().test(.live) { client in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(world.owner.token)"
            #expect(try await client.execute(uri: "/v1/me", method: .get, headers: headers).status == .ok)
            // The live client sends its own Host; this is a second one.
            headers.append(HTTPField(name: HTTPField.Name("Host")!, value: "globex.trades.example"))
            let twice = try await client.execute(uri: "/v1/me", method: .get, headers: headers)
            #expect(twice.status == .badRequest && twice.headers[.contentType] == "application/problem+json", "\(twice.status)")
        }
    }

    @Test("X-Forwarded-For counts only from a trusted proxy: the nearest hop that is not one, and only an IP address")
    func forwardedClient() throws {
        let trusted = ["10.0.0.0/8", "2001:db8:f::/48"].compactMap(IPNetwork.init)
        #expect(trusted.count == 2)
        func client(_ peer: String, _ fields: [String]) -> String { RequestLimitsMiddleware.forwardedClient(peer: peer, fields, trusted: trusted) }
        // Straight from a client: its own address, whatever it claims.
        #expect(client("203.0.113.5", ["198.51.100.7"]) == "203.0.113.5")
        #expect(client("::ffff:203.0.113.5", ["10.0.0.9"]) == "::ffff:203.0.113.5")
        // From a trusted proxy: the last hop, past any trusted ones; hops left of the client are the client's own.
        #expect(client("10.1.2.3", ["198.51.100.7, 203.0.113.9"]) == "203.0.113.9")
        #expect(client("10.1.2.3", ["198.51.100.7", "203.0.113.9 , 10.0.0.2"]) == "203.0.113.9")
        #expect(client("::ffff:10.1.2.3", ["2001:db8::1, 2001:db8:f::7"]) == "2001:db8::1")
        #expect(client("10.1.2.3", []) == "10.1.2.3", "no header: the proxy itself")
        #expect(client("10.1.2.3", ["10.0.0.7, 10.0.0.8"]) == "10.0.0.7", "every hop trusted: the farthest")
        // Ports and brackets, as some proxies write them, are not part of the client's key.
        #expect(client("10.1.2.3", ["203.0.113.9:4711"]) == "203.0.113.9")
        #expect(client("10.1.2.3", ["[2001:db8::1]:443, 10.0.0.2:80"]) == "2001:db8::1")
        #expect(client("10.1.2.3", ["[2001:db8::1]"]) == "2001:db8::1")
        #expect(client("10.1.2.3", ["203.0.113.9:port"]) == "10.1.2.3", "not a port: not an address")
        #expect(client("10.1.2.3", ["[2001:db8::1]x"]) == "10.1.2.3")
        #expect(client("10.1.2.3", ["203.0.113.9:123456"]) == "10.1.2.3")
        // Anything that is not an address ends the walk at the last address a trusted proxy wrote.
        #expect(client("10.1.2.3", ["203.0.113.9, "]) == "10.1.2.3")
        #expect(client("10.1.2.3", ["evil, 10.0.0.2"]) == "10.0.0.2")
        #expect(client("10.1.2.3", ["999.1.1.1"]) == "10.1.2.3")
        #expect(client("10.1.2.3", [String(repeating: "1", count: 4_000)]) == "10.1.2.3")
        let padded = Array(repeating: "10.0.0.1", count: 40).joined(separator: ", ")
        #expect(client("10.1.2.3", ["203.0.113.9, " + padded]) == "10.0.0.1", "at most \(RequestLimitsMiddleware.maximumForwardedHops) hops")

        // Networks: CIDR or one address, host bits clear, IPv4-mapped as IPv4.
        #expect(IPNetwork("10.0.0.0/8")?.contains(try #require(IPNetwork.address("10.255.1.2"))) == true)
        #expect(IPNetwork("10.0.0.0/8")?.contains(try #require(IPNetwork.address("11.0.0.1"))) == false)
        #expect(IPNetwork("10.0.0.0/8")?.contains(try #require(IPNetwork.address("::ffff:10.0.0.1"))) == true)
        #expect(IPNetwork("0.0.0.0/0")?.contains(try #require(IPNetwork.address("2001:db8::1"))) == false, "families never mix")
        #expect(IPNetwork("::1")?.description == "::1/128" && IPNetwork("192.0.2.1")?.description == "192.0.2.1/32")
        #expect(IPNetwork("172.16.0.0/12")?.contains(try #require(IPNetwork.address("172.31.255.255"))) == true)
        #expect(IPNetwork("172.16.0.0/12")?.contains(try #require(IPNetwork.address("172.32.0.0"))) == false)
        for bad in ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "/8", "proxy", "10.0.0.0/8/8", "2001:db8::/129", "10.0.0.0/+8", ""] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
        var configuration = ServerConfiguration(tokenSigningKey: Array(repeating: 7, count: 32))
        configuration.trustedProxies = ["10.0.0.0/8", "proxy.internal"]
        #expect(configuration.problems == ["the trusted proxy proxy.internal is not an IP address or a CIDR network (host bits clear)"])
    }

    @Test("Rate limiter windows on a manual clock")
    func limiterWindows() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock)
        #expect(limiter.consume("k", limit: 2, windowSeconds: 60).remaining == 1)
        #expect(limiter.consume("k", limit: 2, windowSeconds: 60).remaining == 0)
        let refused = limiter.consume("k", limit: 2, windowSeconds: 60)
        #expect(!refused.allowed && refused.resetSeconds == 60)
        clock.advance(by: 59.5)
        #expect(limiter.consume("k", limit: 2, windowSeconds: 60).resetSeconds == 1)
        clock.advance(by: 0.5)
        #expect(limiter.consume("k", limit: 2, windowSeconds: 60).allowed)
    }

    @Test("A sweep of ended windows keeps every live window, whatever its length")
    func limiterSweep() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock, sweepThreshold: 4)
        let long = (0..<6).map { "login:\($0)" }
        for key in long { #expect(limiter.consume(key, limit: 1, windowSeconds: 900).allowed) }
        clock.advance(by: 2)
        // Keys with one-second windows, enough to pass the threshold: their sweeps must not end the 15-minute windows.
        for index in 0..<12 { #expect(limiter.consume("ip:\(index)", limit: 1, windowSeconds: 1).allowed) }
        clock.advance(by: 2)
        for index in 0..<12 { #expect(limiter.consume("ip:x\(index)", limit: 1, windowSeconds: 1).allowed) }
        for key in long { #expect(!limiter.consume(key, limit: 1, windowSeconds: 900).allowed, "\(key) was reset by a sweep") }
        // The ended one-second windows were swept: those keys start afresh.
        #expect(limiter.consume("ip:0", limit: 1, windowSeconds: 1).allowed)
    }

    @Test("One JSON-able access log line per request, without personal data")
    func accessLog() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            _ = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(world.owner.email), "password": .string(TestServer.password)])
            _ = try await api.call(.get, "/v1/jobs/\(UUID().uuidString)?q=secret-search", as: world.owner)
        }
        let lines = harness.logs.all.filter { $0.message == "request" }
        #expect(lines.count == 2)
        #expect(lines.map { $0.metadata["tradeskit.route"] } == ["/v1/auth/login", "/v1/jobs/{id}"])
        #expect(lines.allSatisfy { $0.metadata["tradeskit.tenant"] == world.tenant.id.uuidString && $0.metadata["tradeskit.request_id"] != nil })
        #expect(lines.map { $0.metadata["tradeskit.status"] } == ["200", "404"])
        let everything = harness.logs.all.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        for secret in [world.owner.email, TestServer.password, world.owner.token, "secret-search", world.owner.id.uuidString] {
            #expect(!everything.contains(secret), "the log contains \(secret)")
        }
    }

    @Test("/metrics exports request counts and latency by route template; /health and /ready answer")
    func operations() async throws {
        let harness = try await TestServer { $0.metricsWithoutToken = true }
        let world = try await harness.world()
        try await harness.test { api async throws in
            _ = try await api.call(.get, "/v1/jobs/\(UUID().uuidString)", as: world.owner)
            _ = try await api.call(.get, "/v1/no/such/\(UUID().uuidString)")
            let metrics = try await api.call(.get, "/metrics")
            #expect(metrics.status == .ok && metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(metrics.body.contains(#"tradeskit_http_requests_total{method="GET",route="/v1/jobs/{id}",status="404"} 1"#), "\(metrics.body)")
            #expect(metrics.body.contains(#"route="unmatched""#))
            #expect(metrics.body.contains("tradeskit_http_request_duration_seconds_bucket"))
            #expect(!metrics.body.contains("/v1/no/such"))
            #expect(try await api.call(.get, "/health")["status"] == "ok")
            #expect(try await api.call(.get, "/ready")["status"] == "ready")
        }
    }

    @Test("With a metrics token, /metrics answers only a scraper that presents it")
    func metricsToken() async throws {
        let token = String(repeating: "m", count: 40)
        let harness = try await TestServer { $0.metricsToken = token }
        try await harness.test { api async throws in
            #expect(try await api.call(.get, "/metrics").status == .unauthorized)
            #expect(try await api.call(.get, "/metrics", token: token + "x").status == .unauthorized)
            let scraped = try await api.call(.get, "/metrics", token: token)
            #expect(scraped.status == .ok && scraped.body.contains("tradeskit_http_requests_total"), "\(scraped)")
            #expect(try await api.call(.get, "/health").status == .ok)
        }
        // Without a token, metrics are served only when the server says so: by default, to nobody.
        try await TestServer().test { api async throws in
            let refused = try await api.call(.get, "/metrics")
            #expect(refused.status == .forbidden && refused.problemCode == "metrics_not_served", "\(refused)")
            #expect(!refused.body.contains("tradeskit_"))
        }
        #expect(ServerConfiguration(tokenSigningKey: Array(repeating: 7, count: 32)).problems.isEmpty)
        var short = ServerConfiguration(tokenSigningKey: Array(repeating: 7, count: 32))
        short.metricsToken = "short"
        #expect(short.problems == ["the metrics token must be at least 32 bytes"])
        // A per-tenant slug in another case would sign users in and then refuse their tokens.
        var upper = ServerConfiguration(mode: .perTenant(slug: "Acme"), tokenSigningKey: Array(repeating: 7, count: 32))
        #expect(upper.problems == ["the tenant slug must be in lower case"])
        upper.mode = .perTenant(slug: "acme")
        #expect(upper.problems.isEmpty)
    }

    @Test("bcrypt hashes verify, run off the event loop, and count every byte of long passwords")
    func bcrypt() async throws {
        let hasher = try BcryptPasswordHasher(cost: 4)
        let hash = try await hasher.hash("correct horse battery staple")
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(try await hasher.verify("correct horse battery staple", against: hash))
        #expect(try await !hasher.verify("correct horse battery stapl", against: hash))
        #expect(try await !hasher.verify("anything", against: "memory$s1$0000"))
        let long = String(repeating: "a", count: 72)
        let longHash = try await hasher.hash(long + "1")
        #expect(try await !hasher.verify(long + "2", against: longHash))
        #expect(try await hasher.verify(long + "1", against: longHash))
        for cost in [3, 32] {
            let error = #expect(throws: TradesKitError.self) { try BcryptPasswordHasher(cost: cost) }
            #expect(error?.code == .validationFailed && error?.message == "The bcrypt cost must be between 4 and 31", "\(String(describing: error))")
        }
        #expect(try BcryptPasswordHasher(cost: 31).needsRehash(hash), "31 is a cost it accepts")
        // A hash of another cost, or not bcrypt at all, asks for a new one at the next sign-in.
        #expect(!hasher.needsRehash(hash))
        #expect(try BcryptPasswordHasher(cost: 5).needsRehash(hash))
        #expect(hasher.needsRehash("memory$s1$0000") && hasher.needsRehash(""))
    }

    @Test(
        "Timestamps are read by RFC 3339's grammar: any offset to ±23:59, any fraction, either case",
        arguments: [
            ("2026-01-05T09:00:00.000Z", 1_767_603_600_000), ("2026-01-05t09:00:00z", 1_767_603_600_000),
            ("2026-01-05T09:00:00+20:36", 1_767_529_440_000), ("2026-01-05T09:00:00.1234567-08:00", 1_767_632_400_123),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000), ("1969-12-31T23:59:59.5Z", -500),
        ] as [(String, Int64)])
    func timestamps(_ text: String, _ milliseconds: Int64) {
        #expect(RFC3339.date(text)?.millisecondsSince1970 == milliseconds, "\(text)")
    }

    @Test("Timestamps are written to the stored millisecond, in the proleptic Gregorian calendar, and read back exactly")
    func writtenTimestamps() {
        let reference = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        // Edges (the epoch and just before it, .999, leap days, centuries, the ends of four-digit years), then random ones.
        var milliseconds: [Int64] = [
            0, -1, -500, 999, 86_399_999, 951_782_400_000, 4_107_542_400_000, 1_709_164_800_000, -2_208_988_800_000,
            253_402_300_799_999, -62_135_596_800_000,
        ]
        milliseconds += (0..<2_000).map { _ in Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &generator) }
        for value in milliseconds {
            let date = Date(millisecondsSince1970: value)
            let text = RFC3339.string(date)
            #expect(RFC3339.date(text)?.millisecondsSince1970 == value, "\(value) → \(text)")
            #expect(text.hasSuffix(String(format: ".%03dZ", Int((value % 1_000 + 1_000) % 1_000))), "\(value) → \(text)")
            // Foundation agrees on the seconds after the Gregorian reform (before it, it counts Julian days).
            if value > -12_219_292_800_000 {
                #expect(text.prefix(19) == reference.format(date).prefix(19), "\(value) → \(text)")
            }
        }
        #expect(RFC3339.string(Date(millisecondsSince1970: -62_135_596_800_000)) == "0001-01-01T00:00:00.000Z")
        #expect(RFC3339.string(Date(millisecondsSince1970: 253_402_300_799_999)) == "9999-12-31T23:59:59.999Z")
        // A finer fraction is rounded as storage rounds it.
        #expect(RFC3339.string(Date(timeIntervalSince1970: 1.9996)) == "1970-01-01T00:00:02.000Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: 1.9994)) == "1970-01-01T00:00:01.999Z")
        // Out of RFC 3339's years: clamped, no crash.
        #expect(RFC3339.string(.distantFuture) == "4001-01-01T00:00:00.000Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: -.infinity)) == "0000-01-01T00:00:00.000Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: .nan)) == "0000-01-01T00:00:00.000Z")
    }

    @Test(
        "Malformed timestamps are refused",
        arguments: [
            "2023-02-29T00:00:00Z", "2026-01-05 09:00:00Z", "2026-01-05T09:00:00", "2026-01-05T09:00:00.Z", "2026-01-05T24:00:00Z",
            "2026-01-05T09:00:00+24:00", "2026-13-05T09:00:00Z", "2026-01-05T09:00:00Z ", "２０26-01-05T09:00:00Z",
        ])
    func malformedTimestamps(_ text: String) {
        #expect(RFC3339.date(text) == nil)
    }

    @Test("The configuration refuses short secrets and bad limits")
    func configuration() async throws {
        let weak = ServerConfiguration(listenBacklog: 0, tokenSigningKey: Array("short".utf8), bcryptCost: 40, operatorToken: "tiny")
        #expect(weak.problems.count == 4)
        #expect(weak.problems.contains("the listen backlog must be positive"))
        for window: Int64 in [0, 86_401, .max] {
            let limits = ServerConfiguration.RateLimits(windowSeconds: window)
            #expect(
                ServerConfiguration(tokenSigningKey: Array(repeating: 7, count: 32), rateLimits: limits).problems == [
                    "the rate limit window must be 1 to 86 400 seconds"
                ], "\(window)")
        }
        let refused = await #expect(throws: TradesKitError.self) {
            _ = try await TestServer { $0.tokenSigningKey = Array("short".utf8) }
        }
        #expect(refused?.code == .validationFailed, "\(String(describing: refused))")
        #expect(refused?.message.hasPrefix("Invalid server configuration: ") == true, "\(String(describing: refused))")
        #expect(refused?.message.contains("signing key") == true, "the problem is named: \(String(describing: refused))")
    }

    @Test("Operator routes: 401 without the secret, tenants and their admins with it")
    func operatorRoutes() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            #expect(try await api.call(.get, "/v1/tenants").status == .unauthorized)
            #expect(try await api.call(.get, "/v1/tenants", token: "operator-secret-0123456789abcdef-xyZ").status == .unauthorized)
            #expect(try await api.call(.get, "/v1/tenants", as: world.admin).status == .unauthorized)
            let created = try await api.call(
                .post, "/v1/tenants", token: TestServer.operatorToken,
                json: [
                    "slug": "initech", "displayName": "Initech",
                    "settings": [
                        "currency": "EUR", "platformFeeBasisPoints": 500, "branding": ["name": "Initech", "fromEmail": "hi@initech.example.com"],
                        "policies": ["vettingRequiredToBid": true],
                    ],
                ])
            #expect(created.status == .created && created["settings"]?["policies"]?["vettingRequiredToBid"] == true, "\(created)")
            let admin = try await api.call(
                .post, "/v1/tenants/\(created.id)/admins", token: TestServer.operatorToken,
                json: ["email": "boss@initech.example.com", "displayName": "Boss", "password": "a long enough password"])
            #expect(admin.status == .created && admin["role"] == "admin", "\(admin)")
            #expect(try await api.call(.get, "/v1/tenants", token: TestServer.operatorToken).items.count == 2)
            let login = try await api.call(
                .post, "/v1/auth/login", tenant: "initech", json: ["email": "boss@initech.example.com", "password": "a long enough password"])
            #expect(login.status == .ok)
            #expect(
                try await api.call(
                    .post, "/v1/tenants/\(UUID().uuidString)/admins", token: TestServer.operatorToken,
                    json: ["email": "a@b.example.com", "displayName": "A", "password": "a long enough password"]
                ).status == .notFound)
        }
        let disabled = try await TestServer { $0.operatorToken = nil }
        try await disabled.test { api async throws in
            #expect(try await api.call(.get, "/v1/tenants", token: TestServer.operatorToken).status == .unauthorized)
        }
    }
}

/// A SQLite storage in memory whose schema is behind (pending migrations), or whose database is gone (`down`: every
/// call that reaches it throws `unavailable`), for `/ready`.
struct ProbedStorage: Storage, MigrationStatusReporting {
    static let down = StorageError(.unavailable, message: "connection refused")
    let base: any Storage
    let isDown: Bool
    func tenant(_ id: TenantID) -> any TenantStorage { base.tenant(id) }
    func allTenants() async throws -> [Tenant] {
        if isDown { throw Self.down }
        return try await base.allTenants()
    }
    func tenant(slug: String) async throws -> Tenant? {
        if isDown { throw Self.down }
        return try await base.tenant(slug: slug)
    }
    func migrate() async throws {}
    func hasPendingMigrations() async throws -> Bool {
        if isDown { throw Self.down }
        return true
    }
}

@Suite("Readiness")
struct ReadinessTests {
    /// Runs `body` against a server on a ``ProbedStorage``.
    func serve(down: Bool, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let storage = ProbedStorage(base: try SQLiteStorage(.inMemory), isDown: down)
        let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
        let server = try await ReferenceServer(marketplace: market, configuration: ServerConfiguration(tokenSigningKey: TestServer.secret))
        try await server.makeApplication().test(.router, body)
    }

    @Test("Storage gone: /ready and a tenant's routes answer 503 problem+json; /health still answers")
    func storageDown() async throws {
        try await serve(down: true) { client in
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .serviceUnavailable && ready.headers[.contentType] == "application/problem+json")
            #expect(String(buffer: ready.body).contains("not_ready"))
            var headers = HTTPFields()
            headers[.tenant] = "acme"
            let categories = try await client.execute(uri: "/v1/categories", method: .get, headers: headers)
            #expect(categories.status == .serviceUnavailable && categories.headers[.contentType] == "application/problem+json")
            #expect(String(buffer: categories.body).contains("storage_unavailable"), "\(String(buffer: categories.body))")
            #expect(!String(buffer: categories.body).contains("connection refused"))
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    @Test("/ready is 503 not_ready while migrations are pending; /health still answers")
    func pendingMigrations() async throws {
        try await serve(down: false) { client in
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(String(buffer: ready.body).contains("not_ready"))
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }
}

/// The `Authorization` header's bearer token, read from its bytes.
@Suite("Bearer header")
struct BearerHeaderTests {
    @Test(
        "the token of a bearer header, or none",
        arguments: [
            ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc", "abc"), ("BEARER   abc \t ", "abc"), ("  Bearer abc", "abc"),
            ("BeArEr a b", "a b"), ("Bearer", nil), ("Bearer ", nil), ("Bearer \t ", nil), ("Bearerabc", nil), ("Bearer\tabc", nil),
            ("Basic abc", nil), ("Bearér abc", nil), ("", nil), ("Bear abc", nil), ("Bearer☃ abc", nil),
        ] as [(String, String?)])
    func bearer(header: String, token: String?) {
        #expect(RouteGuard.bearerToken(header) == token)
    }
}

@Suite("JSON media types")
struct JSONMediaTypeTests {
    @Test(
        "application/json and +json types, with parameters and blanks, in any case",
        arguments: [
            ("application/json", true), ("Application/JSON; charset=utf-8", true), (" application/json ;charset=utf-8", true),
            ("application/problem+json", true), ("application/merge-patch+json\t", true), ("text/json", false), ("application/jsonx", false),
            ("application/x-www-form-urlencoded", false), ("", false), (";application/json", false), ("application/ json", false),
        ])
    func mediaTypes(contentType: String, isJSON: Bool) {
        #expect(Call.isJSON(contentType) == isJSON)
    }
}
