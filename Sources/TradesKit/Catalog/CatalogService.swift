/// The tenant's trade categories.
public struct CatalogService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// Every category of the caller's tenant, by name.
    public func categories(by principal: Principal) async throws -> [TradeCategory] {
        try await environment.run("catalog.list", tenant: principal.tenantID) {
            try await environment.store(principal).categories()
        }
    }

    /// Every category of a tenant, for unauthenticated pages (categories are public).
    public func categories(in tenant: TenantID) async throws -> [TradeCategory] {
        try await environment.run("catalog.list", tenant: tenant) {
            try await environment.storage.tenant(tenant).categories()
        }
    }
}
