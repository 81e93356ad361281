import Foundation
import Logging

/// Creates and lists tenants. Only a ``PlatformOperator`` may.
public struct TenantService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// What a new tenant needs.
    public struct NewTenant: Sendable, Hashable {
        /// URL-safe unique name: lower-case letters, digits and hyphens, 2–63 characters.
        public var slug: String
        /// The name shown to people.
        public var displayName: String
        /// Currency, fee, branding, policies.
        public var settings: TenantSettings

        /// Creates the input.
        public init(slug: String, displayName: String, settings: TenantSettings) {
            self.slug = slug
            self.displayName = displayName
            self.settings = settings
        }
    }

    /// Creates a tenant and copies the default trade catalogue into it, in one change set.
    public func create(by operator: PlatformOperator, _ input: NewTenant) async throws -> Tenant {
        var validator = Validator()
        let slug = input.slug.trimmingCharacters(in: .whitespaces)
        let slugValid =
            (2...63).contains(slug.count) && slug.first != "-" && slug.last != "-"
            && slug.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        if !slugValid { validator.fail("slug", "invalid_format", "must be 2–63 lower-case letters, digits or hyphens") }
        let displayName = validator.text(input.displayName, field: "displayName", max: 100)
        input.settings.validate(into: &validator)
        try validator.check()

        let now = environment.now()
        let tenant = Tenant(id: environment.ids.make(), slug: slug, displayName: displayName, settings: input.settings, createdAt: now)
        var changes = ChangeSet()
        changes.append(.insertTenant(tenant))
        for trade in DefaultCatalogue.trades {
            changes.append(.insertCategory(TradeCategory(id: environment.ids.make(), slug: trade.slug, name: trade.name)))
        }
        try await environment.run("tenant.create", tenant: tenant.id) {
            try await environment.storage.tenant(tenant.id).commit(changes)
        }
        environment.logger.info("Tenant created", metadata: ["tradeskit.tenant": "\(tenant.id)", "tradeskit.operator": "\(`operator`.label)"])
        return tenant
    }

    /// Every tenant.
    public func list(by operator: PlatformOperator) async throws -> [Tenant] {
        try await environment.run("tenant.list", tenant: nil) { try await environment.storage.allTenants() }
    }

    /// A tenant by slug.
    public func get(by operator: PlatformOperator, slug: String) async throws -> Tenant {
        guard let tenant = try await environment.run("tenant.get", tenant: nil, { try await environment.storage.tenant(slug: slug) }) else {
            throw TradesKitError.notFound("Tenant")
        }
        return tenant
    }

    /// The caller's own tenant (its public settings and branding).
    public func current(by principal: Principal) async throws -> Tenant {
        try await environment.run("tenant.current", tenant: principal.tenantID) {
            try await environment.tenant(of: environment.store(principal))
        }
    }

    /// The tenant's users by role, jobs by status, disputes by status, and owed and failing settlements (its admins only).
    public func counts(by principal: Principal) async throws -> TenantCounts {
        try await environment.acting("tenant.counts", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can see the tenant's figures") }
            return try await store.counts()
        }
    }

    /// Replaces a tenant's settings.
    public func updateSettings(by operator: PlatformOperator, tenant id: TenantID, _ settings: TenantSettings) async throws -> Tenant {
        var validator = Validator()
        settings.validate(into: &validator)
        try validator.check()
        let store = environment.storage.tenant(id)
        return try await environment.run("tenant.update", tenant: id) {
            var tenant = try await environment.tenant(of: store)
            tenant.settings = settings
            var changes = ChangeSet()
            let updated = changes.update(tenant)
            try await store.commit(changes)
            return updated
        }
    }
}
