import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import ReferenceServer
import Testing
import TradesKit
import TradesKitTesting

/// Limits that hold against a client who chooses its paths, addresses and keys to get around them.
@Suite("Rate limits against evasion")
struct AbuseLimitTests {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    /// The proxy the tests' requests come from (`.live` tests connect over loopback).
    static let loopback = ["127.0.0.1", "::1"]

    static func from(_ address: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[forwardedFor] = address
        return headers
    }

    @Test("The server's per-IP limit counts every path, however spelled; only the liveness probe is free")
    func everyPathCounts() async throws {
        let harness = try await TestServer {
            $0.rateLimits.requestsPerIPPerWindow = 3
            $0.trustedProxies = Self.loopback
        }
        _ = try await harness.world()
        try await harness.test(.live) { api async throws in
            let client = Self.from("203.0.113.20")
            // The router ignores empty segments: `//v1/…` reaches the API and must be counted like `/v1/…`.
            for path in ["//v1/categories", "/v1/categories", "/nothing-here"] {
                #expect(try await api.call(.get, path, tenant: "acme", headers: client).status != .tooManyRequests, "\(path)")
            }
            let limited = try await api.call(.get, "//v1/auth/login", tenant: "acme", headers: client)
            #expect(limited.status == .tooManyRequests && limited.headers[.rateLimitLimit] == "3", "\(limited)")
            for _ in 1...5 { #expect(try await api.call(.get, "/health", headers: client).status == .ok) }
            #expect(try await api.call(.get, "/ready", headers: client).status == .tooManyRequests, "/ready reads storage and counts")
        }
    }

    @Test("A client that is not a trusted proxy cannot choose its address with X-Forwarded-For")
    func untrustedForwardedFor() async throws {
        let harness = try await TestServer {
            $0.rateLimits.requestsPerIPPerWindow = 3
            $0.trustedProxies = ["10.0.0.0/8"]
        }
        _ = try await harness.world()
        try await harness.test(.live) { api async throws in
            var statuses: [Int] = []
            for attempt in 1...4 {
                let forged = Self.from("203.0.113.\(attempt)")
                statuses.append(try await api.call(.get, "/v1/categories", tenant: "acme", headers: forged).status.code)
            }
            #expect(statuses == [200, 200, 200, 429], "a fresh forged address got a fresh budget: \(statuses)")
        }
    }

    @Test("IPv6 clients are limited by their /64 network; IPv4-mapped addresses as IPv4")
    func ipv6Networks() async throws {
        #expect(RequestLimitsMiddleware.clientNetwork("2001:db8::1") == "2001:db8:0:0::/64")
        #expect(RequestLimitsMiddleware.clientNetwork("2001:0db8:0000:0000:ffff:1:2:3") == "2001:db8:0:0::/64")
        #expect(RequestLimitsMiddleware.clientNetwork("2001:db8:0:1::1") == "2001:db8:0:1::/64")
        #expect(RequestLimitsMiddleware.clientNetwork("::ffff:198.51.100.4") == "198.51.100.4")
        #expect(RequestLimitsMiddleware.clientNetwork("198.51.100.4") == "198.51.100.4")

        let harness = try await TestServer {
            $0.rateLimits.requestsPerIPPerWindow = 2
            $0.trustedProxies = Self.loopback
        }
        _ = try await harness.world()
        try await harness.test(.live) { api async throws in
            func status(_ address: String) async throws -> HTTPResponse.Status {
                try await api.call(.get, "/v1/categories", tenant: "acme", headers: Self.from(address)).status
            }
            #expect(try await status("2001:db8::1") == .ok)
            #expect(try await status("2001:db8::2") == .ok)
            #expect(try await status("2001:db8::ffff:3") == .tooManyRequests, "a fresh address in the same /64 got a fresh budget")
            #expect(try await status("2001:db8:0:1::1") == .ok)
        }
    }

    @Test("The tenant's per-IP policy limits its own routes, beside the server's limit")
    func tenantPerIPPolicy() async throws {
        let harness = try await TestServer { $0.trustedProxies = Self.loopback }
        let world = try await harness.world()
        var settings = world.tenant.settings
        settings.policies.apiRequestsPerIPPerWindow = 3
        _ = try await harness.market.tenants.updateSettings(by: TestServer.op, tenant: world.tenant.id, settings)
        harness.clock.advance(by: 60)  // past the tenant cache
        try await harness.test(.live) { api async throws in
            let client = Self.from("203.0.113.30")
            #expect(try await api.call(.get, "/v1/categories", tenant: "acme", headers: client).status == .ok)
            #expect(try await api.call(.get, "/v1/me", as: world.owner, headers: client).status == .ok)
            #expect(try await api.call(.get, "/v1/jobs", as: world.contractorA, headers: client).status == .ok)
            let limited = try await api.call(.get, "/v1/categories", tenant: "acme", headers: client)
            #expect(limited.status == .tooManyRequests && limited.headers[.rateLimitLimit] == "3", "\(limited)")
            #expect(try await api.call(.get, "/v1/me", as: world.owner, headers: client).status == .tooManyRequests)
            #expect(try await api.call(.get, "/v1/categories", tenant: "acme", headers: Self.from("203.0.113.31")).status == .ok)
        }
    }

    @Test("Password reset e-mails to one address are limited however many clients ask")
    func resetPerAddress() async throws {
        let harness = try await TestServer { $0.trustedProxies = Self.loopback }
        let world = try await harness.world()
        try await harness.test(.live) { api async throws in
            var statuses: [Int] = []
            for client in 1...11 {
                let answer = try await api.call(
                    .post, "/v1/auth/password-reset", tenant: "acme", json: ["email": .string(world.owner.email)],
                    headers: Self.from("198.51.100.\(client)"))
                statuses.append(answer.status.code)
            }
            #expect(statuses == Array(repeating: 202, count: 10) + [429], "\(statuses)")
            // Another address is not held back.
            let other = try await api.call(
                .post, "/v1/auth/password-reset", tenant: "acme", json: ["email": .string(world.contractorA.email)],
                headers: Self.from("198.51.100.99"))
            #expect(other.status == .accepted)
        }
    }

    @Test("String limits count Unicode scalars: a few characters of stacked combining marks are refused")
    func combiningMarks() async throws {
        let harness = try await TestServer()
        _ = try await harness.world()
        try await harness.test { api async throws in
            // 10 characters, 2 010 scalars: within 254 characters, far beyond 254 code points (JSON Schema's count).
            let email = String(repeating: "a" + String(repeating: "\u{0301}", count: 200), count: 10) + "@x.io"
            let answer = try await api.call(
                .post, "/v1/auth/login", tenant: "acme", json: ["email": .string(email), "password": "whatever password"])
            #expect(answer.status == .unprocessableContent && answer.fieldErrors == ["email"], "\(answer)")
        }
    }

    @Test("A flood of made-up tenant slugs does not push real tenants out of the directory's cache")
    func tenantCacheFlood() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let directory = TenantDirectory(storage: harness.market.storage, clock: harness.clock)
        #expect(try await directory.tenant(slug: "acme")?.displayName == world.tenant.displayName)
        // Changed in storage behind the cache's back: a lookup served from the cache still shows the old name.
        var settings = world.tenant.settings
        settings.branding.name = "Renamed"
        _ = try await harness.market.tenants.updateSettings(by: TestServer.op, tenant: world.tenant.id, settings)
        for index in 0..<2_500 { #expect(try await directory.tenant(slug: "nobody-\(index)") == nil) }
        #expect(try await directory.tenant(slug: "acme")?.settings.branding.name == world.tenant.settings.branding.name, "evicted by misses")
        harness.clock.advance(by: 31)
        #expect(try await directory.tenant(slug: "acme")?.settings.branding.name == "Renamed")
    }

    @Test("The limiter holds at most its bound of keys, dropping ended windows first, then the oldest")
    func limiterBound() {
        let clock = ManualClock()
        let limiter = RateLimiter(clock: clock, sweepThreshold: 8, maximumKeys: 8)
        #expect(limiter.consume("first", limit: 1, windowSeconds: 900).allowed)
        clock.advance(by: 1)
        for index in 0..<7 { #expect(limiter.consume("key \(index)", limit: 1, windowSeconds: 900).allowed) }
        #expect(limiter.keyCount == 8)
        clock.advance(by: 1)
        // A ninth live key: the oldest windows make room, so the count stays bounded.
        let long = String(repeating: "x", count: 100_000)
        #expect(limiter.consume(long, limit: 1, windowSeconds: 900).allowed)
        #expect(limiter.keyCount <= 8)
        #expect(limiter.consume("first", limit: 1, windowSeconds: 900).allowed, "the oldest window should have been evicted")
        #expect(!limiter.consume(long, limit: 1, windowSeconds: 900).allowed, "the newest window was evicted")
        for index in 0..<1_000 { _ = limiter.consume("flood \(index)", limit: 1, windowSeconds: 900) }
        #expect(limiter.keyCount <= 8)
    }
}
