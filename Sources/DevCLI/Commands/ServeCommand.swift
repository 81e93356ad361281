import ArgumentParser
import Crypto
import Foundation
import Logging
import ReferenceServer
import StorageSQLite
import TradesKit
import TradesKitTesting

/// `trades serve`: the reference HTTP server on a SQLite database.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the reference HTTP server (JSON API, OpenAPI at /openapi.json).",
        discussion: """
            Signs access tokens with TRADESKIT_JWT_SECRET (at least 32 bytes); TRADESKIT_OPERATOR_TOKEN enables the \
            platform operator's /v1/tenants routes; TRADESKIT_METRICS_TOKEN, when set, is the bearer token /metrics \
            requires. TOTP secrets are sealed at rest with TRADESKIT_TOTP_KEY (base64 of \
            32 bytes), or else with a key derived from TRADESKIT_JWT_SECRET, so two-factor enrolments survive restarts. \
            With --development, a missing secret is generated for this run, and a new database gets the tenant 'demo' \
            with the default categories and an admin whose credentials are printed. Stops gracefully on SIGTERM or SIGINT.

            E-mail: this build has no e-mail provider yet (the SendGrid adapter comes later). Verification and password \
            reset e-mails go to standard output instead: with --development their links, tokens included, are printed so \
            you can follow them; otherwise only a line saying an e-mail was not delivered (no address, no token). The links \
            are <public-url>/verify-email?token=… and <public-url>/reset-password?token=…: pages of your client app, which \
            post the token to /v1/auth/verify-email or /v1/auth/password-reset/confirm.
            """
    )

    @OptionGroup var options: DatabaseOptions
    @Option(help: "The address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "The port to listen on.") var port: Int = 8080
    @Option(help: "Serve this tenant only (per-tenant mode); by default every tenant (shared mode).") var tenant: String?
    @Option(help: "An origin allowed to call the API from a browser (repeatable).") var corsOrigin: [String] = []
    @Option(help: "The bcrypt cost of new password hashes (4…31).") var bcryptCost: Int = 12
    @Option(help: "API requests per client IP address in 15 minutes, across tenants.") var requestsPerIP: Int = 2_000
    @Option(help: "The URL clients reach this server at, which e-mailed links start with (default http://HOST:PORT).") var publicURL: String?
    @Option(
        name: .customLong("trusted-proxy"),
        help: "A proxy in front (an IP address or CIDR network; repeat for more) whose X-Forwarded-For names the client to rate-limit.")
    var trustedProxies: [String] = []
    @Flag(help: "Development mode: generated secrets, and a demo tenant and admin on a new database.") var development = false
    @Flag(help: "Serve /metrics to anyone when TRADESKIT_METRICS_TOKEN is not set (only the monitoring network reaches the port).")
    var openMetrics = false

    static let demoSlug = "demo"
    static let demoAdminEmail = "admin@demo.example.com"

    func run() async throws {
        if options.isPostgres {
            // A PostgreSQL database is "new" for the development set-up when it has no demo tenant yet.
            try await options.withStorage { storage in
                try await serve(storage, isNewDatabase: try await storage.tenant(slug: Self.demoSlug) == nil)
            }
        } else {
            let isNewDatabase = !FileManager.default.fileExists(atPath: options.database)
            try await serve(try options.openSQLite(), isNewDatabase: isNewDatabase)
        }
    }

    private func serve(_ storage: any Storage, isNewDatabase: Bool) async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = Logger(label: "tradeskit.server")

        let secret = try signingSecret(environment, logger: logger)
        var configuration = ServerConfiguration(tokenSigningKey: Array(secret.utf8))
        configuration.host = host
        configuration.port = port
        configuration.mode = tenant.map { .perTenant(slug: $0) } ?? .shared
        configuration.bcryptCost = bcryptCost
        configuration.corsAllowedOrigins = corsOrigin
        configuration.rateLimits.requestsPerIPPerWindow = requestsPerIP
        configuration.trustedProxies = trustedProxies
        configuration.development = development
        configuration.operatorToken = environment["TRADESKIT_OPERATOR_TOKEN"]
        configuration.metricsToken = environment["TRADESKIT_METRICS_TOKEN"]
        configuration.metricsWithoutToken = openMetrics || development
        if development, configuration.operatorToken == nil { configuration.operatorToken = Self.randomSecret() }
        if let problem = configuration.problems.first { throw ValidationError("Cannot start: \(problem).") }
        let hasher = try BcryptPasswordHasher(cost: configuration.bcryptCost)
        let base = try linkBase()
        var identity = IdentityConfiguration(twoFactorSealingKey: try sealingKey(environment, secret: secret))
        identity.verificationLinkBase = base + "/verify-email"
        identity.passwordResetLinkBase = base + "/reset-password"
        let email = ConsoleEmailSender(showsLinks: development) { Self.say($0) }
        // Payments stay in memory until the Stripe adapter lands; said loudly at start.
        let market = Marketplace(
            storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: hasher, emailSender: email, logger: logger,
            configuration: Marketplace.Configuration(identity: identity))

        let demoPassword = development && isNewDatabase ? try await createDemo(market) : nil
        if let slug = tenant { _ = try await resolveTenant(slug, in: storage) }

        // Notices are sent only where they can be seen: in development, written to standard output. Otherwise they wait
        // in the outbox, for the SendGrid and Twilio adapters (or an embedder's consumer) to deliver.
        let notifications = development ? NotificationService(marketplace: market, email: email, sms: ConsoleSMSSender { Self.say($0) }) : nil
        let server = try await ReferenceServer(marketplace: market, configuration: configuration, notifications: notifications, logger: logger)
        Self.say("TradesKit reference server listening on http://\(host):\(port) (database \(options.displayName)).")
        Self.say("OpenAPI: http://\(host):\(port)/openapi.json")
        logger.warning("Payments use an in-memory processor in this build: no real money moves")
        if !development {
            logger.warning("No e-mail provider in this build: verification and password reset e-mails are not delivered")
            logger.warning("No e-mail or SMS provider in this build: the parties' notices wait in the outbox")
        }
        if let demoPassword {
            Self.say("Development database: tenant '\(Self.demoSlug)' with the default categories.")
            Self.say("Admin: \(Self.demoAdminEmail) / \(demoPassword)   (send X-Tenant: \(Self.demoSlug) to log in)")
        } else if development {
            // Printed once, on the run that created it: a lost password is reset like anyone's.
            Self.say("Development database: existing. The admin's password was printed when it was created; reset it with")
            Self.say("POST /v1/auth/password-reset (X-Tenant: \(Self.demoSlug)), whose link this server prints.")
        }
        if development, environment["TRADESKIT_OPERATOR_TOKEN"] == nil, let token = configuration.operatorToken {
            Self.say("Operator token for /v1/tenants (this run only): \(token)")
        }
        try await server.run()
    }

    private func signingSecret(_ environment: [String: String], logger: Logger) throws -> String {
        if let secret = environment["TRADESKIT_JWT_SECRET"] {
            guard secret.utf8.count >= 32 else { throw ValidationError("TRADESKIT_JWT_SECRET must be at least 32 bytes.") }
            return secret
        }
        guard development else {
            throw ValidationError("Set TRADESKIT_JWT_SECRET (at least 32 bytes), or pass --development for a secret generated for this run.")
        }
        logger.warning("TRADESKIT_JWT_SECRET is not set: using a random secret for this run; tokens stop working at restart")
        return Self.randomSecret()
    }

    /// The demo tenant, its categories and an admin with a fresh random password.
    private func createDemo(_ market: Marketplace) async throws -> String {
        let tenant = try await market.tenants.create(
            by: cliOperator, .init(slug: Self.demoSlug, displayName: "Demo Trades", settings: .defaults(named: "Demo Trades")))
        let password = Self.randomSecret(bytes: 12)
        _ = try await market.users.createAdmin(
            by: cliOperator, in: tenant.id, email: Self.demoAdminEmail, displayName: "Administrator", password: password)
        return password
    }

    /// The key that seals TOTP secrets at rest: TRADESKIT_TOTP_KEY, or one derived from the token secret (HKDF-SHA256
    /// with its own label, so neither key tells anything about the other).
    private func sealingKey(_ environment: [String: String], secret: String) throws -> SymmetricKey {
        if let encoded = environment["TRADESKIT_TOTP_KEY"] {
            guard let key = Data(base64Encoded: encoded), key.count == 32 else {
                throw ValidationError("TRADESKIT_TOTP_KEY must be the base64 of 32 bytes.")
            }
            return SymmetricKey(data: key)
        }
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("tradeskit.totp-sealing-key".utf8), outputByteCount: 32)
    }

    /// `--public-url` without a trailing slash, or `http://HOST:PORT`.
    private func linkBase() throws -> String {
        guard let publicURL else { return "http://\(host):\(port)" }
        guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme?.lowercased()), url.host != nil,
            url.query == nil, url.fragment == nil
        else { throw ValidationError("--public-url must be an http(s) URL without a query, such as https://trades.example.com.") }
        return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// Prints a line at once: standard output is block-buffered when redirected, and the server runs until stopped.
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// A random URL-safe secret.
    static func randomSecret(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
