import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// Tenant management for the platform operator, authenticated by the configured operator secret.
enum TenantRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/tenants", id: "createTenant", "Create a tenant with the default trade catalogue", tag: "Tenants",
                    access: .operator, body: "NewTenant", status: 201, response: "Tenant", problems: [409])
            ) { call in
                let body = try await call.body()
                let slug = body.string("slug", maxLength: 100)
                let displayName = body.string("displayName", maxLength: 1_000)
                let settings = body.object("settings") { readSettings($0) }
                try body.finish()
                guard let slug, let displayName, let settings else { throw ServerError(.badRequest, "Incomplete input") }
                let tenant = try await call.market.tenants.create(
                    by: try operatorIdentity(call), .init(slug: slug, displayName: displayName, settings: settings))
                return try call.json(TenantResponse(tenant), status: .created)
            },
            Route(RouteSpec(.get, "/v1/tenants", id: "listTenants", "Every tenant", tag: "Tenants", access: .operator, response: "TenantList")) {
                call in
                let tenants = try await call.market.tenants.list(by: try operatorIdentity(call))
                return try call.json(ListResponse(items: tenants.map(TenantResponse.init)))
            },
            Route(
                RouteSpec(
                    .post, "/v1/tenants/{id}/admins", id: "createTenantAdmin", "Create an admin of a tenant", tag: "Tenants", access: .operator,
                    body: "NewAdmin", status: 201, response: "AdminUser", problems: [409])
            ) { call in
                let tenant: TenantID = try call.id("id", "Tenant")
                let body = try await call.body()
                let email = body.string("email", maxLength: 254)
                let displayName = body.string("displayName", maxLength: 1_000)
                let password = body.string("password", maxLength: 1_000)
                try body.finish()
                guard let email, let displayName, let password else { throw ServerError(.badRequest, "Incomplete input") }
                let admin = try await call.market.users.createAdmin(
                    by: try operatorIdentity(call), in: tenant, email: email, displayName: displayName, password: password)
                return try call.json(AdminUserResponse(admin), status: .created)
            },
        ]
    }

    private static func operatorIdentity(_ call: Call) throws -> PlatformOperator {
        guard let secret = RouteGuard.bearer(call.request), let identity = call.services.operators.authenticate(secret) else {
            throw ServerError.unauthenticated()
        }
        return identity
    }

    private static func readSettings(_ settings: BodyReader) -> TenantSettings? {
        let code = settings.string("currency", maxLength: 3)
        let currency = code.flatMap { Currency(code: $0) }
        if code != nil, currency == nil { settings.fail("currency", "invalid_value", "must be a supported ISO 4217 currency code") }
        let fee = settings.int("platformFeeBasisPoints")
        let branding = settings.object("branding") { branding -> Branding? in
            let name = branding.string("name", maxLength: 1_000)
            let primary = branding.string("primaryColor", default: "#1F6FEB", maxLength: 20)
            let secondary = branding.string("secondaryColor", default: "#0B1F33", maxLength: 20)
            let logo = branding.optionalString("logoURL", maxLength: 4_000).value
            let fromEmail = branding.string("fromEmail", maxLength: 254)
            let sms = branding.optionalString("smsSender", maxLength: 100).value
            guard let name, let primary, let secondary, let fromEmail else { return nil }
            return Branding(name: name, primaryColor: primary, secondaryColor: secondary, logoURL: logo, fromEmail: fromEmail, smsSender: sms)
        }
        let defaults = TenantPolicies()
        let policies = settings.optionalObject("policies") { policies -> TenantPolicies? in
            let review = policies.optionalInteger("reviewWindowSeconds").value ?? defaults.reviewWindowSeconds
            let approve = policies.optionalInteger("autoApproveAfterSeconds").value ?? defaults.autoApproveAfterSeconds
            let vetting = policies.bool("vettingRequiredToBid", default: defaults.vettingRequiredToBid)
            let login = policies.int("loginAttemptsPerWindow", default: defaults.loginAttemptsPerWindow)
            let perUser = policies.int("apiRequestsPerUserPerWindow", default: defaults.apiRequestsPerUserPerWindow)
            let perIP = policies.int("apiRequestsPerIPPerWindow", default: defaults.apiRequestsPerIPPerWindow)
            let window = policies.optionalInteger("rateLimitWindowSeconds").value ?? defaults.rateLimitWindowSeconds
            guard let vetting, let login, let perUser, let perIP else { return nil }
            return TenantPolicies(
                reviewWindowSeconds: review, autoApproveAfterSeconds: approve, vettingRequiredToBid: vetting, loginAttemptsPerWindow: login,
                apiRequestsPerUserPerWindow: perUser, apiRequestsPerIPPerWindow: perIP, rateLimitWindowSeconds: window)
        }
        guard let currency, let fee, let branding else { return nil }
        return TenantSettings(currency: currency, platformFeeBasisPoints: fee, branding: branding, policies: policies.value ?? defaults)
    }
}
