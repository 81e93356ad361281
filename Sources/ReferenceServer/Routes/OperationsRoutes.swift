import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// Liveness, readiness, metrics and the API description; outside `/v1` and outside any tenant.
enum OperationsRoutes {
    static func routes(document: @escaping @Sendable () -> JSONValue) -> [Route] {
        [
            Route(RouteSpec(.get, "/health", id: "health", "Liveness: the process answers", tag: "Operations", access: .open, response: "Health")) {
                call in
                try call.json(["status": "ok"] as JSONValue)
            },
            Route(
                RouteSpec(
                    .get, "/ready", id: "ready", "Readiness: storage reachable and migrations applied", tag: "Operations", access: .open,
                    response: "Health", problems: [503])
            ) { call in
                let storage = call.market.storage
                do {
                    _ = try await storage.allTenants()
                } catch {
                    throw ServerError(.notReady, "Storage is unreachable")
                }
                if let migrating = storage as? any MigrationStatusReporting, try await migrating.hasPendingMigrations() {
                    throw ServerError(.notReady, "Database migrations are pending")
                }
                return try call.json(["status": "ready"] as JSONValue)
            },
            Route(
                RouteSpec(
                    .get, "/metrics", id: "metrics", "Prometheus metrics", tag: "Operations", access: .open, response: nil,
                    mediaType: "text/plain; version=0.0.4")
            ) { call in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: call.services.metrics.exposition())))
            },
            Route(
                RouteSpec(
                    .get, "/openapi.json", id: "openAPI", "This API's OpenAPI 3.1 document", tag: "Operations", access: .open,
                    response: "OpenAPIDocument")
            ) { _ in
                let data = try document().serialized()
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            },
        ]
    }
}
