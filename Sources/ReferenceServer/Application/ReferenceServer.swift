import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
public import NIOCore
import ServiceLifecycle
import UnixSignals
public import TradesKit

/// The reference HTTP server of TradesKit: the JSON API of DESIGN.md §7 over a ``TradesKit/Marketplace``.
///
/// ```swift
/// let server = try await ReferenceServer(marketplace: market, configuration: configuration)
/// try await server.makeApplication().runService()     // stops gracefully on SIGTERM and SIGINT
/// ```
///
/// Tests use the same application with HummingbirdTesting: `try await server.makeApplication().test(.router) { … }`.
public struct ReferenceServer: Sendable {
    /// The configuration it was made with.
    public let configuration: ServerConfiguration
    /// Its metrics (exported at `/metrics`).
    public let metrics: ServerMetrics
    /// Every route, as registered.
    public let routes: [Route]
    /// The OpenAPI document served at `/openapi.json`.
    public let openAPIDocument: JSONValue
    let services: ServerServices
    /// Sends the outbox's notices, when set.
    let notifications: NotificationService?

    /// Makes a server. Throws when ``ServerConfiguration/problems`` is not empty.
    ///
    /// With `notifications`, it sends the outbox's notices by e-mail and SMS every
    /// ``ServerConfiguration/notificationInterval``; without, the events wait in the outbox for a consumer of the
    /// embedder's own.
    public init(
        marketplace: Marketplace, configuration: ServerConfiguration, notifications: NotificationService? = nil,
        clock: any WallClock = SystemClock(), metrics: ServerMetrics = ServerMetrics(), logger: Logger = Logger(label: "tradeskit.server")
    ) async throws {
        let problems = configuration.problems
        guard problems.isEmpty else { throw TradesKitError(.validationFailed, "Invalid server configuration: " + problems.joined(separator: "; ")) }
        let tokens = await TokenAuthority(
            key: configuration.tokenSigningKey, issuer: configuration.tokenIssuer, audience: configuration.tokenAudience,
            lifetime: configuration.accessTokenLifetime, clock: clock)
        services = ServerServices(
            market: marketplace, configuration: configuration, tokens: tokens, cursors: CursorSeal(signingKey: configuration.tokenSigningKey),
            tenants: TenantDirectory(storage: marketplace.storage, clock: clock), limiter: RateLimiter(clock: clock), metrics: metrics,
            operators: OperatorAuthenticator(secret: configuration.operatorToken), metricsSecret: BearerSecret(configuration.metricsToken),
            background: BackgroundWork(), clock: clock, logger: logger)
        self.configuration = configuration
        self.metrics = metrics
        self.notifications = notifications
        if configuration.development { logger.warning("Development mode: not for production") }

        let api =
            AuthRoutes.routes() + EmailLinkRoutes.routes() + TwoFactorRoutes.routes() + AccountRoutes.routes() + CatalogRoutes.routes()
            + JobRoutes.routes() + BidRoutes.routes()
            + ThreadRoutes.routes() + DisputeRoutes.routes() + AdminRoutes.routes() + TenantRoutes.routes()
        let operationSpecs = OperationsRoutes.routes(document: { [:] }).map(\.spec)
        // A server of one tenant can say which currency amounts are in and which categories exist; a shared one cannot.
        var currency: Currency?
        var categories: [CategoryID]?
        if case .perTenant(let slug) = configuration.mode, let tenant = try await marketplace.storage.tenant(slug: slug) {
            currency = tenant.settings.currency
            categories = try await marketplace.catalog.categories(in: tenant.id).map(\.id)
        }
        let document = OpenAPIDocument.make(
            routes: api.map(\.spec) + operationSpecs, configuration: configuration, currency: currency, categories: categories)
        openAPIDocument = document
        routes = api + OperationsRoutes.routes(document: { document }) + (configuration.benchmarkRoute ? BenchmarkRoutes.routes() : [])
    }

    /// The token authority, for embedders that log users in their own way.
    public var tokens: TokenAuthority { services.tokens }

    /// The router with every middleware and route.
    public func makeRouter() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        // Outermost first: every answer, errors included, gets a request id, a log line, security and CORS headers.
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware(metrics: services.metrics, logger: services.logger))
        router.add(middleware: SecurityHeadersMiddleware(strictTransportSecurity: configuration.strictTransportSecurity))
        router.add(middleware: CORSMiddleware(allowedOrigins: Set(configuration.corsAllowedOrigins), clock: services.clock))
        router.add(
            middleware: ProblemMiddleware(
                routes: routes.map(\.spec), clock: services.clock,
                lockoutThreshold: services.market.configuration.identity.lockout.threshold))
        router.add(middleware: RequestLimitsMiddleware(configuration: configuration, limiter: services.limiter))
        let guardian = RouteGuard(services: services)
        let services = services
        for route in routes {
            let access = route.spec.access
            let handler = route.handler
            router.on(RouterPath(route.spec.path), method: route.spec.method) { request, context -> Response in
                var context = context
                try await guardian.admit(access, request, &context)
                do {
                    return try await handler(Call(request: request, context: context, services: services))
                } catch let error as TradesKitError where error.code == .unauthenticated && context.principal != nil {
                    // The token verified, but core found its session over (a logout, a password reset, a reused refresh
                    // token, a suspension): the same answer as any refused token, so the client signs in again.
                    throw ServerError.unauthenticated()
                }
            }
        }
        return router
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully: the application runs in a swift-service-lifecycle
    /// `ServiceGroup` that lets requests in flight finish.
    ///
    /// `onServerRunning` is called with the listening channel once it is bound (its `localAddress` tells the port when
    /// the configuration asks for port 0).
    public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        var group = ServiceGroupConfiguration(
            services: [makeApplication(onServerRunning: onServerRunning)], gracefulShutdownSignals: [.sigterm, .sigint], logger: services.logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod
        try await ServiceGroup(configuration: group).run()
        services.logger.info("Server stopped")
    }

    /// The scheduled work, unless the configuration turns it off.
    private var scheduledWork: ScheduledWork? {
        configuration.scheduledWorkInterval.map {
            ScheduledWork(market: services.market, mode: configuration.mode, interval: $0, logger: services.logger)
        }
    }

    /// The notification loop, when the server has a notification service and the configuration an interval.
    private var notificationWork: NotificationWork? {
        guard let notifications, let interval = configuration.notificationInterval else { return nil }
        return NotificationWork(
            notifications: notifications, market: services.market, mode: configuration.mode, interval: interval, logger: services.logger)
    }

    /// The Hummingbird application listening where the configuration says.
    public func makeApplication() -> some ApplicationProtocol {
        makeApplication(onServerRunning: { _ in })
    }

    /// The Hummingbird application listening where the configuration says, calling `onServerRunning` with the listening
    /// channel once it is bound (its `localAddress` tells the port when the configuration asks for port 0).
    public func makeApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void) -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: configuration.idleTimeout.map(TimeAmount.init))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil, backlog: configuration.listenBacklog),
            services: [services.background] + ([scheduledWork, notificationWork] as [(any Service)?]).compactMap { $0 },
            onServerRunning: onServerRunning,
            logger: services.logger)
    }
}
