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
        let id = request.headers[.requestID].flatMap { Self.isWellFormed($0) ? $0 : nil } ?? Self.newID()
        context.requestID = id
        context.logger[metadataKey: "tradeskit.request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }

    /// A random (version 4) UUID in lower case. Drawn from `SystemRandomNumberGenerator` (`getrandom`): Foundation's
    /// `UUID()` opened, read and closed `/dev/urandom` for every request on Linux.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { bytes in
            bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: 8, as: UInt64.self)
        }
        raw.6 = raw.6 & 0x0F | 0x40  // version 4
        raw.8 = raw.8 & 0x3F | 0x80  // the RFC 9562 variant
        return UUID(uuid: raw).lowercasedString
    }

    static func isWellFormed(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 46 || $0 == 95 }
    }
}
