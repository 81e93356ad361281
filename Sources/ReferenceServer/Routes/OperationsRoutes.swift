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
                // One small read: the migration status where the storage reports it (it reads the database), else the
                // tenant list.
                let storage = call.market.storage
                let pending: Bool
                do {
                    if let migrating = storage as? any MigrationStatusReporting {
                        pending = try await migrating.hasPendingMigrations()
                    } else {
                        _ = try await storage.allTenants()
                        pending = false
                    }
                } catch {
                    throw ServerError(.notReady, "Storage is unreachable")
                }
                if pending { throw ServerError(.notReady, "Database migrations are pending") }
                return try call.json(["status": "ready"] as JSONValue)
            },
            Route(
                RouteSpec(
                    .get, "/metrics", id: "metrics",
                    "Prometheus metrics: with the metrics bearer token when the server has one; otherwise only if it serves them without",
                    tag: "Operations", access: .open, response: nil, mediaType: "text/plain; version=0.0.4", problems: [401, 403])
            ) { call in
                let secret = call.services.metricsSecret
                if secret.isConfigured {
                    guard let presented = RouteGuard.bearer(call.request), secret.matches(presented) else { throw ServerError.unauthenticated() }
                } else if !call.services.configuration.metricsWithoutToken {
                    throw ServerError(.metricsNotServed, "This server serves metrics only to a scraper with its metrics token")
                }
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
