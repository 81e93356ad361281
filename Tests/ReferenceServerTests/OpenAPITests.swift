import Foundation
import HTTPTypes
import ReferenceServer
import Testing
import TradesKit

/// The OpenAPI document describes exactly the registered routes.
@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("Every registered route is in the document, and every documented operation is registered")
    func parity() async throws {
        let harness = try await TestServer()
        let served = try await harness.test { api in try await api.call(.get, "/openapi.json") }
        #expect(served.status == .ok)
        let document = served.json
        #expect(document["openapi"] == "3.1.0")
        // Served as built (compared after the same JSON round trip, where 90.0 reads back as 90).
        let same = try document == JSONValue.parse(harness.server.openAPIDocument.serialized())
        #expect(same)
        var documented: Set<String> = []
        if case .object(let paths) = document["paths"] ?? .null {
            for (path, item) in paths {
                guard case .object(let operations) = item else { continue }
                for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
            }
        }
        let registered = Set(harness.server.routes.map { "\($0.spec.method.rawValue) \($0.spec.path)" })
        #expect(
            registered == documented, "only registered: \(registered.subtracting(documented)); only documented: \(documented.subtracting(registered))"
        )
        #expect(registered.count == harness.server.routes.count, "a route is registered twice")
        let operationIDs = harness.server.routes.map(\.spec.operationID)
        #expect(Set(operationIDs).count == operationIDs.count)
        // The routes of DESIGN.md §7 that this server has.
        for route in [
            "POST /v1/auth/register", "POST /v1/auth/login", "POST /v1/auth/refresh", "POST /v1/auth/logout", "POST /v1/auth/verify-email",
            "POST /v1/auth/verify-email/resend", "POST /v1/auth/password-reset", "POST /v1/auth/password-reset/confirm",
            "POST /v1/auth/2fa/enroll", "POST /v1/auth/2fa/confirm", "POST /v1/auth/2fa/disable", "GET /v1/me", "PATCH /v1/me",
            "GET /v1/me/contractor-profile",
            "PUT /v1/me/contractor-profile", "GET /v1/me/bids", "GET /v1/users/{id}", "GET /v1/users/{id}/reviews", "GET /v1/categories",
            "POST /v1/jobs", "GET /v1/jobs", "GET /v1/jobs/{id}", "PATCH /v1/jobs/{id}", "POST /v1/jobs/{id}/cancel", "POST /v1/jobs/{id}/start",
            "POST /v1/jobs/{id}/complete", "POST /v1/jobs/{id}/approve", "POST /v1/jobs/{id}/bids", "GET /v1/jobs/{id}/bids", "GET /v1/bids/{id}",
            "POST /v1/bids/{id}/withdraw", "POST /v1/bids/{id}/accept", "POST /v1/jobs/{id}/messages", "GET /v1/jobs/{id}/messages",
            "POST /v1/jobs/{id}/reviews", "GET /v1/events", "POST /v1/disputes", "GET /v1/disputes", "GET /v1/disputes/{id}",
            "POST /v1/disputes/{id}/respond", "POST /v1/disputes/{id}/resolve", "GET /v1/admin/users", "POST /v1/admin/users/{id}/suspend",
            "POST /v1/admin/users/{id}/unsuspend", "GET /v1/admin/disputes", "GET /v1/admin/stats",
            "GET /v1/admin/settlements", "POST /v1/admin/jobs/{id}/settle", "POST /v1/tenants", "GET /v1/tenants",
            "GET /health", "GET /ready", "GET /metrics", "GET /openapi.json",
        ] {
            #expect(registered.contains(route), "\(route) is missing")
        }
    }

    @Test("Every reference resolves; every operation documents success, problems and security")
    func references() async throws {
        let harness = try await TestServer()
        let document = harness.server.openAPIDocument
        let validator = SchemaValidator(document: document)
        var references: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if let reference = members["$ref"]?.stringValue { references.append(reference) }
                members.values.forEach(collect)
            case .array(let items): items.forEach(collect)
            default: break
            }
        }
        collect(document)
        #expect(!references.isEmpty)
        for reference in Set(references) {
            #expect(validator.components[String(reference.split(separator: "/").last ?? "")] != nil, "\(reference) does not resolve")
        }
        for route in harness.server.routes.map(\.spec) {
            let operation = document["paths"]?[route.path]?[route.method.rawValue.lowercased()]
            #expect(operation?["responses"]?[String(route.successStatus)] != nil, "\(route.operationID)")
            for status in route.problemStatuses {
                #expect(operation?["responses"]?[String(status)]?["content"]?["application/problem+json"] != nil, "\(route.operationID) \(status)")
            }
            #expect(operation?["security"] != nil)
            #expect(
                route.pathParameters.allSatisfy { name in
                    if case .array(let parameters) = operation?["parameters"] ?? .null {
                        return parameters.contains { $0["name"]?.stringValue == name }
                    }
                    return false
                })
        }
    }

    @Test("Every link leads to a registered operation with an {id}, from a property its source answers")
    func links() async throws {
        let harness = try await TestServer()
        let document = harness.server.openAPIDocument
        let validator = SchemaValidator(document: document)
        let routes = Dictionary(uniqueKeysWithValues: harness.server.routes.map { ($0.spec.operationID, $0.spec) })
        var count = 0
        for route in routes.values {
            let operation = document["paths"]?[route.path]?[route.method.rawValue.lowercased()]
            guard case .object(let links) = operation?["responses"]?[String(route.successStatus)]?["links"] ?? .null else { continue }
            for (name, link) in links {
                count += 1
                let target = try #require(link["operationId"]?.stringValue.flatMap { routes[$0] }, "\(route.operationID) → \(name)")
                #expect(target.pathParameters == ["id"], "\(route.operationID) → \(name)")
                let expression = try #require(link["parameters"]?["id"]?.stringValue)
                #expect(expression.hasPrefix("$response.body#/"))
                // Walk the pointer through the source's answer schema: every step must be a declared property or array item.
                var schema = validator.components[route.responseSchema ?? ""]
                for step in expression.dropFirst("$response.body#/".count).split(separator: "/") {
                    if let reference = schema?["$ref"]?.stringValue {
                        schema = validator.components[String(reference.split(separator: "/").last ?? "")]
                    }
                    schema = Int(step) != nil ? schema?["items"] : schema?["properties"]?[String(step)]
                    if let reference = schema?["$ref"]?.stringValue {
                        schema = validator.components[String(reference.split(separator: "/").last ?? "")]
                    }
                }
                #expect(schema != nil, "\(route.operationID) → \(name): \(expression) is not in its answer")
            }
        }
        #expect(count >= 40, "the job, bid, dispute and user operations are linked")
    }
}

@Suite("OpenAPI document per tenant")
struct OpenAPIPerTenantTests {
    @Test("A per-tenant server documents its tenant's currency as the only one, and its categories as the only ones")
    func currency() async throws {
        let probe = try await TestServer()
        let world = try await probe.world(slug: "acme")
        let server = try await ReferenceServer(
            marketplace: probe.market,
            configuration: ServerConfiguration(mode: .perTenant(slug: "acme"), tokenSigningKey: TestServer.secret))
        #expect(server.openAPIDocument["components"]?["schemas"]?["MoneyInput"]?["properties"]?["currency"]?["enum"] == ["USD"])
        #expect(probe.server.openAPIDocument["components"]?["schemas"]?["MoneyInput"]?["properties"]?["currency"]?["enum"] == nil)
        let categories = try await probe.market.catalog.categories(in: world.tenant.id).map { JSONValue.string($0.id.uuidString) }
        #expect(server.openAPIDocument["components"]?["schemas"]?["CategoryId"]?["enum"] == .array(categories))
        #expect(categories.contains(.string(world.plumbing.uuidString)))
        #expect(probe.server.openAPIDocument["components"]?["schemas"]?["CategoryId"]?["enum"] == nil)
    }
}

@Suite("Response checking")
struct ResponseCheckerTests {
    @Test("The checker every test goes through catches undocumented statuses and shapes")
    func catches() async throws {
        let harness = try await TestServer()
        let checker = ResponseChecker(routes: harness.server.routes.map(\.spec), document: harness.server.openAPIDocument)
        var json = HTTPFields()
        json[.contentType] = "application/json"
        // Each is expected to fail with the checker's own complaint; any other issue is a real failure.
        func expectComplaint(_ complaint: String, _ body: () -> Void) {
            withKnownIssue {
                body()
            } matching: { issue in
                issue.comments.contains { $0.rawValue.contains(complaint) }
            }
        }
        expectComplaint("GET /health answered 418, which the document does not list") {
            checker.check(.get, "/health", APIResponse(status: HTTPResponse.Status(code: 418), headers: [:], body: ""))
        }
        expectComplaint("GET /health 200 does not match the document") {
            checker.check(.get, "/health", APIResponse(status: .ok, headers: json, body: #"{"status":"sideways"}"#))
        }
        expectComplaint("GET /v1/me 200 does not match the document") {
            checker.check(.get, "/v1/me", APIResponse(status: .ok, headers: json, body: #"{"id":"x"}"#))
        }
        checker.check(.get, "/health", APIResponse(status: .ok, headers: json, body: #"{"status":"ok"}"#))
    }
}
