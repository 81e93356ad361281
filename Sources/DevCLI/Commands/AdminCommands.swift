import ArgumentParser
import Foundation
import StoragePostgres
import StorageSQLite
import TradesKit
import TradesKitTesting

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or upgrade the database schema.")

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let applied: [String]
        if options.isPostgres {
            // The URL's role is the owner: it owns the schema and runs the migrations; the app role needs nothing here.
            let storage = PostgresStorage(configuration: try options.postgresConfiguration(asOwner: true), logger: cliLogger)
            applied = try await options.withRunning(storage) { storage in
                try await storage.migrate()
                return try await storage.appliedMigrations().map { "\($0.version)-\($0.name)" }
            }
        } else {
            let storage = try options.openSQLite()
            try await storage.migrate()
            applied = try await storage.appliedMigrations()
        }
        print("Database \(options.displayName) is at the latest schema (\(applied.count) migrations: \(applied.joined(separator: ", "))).")
    }
}

struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Create a tenant with the default trade catalogue, and optionally its first admin.",
        discussion: """
            Idempotent: an existing tenant or admin is left as it is. The admin is created without a password; \
            the reference server's password-reset flow sets one.
            """
    )

    @OptionGroup var options: DatabaseOptions
    @Option(help: "The tenant's slug.") var tenant: String = "demo"
    @Option(help: "The tenant's display name.") var name: String = "Demo Trades"
    @Option(help: "The e-mail address of the first admin.") var adminEmail: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await options.withStorage { storage in try await seed(storage) }
    }

    private func seed(_ storage: any Storage) async throws {
        let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
        let existing = try await storage.tenant(slug: tenant)
        let record: Tenant
        if let existing {
            record = existing
        } else {
            record = try await market.tenants.create(by: cliOperator, .init(slug: tenant, displayName: name, settings: .defaults(named: name)))
        }
        var admin: User?
        if let adminEmail {
            let address = try EmailAddress(adminEmail)
            if let found = try await storage.tenant(record.id).user(email: address) {
                // An idempotent seed must not call another kind of account this tenant's admin.
                guard found.role == .admin else {
                    throw ValidationError("That address belongs to a \(found.role.rawValue) of the tenant, not an admin.")
                }
                admin = found
            } else {
                admin = try await market.users.createAdmin(
                    by: cliOperator, in: record.id, email: adminEmail, displayName: "Administrator", password: nil)
            }
        }
        let categories = try await storage.tenant(record.id).categories()
        if json {
            try printJSON(
                SeedReport(tenantID: record.id, slug: record.slug, created: existing == nil, categories: categories.count, adminID: admin?.id))
        } else {
            print("Tenant '\(record.slug)' \(existing == nil ? "created" : "already existed") with \(categories.count) trade categories.")
            if let admin { print("Admin \(admin.id) ready\(admin.passwordHash == nil ? " (no password yet)" : "").") }
        }
    }

    struct SeedReport: Encodable {
        let tenantID: TenantID
        let slug: String
        let created: Bool
        let categories: Int
        let adminID: UserID?
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create and list tenants.",
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant with the default trade catalogue.")

        @OptionGroup var options: DatabaseOptions
        @Option(help: "URL-safe unique name.") var slug: String
        @Option(help: "Display name.") var name: String
        @Option(help: "ISO 4217 currency.") var currency: String = "USD"
        @Option(help: "Platform fee in basis points (100 = 1%).") var feeBps: Int = 1_000
        @Option(help: "Sender address for e-mail.") var fromEmail: String = "no-reply@example.com"
        @Flag(help: "Require vetting before contractors can bid.") var requireVetting = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let currency = Currency(code: currency) else { throw ValidationError("Unsupported currency '\(currency)'.") }
            var settings = TenantSettings.defaults(named: name, currency: currency, fromEmail: fromEmail)
            settings.platformFeeBasisPoints = feeBps
            settings.policies.vettingRequiredToBid = requireVetting
            let tenant = try await options.withStorage { storage in
                let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
                return try await market.tenants.create(by: cliOperator, .init(slug: slug, displayName: name, settings: settings))
            }
            if json { try printJSON(TenantRow(tenant)) } else { print("Created tenant '\(tenant.slug)' (\(tenant.id)).") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")

        @OptionGroup var options: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tenants = try await options.withStorage { storage in try await storage.allTenants() }
            if json { return try printJSON(tenants.map(TenantRow.init)) }
            if tenants.isEmpty { return print("No tenants. Create one with `trades tenant create --slug acme --name \"Acme Trades\"`.") }
            for tenant in tenants {
                let fee = percent(basisPoints: tenant.settings.platformFeeBasisPoints)
                print("\(tenant.slug.padded(20)) \(tenant.id)  \(tenant.settings.currency.code)  fee \(fee)  \(tenant.displayName)")
            }
        }
    }

    struct TenantRow: Encodable {
        let id: TenantID
        let slug: String
        let displayName: String
        let currency: String
        let platformFeeBasisPoints: Int

        init(_ tenant: Tenant) {
            id = tenant.id
            slug = tenant.slug
            displayName = tenant.displayName
            currency = tenant.settings.currency.code
            platformFeeBasisPoints = tenant.settings.platformFeeBasisPoints
        }
    }
}

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Copy the SQLite database online, while it is in use.")

    @OptionGroup var options: DatabaseOptions
    @Option(help: "Where to write the backup.") var to: String

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) already exists; choose a new path.") }
        let storage = try options.openSQLite(for: "trades backup")
        try await storage.backup(to: to)
        print("Backed up \(options.database) to \(to).")
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "Ledger tools.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that every ledger transaction of every tenant sums to zero.")

        @OptionGroup var options: DatabaseOptions
        @Option(help: "Only this tenant.") var tenant: String?

        func run() async throws {
            let broken = try await options.withStorage { storage in try await check(storage) }
            if broken > 0 { throw ExitCode(1) }
        }

        private func check(_ storage: any Storage) async throws -> Int {
            let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
            let tenants = if let tenant { [try await resolveTenant(tenant, in: storage)] } else { try await storage.allTenants() }
            var broken = 0
            for tenant in tenants {
                let unbalanced = try await market.payments.unbalancedTransactions(by: cliOperator, in: tenant.id)
                broken += unbalanced.count
                print(
                    unbalanced.isEmpty
                        ? "\(tenant.slug): balanced"
                        : "\(tenant.slug): \(unbalanced.count) unbalanced transactions: \(unbalanced.map(\.description).joined(separator: ", "))"
                )
            }
            return broken
        }
    }
}

extension TenantSettings {
    /// Sensible settings for a new tenant made from the command line.
    static func defaults(named name: String, currency: Currency = .usd, fromEmail: String = "no-reply@example.com") -> TenantSettings {
        TenantSettings(currency: currency, platformFeeBasisPoints: 1_000, branding: Branding(name: name, fromEmail: fromEmail))
    }
}
