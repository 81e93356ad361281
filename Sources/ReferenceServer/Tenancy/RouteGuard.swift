import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TradesKit

/// Grants access to a route before its handler runs: resolves the tenant, verifies the access token or the operator
/// secret, and applies the tenant's rate limits (per client address, and per user on authenticated routes).
/// Authorization of the operation itself is core's.
struct RouteGuard: Sendable {
    let services: ServerServices

    /// Fills `context` with the tenant and principal that `access` requires, or throws.
    func admit(_ access: RouteAccess, _ request: Request, _ context: inout ServerContext) async throws {
        switch access {
        case .open:
            return
        case .operator:
            guard let secret = Self.bearer(request), services.operators.authenticate(secret) != nil else { throw ServerError.unauthenticated() }
        case .user:
            guard let token = Self.bearer(request) else { throw ServerError.unauthenticated() }
            try await authenticate(token, request, &context, tokenRequired: true)
        case .tenant:
            // A token is optional here. One that verifies decides the tenant (and must agree with any tenant the request
            // names); one that does not (expired, say) is ignored rather than refused, as a client refreshing or logging
            // out after its access token expired still sends it out of habit.
            if let token = Self.bearer(request), try await authenticate(token, request, &context, tokenRequired: false) { return }
            let tenant = try await hintedTenant(request)
            context.tenant = tenant
            context.trace.tenantID = tenant.id
            try limitClient(of: tenant, context)
        }
    }

    /// The tenant's own per-IP limit, beside the server's across tenants.
    private func limitClient(of tenant: Tenant, _ context: ServerContext) throws {
        let policies = tenant.settings.policies
        try services.limiter.enforce(
            "ip:\(tenant.id):\(context.clientAddress)", limit: policies.apiRequestsPerIPPerWindow, windowSeconds: policies.rateLimitWindowSeconds)
    }

    /// Verifies the request's bearer `token` and checks that its tenant is the one this request may address. Answers
    /// whether the request is authenticated: false only when the token did not verify and `tokenRequired` is false.
    @discardableResult
    private func authenticate(_ token: String, _ request: Request, _ context: inout ServerContext, tokenRequired: Bool) async throws -> Bool {
        let principal: Principal
        do {
            principal = try await services.tokens.verify(token)
        } catch {
            context.logger.debug(
                tokenRequired ? "Access token refused" : "Access token ignored", metadata: ["tradeskit.reason": "\(error)"])
            if tokenRequired { throw ServerError.unauthenticated() }
            return false
        }
        guard let tenant = try await services.tenants.tenant(id: principal.tenantID) else { throw ServerError.unauthenticated() }
        switch services.configuration.mode {
        case .perTenant(let slug):
            guard tenant.slug == slug else { throw wrongTenant(context) }
        case .shared:
            // A request that names a tenant must name the token's own: a token of tenant A never works on tenant B.
            if let named = request.headers[.tenant], named.lowercased() != tenant.slug { throw wrongTenant(context) }
            if let label = Self.hostLabel(request), label != tenant.slug, try await services.tenants.tenant(slug: label) != nil {
                throw wrongTenant(context)
            }
        }
        context.tenant = tenant
        context.principal = principal
        context.trace.tenantID = tenant.id
        try limitClient(of: tenant, context)
        let policies = tenant.settings.policies
        try services.limiter.enforce(
            "user:\(tenant.id):\(principal.userID)", limit: policies.apiRequestsPerUserPerWindow, windowSeconds: policies.rateLimitWindowSeconds)
        return true
    }

    private func wrongTenant(_ context: ServerContext) -> ServerError {
        context.logger.debug("Access token used on another tenant")
        return ServerError.unauthenticated()
    }

    /// The tenant named by per-tenant mode, the `X-Tenant` header, or the first label of the host.
    private func hintedTenant(_ request: Request) async throws -> Tenant {
        switch services.configuration.mode {
        case .perTenant(let slug):
            guard let tenant = try await services.tenants.tenant(slug: slug) else {
                throw ServerError(.unknownTenant, "This server's tenant does not exist")
            }
            return tenant
        case .shared:
            if let named = request.headers[.tenant] {
                guard let tenant = try await services.tenants.tenant(slug: named) else {
                    throw ServerError(.unknownTenant, "No tenant has this slug")
                }
                return tenant
            }
            if let label = Self.hostLabel(request), let tenant = try await services.tenants.tenant(slug: label) { return tenant }
            throw ServerError(.tenantRequired, "Name the tenant with the X-Tenant header or its host name")
        }
    }

    /// The token of an `Authorization: Bearer …` header: the scheme in any case, a space, the token (blanks around it
    /// ignored). Read from the header's bytes: it runs on every authenticated request.
    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        return bearerToken(header)
    }

    static func bearerToken(_ header: String) -> String? {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let scheme = "bearer".utf8
        var rest = Substring(header).utf8.drop { $0 == UInt8(ascii: " ") }
        // ASCII letters only differ from their lower case in bit 5, and "bearer" is all letters.
        guard rest.starts(with: scheme, by: { $0 | 0x20 == $1 }) else { return nil }
        rest = rest.dropFirst(scheme.count)
        guard rest.first == UInt8(ascii: " ") else { return nil }
        rest = rest.drop(while: isBlank)
        while let last = rest.last, isBlank(last) { rest = rest.dropLast() }
        return rest.isEmpty ? nil : String(Substring(rest))
    }

    /// The first label of a host name with at least two labels (`acme` of `acme.trades.example:8080`); none for
    /// IP addresses and single-label hosts such as `localhost`.
    static func hostLabel(_ request: Request) -> String? { hostLabel(authority: request.head.authority) }

    static func hostLabel(authority: String?) -> String? {
        guard let authority else { return nil }
        var host = Substring(authority)
        if host.hasPrefix("[") { return nil }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        let labels = host.split(separator: ".")
        guard labels.count >= 2, !labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
        return labels.first.map { $0.lowercased() }
    }
}
