import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TradesKit

/// Logs one structured line per request and records its metrics: method, route template, status, duration,
/// request id and tenant id. Nothing personal: no raw path or query (they carry ids and search text), no address,
/// no user, no headers.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Inner middleware answers every error; this only keeps the log complete if that ever changes.
            record(request, context, status: 500, duration: ContinuousClock.now - start)
            throw error
        }
        record(request, context, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }

    private func record(_ request: Request, _ context: ServerContext, status: Int, duration: Duration) {
        let route = Self.routeLabel(context.endpointPath)
        metrics.recordRequest(method: request.method.rawValue, route: route, status: status, duration: duration)
        // The line's metadata costs more than the metrics; build it only when the line is written.
        guard logger.logLevel <= .info else { return }
        let milliseconds = Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "tradeskit.method": .string(request.method.rawValue),
            "tradeskit.route": .string(route),
            "tradeskit.status": .stringConvertible(status),
            "tradeskit.duration_ms": .string(String(format: "%.3f", milliseconds)),
            "tradeskit.request_id": .string(context.requestID),
        ]
        if let tenant = context.trace.tenantID { metadata["tradeskit.tenant"] = .string(tenant.uuidString) }
        logger.info("request", metadata: metadata)
    }

    /// The route template, or `unmatched` for paths no route has (so random paths cannot grow the metrics).
    static func routeLabel(_ endpoint: String?) -> String {
        guard let endpoint, endpoint != "NotFound" else { return "unmatched" }
        return endpoint
    }
}
