import Foundation
import HTTPTypes
public import TradesKit

/// Builds the OpenAPI 3.1 document from the route specs, so that the document lists exactly the registered routes.
public enum OpenAPIDocument {
    typealias S = OpenAPISchema

    /// The document for `routes`. In per-tenant mode, `currency` (the tenant's) is the only one amounts may be in, and
    /// `categories` (the tenant's) the only category ids a request may name.
    public static func make(
        routes: [RouteSpec], configuration: ServerConfiguration, currency: Currency? = nil, categories: [CategoryID]? = nil
    ) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for route in routes {
            var item =
                paths[route.path].flatMap { value -> [String: JSONValue]? in
                    if case .object(let members) = value { return members }
                    return nil
                } ?? [:]
            item[route.method.rawValue.lowercased()] = operation(route, configuration: configuration)
            paths[route.path] = .object(item)
        }
        let tenancy =
            switch configuration.mode {
            case .shared: "Shared mode: the tenant comes from the access token; routes without one name it with `X-Tenant` or the host."
            case .perTenant(let slug): "Per-tenant mode: this server answers for the tenant `\(slug)` only."
            }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "TradesKit reference API",
                "version": "1.0.0",
                "description": .string(
                    "The JSON API of the TradesKit home-services marketplace. Errors are RFC 9457 problem documents "
                        + "(`application/problem+json`) with a stable `code`. \(tenancy)"),
            ],
            "servers": [["url": "/"]],
            "tags": .array(Set(routes.map(\.tag)).sorted().map { ["name": .string($0)] }),
            "paths": .object(paths),
            "components": [
                "schemas": .object(OpenAPIComponents.schemas(currency: currency?.code, categories: categories)),
                "securitySchemes": [
                    "accessToken": [
                        "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "An access token from `/v1/auth/login`.",
                    ],
                    "operatorToken": ["type": "http", "scheme": "bearer", "description": "The platform operator's configured secret."],
                ],
            ],
        ]
    }

    private static func operation(_ route: RouteSpec, configuration: ServerConfiguration) -> JSONValue {
        var parameters: [JSONValue] = route.pathParameters.map { name in
            ["name": .string(name), "in": "path", "required": true, "schema": S.uuid]
        }
        parameters += route.query.map {
            ["name": .string($0.name), "in": "query", "required": false, "description": .string($0.description), "schema": $0.schema]
        }
        if route.access == .tenant, case .shared = configuration.mode {
            parameters.append([
                "name": "X-Tenant", "in": "header", "required": false,
                "description": "The tenant's slug, unless the host names it or an access token is sent.",
                "schema": S.string(max: 63, min: 2, pattern: "^[a-z0-9-]+$"),
            ])
        }
        var operation: [String: JSONValue] = [
            "operationId": .string(route.operationID),
            "summary": .string(route.summary),
            "tags": [.string(route.tag)],
            "security": security(route.access),
            "responses": responses(route),
        ]
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let body = route.requestSchema {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": S.ref(body)]]]
        }
        return .object(operation)
    }

    private static func security(_ access: RouteAccess) -> JSONValue {
        switch access {
        case .open: []
        case .tenant: [[:], ["accessToken": []]]
        case .user: [["accessToken": []]]
        case .operator: [["operatorToken": []]]
        }
    }

    private static func responses(_ route: RouteSpec) -> JSONValue {
        var responses: [String: JSONValue] = [:]
        var success: [String: JSONValue] = ["description": "Success."]
        if let schema = route.responseSchema {
            success["content"] = .object([route.responseMediaType: ["schema": S.ref(schema)]])
        } else if route.responseMediaType != "application/json" {
            // A body that is not JSON (the metrics' text); a JSON route without a schema answers no body (202, 204).
            success["content"] = .object([route.responseMediaType: ["schema": ["type": "string"]]])
        }
        if let links = OpenAPILinks.object(for: route.operationID) { success["links"] = links }
        responses[String(route.successStatus)] = .object(success)
        for status in route.problemStatuses {
            var response: [String: JSONValue] = [
                "description": .string(problemDescription(status)),
                "content": ["application/problem+json": ["schema": S.ref("Problem")]],
            ]
            if status == 429 {
                response["headers"] = [
                    "Retry-After": ["description": "Seconds to wait.", "schema": ["type": "integer"]],
                    "RateLimit-Limit": ["description": "Requests allowed in the window.", "schema": ["type": "integer"]],
                    "RateLimit-Remaining": ["description": "Requests left in the window.", "schema": ["type": "integer"]],
                    "RateLimit-Reset": ["description": "Seconds until the window resets.", "schema": ["type": "integer"]],
                ]
            }
            responses[String(status)] = .object(response)
        }
        return .object(responses)
    }

    private static func problemDescription(_ status: Int) -> String {
        let codes = ProblemMapper.allCodes.filter { $0.status == status }.map { "`\($0.code)`" }
        return codes.isEmpty ? "A problem." : "A problem: " + codes.joined(separator: ", ") + "."
    }
}
