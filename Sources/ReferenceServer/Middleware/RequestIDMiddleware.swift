import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TradesKit

/// Gives every request an id: the client's `X-Request-Id` when it is well-formed (1–128 of `A-Z a-z 0-9 . _ -`),
/// a new UUID otherwise. The id goes into the log metadata, problem documents and the response header.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[.requestID].flatMap { Self.isWellFormed($0) ? $0 : nil } ?? UUID().lowercasedString
        context.requestID = id
        context.logger[metadataKey: "tradeskit.request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }

    static func isWellFormed(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 46 || $0 == 95 }
    }
}
