import Foundation
import HTTPTypes

/// Everything the reference server is told at start: where to listen, which tenants it serves, how it signs tokens,
/// and its protective limits. One documented value instead of a long initialiser.
///
/// ```swift
/// var configuration = ServerConfiguration(tokenSigningKey: Array(secret.utf8))
/// configuration.port = 8080
/// configuration.mode = .perTenant(slug: "acme")
/// ```
public struct ServerConfiguration: Sendable {
    /// Which tenants one server answers for.
    public enum Mode: Sendable, Hashable {
        /// Every tenant: the tenant comes from the access token, and for routes without one from the `X-Tenant`
        /// header or the first label of the host name (`acme.trades.example`).
        case shared
        /// One tenant only; a token of any other tenant is refused.
        case perTenant(slug: String)
    }

    /// The server's own request limit per fixed window (DESIGN.md §7), across tenants. The login, per-user and
    /// per-tenant per-IP limits are each tenant's policies (``TradesKit/TenantPolicies``), set through the tenant routes.
    public struct RateLimits: Sendable, Hashable {
        /// API requests per client IP address in a window, across tenants (default 2000).
        public var requestsPerIPPerWindow: Int
        /// The window, in seconds (default 900).
        public var windowSeconds: Int64

        /// Creates limits; the defaults are the seed's.
        public init(requestsPerIPPerWindow: Int = 2_000, windowSeconds: Int64 = 900) {
            self.requestsPerIPPerWindow = requestsPerIPPerWindow
            self.windowSeconds = windowSeconds
        }
    }

    /// The default body limit: 1 MiB.
    public static let defaultBodyLimit = 1_048_576

    /// The address to bind (default `127.0.0.1`).
    public var host: String
    /// The port to bind (default 8080; 0 picks a free one).
    public var port: Int
    /// How many connections the kernel may hold for the server before it accepts them (default 256, capped by
    /// `net.core.somaxconn`). Beyond it a new connection's handshake is dropped and retried after a second or more: raise
    /// it where thousands of clients may connect at once.
    public var listenBacklog: Int
    /// Shared or per-tenant.
    public var mode: Mode
    /// The HS256 secret that signs access tokens; at least 32 bytes.
    public var tokenSigningKey: [UInt8]
    /// The `iss` claim written and required (default `tradeskit`).
    public var tokenIssuer: String
    /// The `aud` claim written and required (default `tradeskit-api`).
    public var tokenAudience: String
    /// How long an access token lives, in seconds (default 900, 15 minutes).
    public var accessTokenLifetime: Int64
    /// The bcrypt cost of new password hashes, 4…31 (default 12).
    public var bcryptCost: Int
    /// The largest request body accepted, in bytes.
    public var bodyLimit: Int
    /// Origins allowed to call the API from a browser (exact matches such as `https://app.example.com`).
    public var corsAllowedOrigins: [String]
    /// Whether to send `Strict-Transport-Security` (only behind TLS; off by default for plain http).
    public var strictTransportSecurity: Bool
    /// The proxies in front of the server (CIDR networks or single addresses: `10.0.0.0/8`, `127.0.0.1`, `::1`), whose
    /// `X-Forwarded-For` is believed. A request from one of them is limited by the nearest hop of that header that is
    /// not a trusted proxy; a request from anywhere else by its peer address, whatever the header says. Empty (the
    /// default): the header is ignored.
    public var trustedProxies: [String]
    /// The server's per-IP limit across tenants (each tenant's own limits are its policies).
    public var rateLimits: RateLimits
    /// The bearer secret of the platform operator for `/v1/tenants`; `nil` disables those routes (always 401).
    public var operatorToken: String?
    /// The bearer secret a Prometheus scraper presents for `/metrics`. Without one, `/metrics` answers 403 unless
    /// ``metricsWithoutToken`` is set: its counters (bids submitted, accepts, requests by route) are the marketplace's
    /// business figures.
    public var metricsToken: String?
    /// Whether `/metrics` answers anyone when there is no ``metricsToken`` (default `false`): for a server whose port
    /// only the monitoring network reaches. `trades serve --development` sets it.
    public var metricsWithoutToken = false
    /// Development mode: relaxed for local use (the `serve --development` flag). Never in production.
    public var development: Bool
    /// Whether to register `GET /v1/bench/hello`, the hello-world baseline of `trades bench http` (default `false`).
    /// Only the benchmark sets it; the route is not in the OpenAPI document.
    public var benchmarkRoute: Bool
    /// How often the server runs the marketplace's scheduled work for the tenants it serves: auto-approvals, settlements
    /// still owed (``TradesKit/PaymentService/runPendingSettlements(in:limit:)``), captures of payments held too long
    /// (``TradesKit/PaymentService/runHoldCaptures(in:limit:)``) and the identity purge; `nil` runs none, for a
    /// deployment that schedules them elsewhere. Default 60 seconds.
    public var scheduledWorkInterval: Duration? = .seconds(60)
    /// How often a server given a ``TradesKit/NotificationService`` sends the notices of the tenants it serves (default
    /// 5 seconds; `nil` sends none).
    public var notificationInterval: Duration? = .seconds(5)
    /// How long a connection may sit without a request in progress before the server closes it (default 60 seconds;
    /// `nil` keeps idle connections open forever, which lets a client hold sockets without sending anything).
    public var idleTimeout: Duration? = .seconds(60)
    /// How long a graceful shutdown (SIGTERM, SIGINT) may wait for requests and background work in flight before it
    /// cancels them (default 30 seconds, under the usual 30–60 s an orchestrator waits before SIGKILL; `nil` waits as
    /// long as they take).
    public var shutdownGracePeriod: Duration? = .seconds(30)

    /// Creates a configuration with the defaults above.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, listenBacklog: Int = 256, mode: Mode = .shared, tokenSigningKey: [UInt8],
        tokenIssuer: String = "tradeskit", tokenAudience: String = "tradeskit-api", accessTokenLifetime: Int64 = 900,
        bcryptCost: Int = 12, bodyLimit: Int = ServerConfiguration.defaultBodyLimit, corsAllowedOrigins: [String] = [],
        strictTransportSecurity: Bool = false, trustedProxies: [String] = [], rateLimits: RateLimits = RateLimits(),
        operatorToken: String? = nil, development: Bool = false, benchmarkRoute: Bool = false
    ) {
        self.host = host
        self.port = port
        self.listenBacklog = listenBacklog
        self.mode = mode
        self.tokenSigningKey = tokenSigningKey
        self.tokenIssuer = tokenIssuer
        self.tokenAudience = tokenAudience
        self.accessTokenLifetime = accessTokenLifetime
        self.bcryptCost = bcryptCost
        self.bodyLimit = bodyLimit
        self.corsAllowedOrigins = corsAllowedOrigins
        self.strictTransportSecurity = strictTransportSecurity
        self.trustedProxies = trustedProxies
        self.rateLimits = rateLimits
        self.operatorToken = operatorToken
        self.development = development
        self.benchmarkRoute = benchmarkRoute
    }

    /// Reasons the configuration cannot be used; empty when it is sound.
    public var problems: [String] {
        var problems: [String] = []
        if tokenSigningKey.count < 32 { problems.append("the token signing key must be at least 32 bytes") }
        if listenBacklog < 1 { problems.append("the listen backlog must be positive") }
        // Slugs are stored in lower case, and tokens name theirs: another spelling would sign in and then refuse every token.
        if case .perTenant(let slug) = mode, slug != slug.lowercased() { problems.append("the tenant slug must be in lower case") }
        if !(4...31).contains(bcryptCost) { problems.append("the bcrypt cost must be between 4 and 31") }
        if !(60...86_400).contains(accessTokenLifetime) { problems.append("the access token lifetime must be 60…86400 seconds") }
        if bodyLimit < 1_024 { problems.append("the body limit must be at least 1024 bytes") }
        if !(0...65_535).contains(port) { problems.append("the port must be 0…65535") }
        if let operatorToken, operatorToken.utf8.count < 32 { problems.append("the operator token must be at least 32 bytes") }
        if let metricsToken, metricsToken.utf8.count < 32 { problems.append("the metrics token must be at least 32 bytes") }
        if tokenIssuer.isEmpty || tokenAudience.isEmpty { problems.append("the token issuer and audience must not be empty") }
        for proxy in trustedProxies where IPNetwork(proxy) == nil {
            problems.append("the trusted proxy \(proxy) is not an IP address or a CIDR network (host bits clear)")
        }
        if rateLimits.requestsPerIPPerWindow < 1 { problems.append("rate limits must be positive") }
        if !(1...86_400).contains(rateLimits.windowSeconds) { problems.append("the rate limit window must be 1 to 86 400 seconds") }
        if let idleTimeout, !(.seconds(1)...(.seconds(86_400))).contains(idleTimeout) {
            problems.append("the idle timeout must be 1 second to 1 day")
        }
        if let shutdownGracePeriod, !(.zero...(.seconds(3_600))).contains(shutdownGracePeriod) {
            problems.append("the shutdown grace period must be 0 to 3600 seconds")
        }
        return problems
    }
}
