import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TradesKit

/// The baselines of `trades bench http`, registered only when ``ServerConfiguration/benchmarkRoute`` is set (never by
/// `trades serve`), and left out of the OpenAPI document.
///
/// Both live under `/v1` so that they pass through every middleware the API does, the per-IP rate limit included.
/// Hello world resolves no tenant, verifies no token and reads no storage, which is exactly the work the comparison
/// isolates; one read adds the least a database-backed request does, so the two bracket what any API route can reach.
enum BenchmarkRoutes {
    /// `GET /v1/bench/hello`.
    static let helloPath = "/v1/bench/hello"
    /// `GET /v1/bench/read`.
    static let readPath = "/v1/bench/read"

    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(.get, helloPath, id: "benchHello", "Hello world (benchmark builds only)", tag: "Operations", access: .open, response: nil)
            ) { _ in
                text("Hello, world!")
            },
            Route(
                RouteSpec(
                    .get, readPath, id: "benchRead", "One storage read (benchmark builds only)", tag: "Operations", access: .tenant,
                    response: nil)
            ) { call in
                // The tenant named by X-Tenant comes from the server's short cache; its row is then read from storage: one
                // statement on a reader connection, as the API's single-row reads are.
                let tenant = try call.tenant()
                guard let record = try await call.market.storage.tenant(tenant.id).tenantRecord() else {
                    throw ServerError(.unknownTenant, "No tenant has this slug")
                }
                return text(record.slug)
            },
        ]
    }

    private static func text(_ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
