import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TradesKit

/// The hello-world baseline of `trades bench http`, registered only when ``ServerConfiguration/benchmarkRoute`` is set
/// (never by `trades serve`), and left out of the OpenAPI document.
///
/// It lives under `/v1` so that it passes through every middleware the API does, the per-IP rate limit included; it
/// resolves no tenant, verifies no token and reads no storage, which is exactly the work the comparison isolates.
enum BenchmarkRoutes {
    /// `GET /v1/bench/hello`.
    static let helloPath = "/v1/bench/hello"

    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(.get, helloPath, id: "benchHello", "Hello world (benchmark builds only)", tag: "Operations", access: .open, response: nil)
            ) { _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "Hello, world!")))
            }
        ]
    }
}
