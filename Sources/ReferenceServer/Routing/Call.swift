import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import TradesKit

/// One call of a route handler: the request, its context (tenant, principal) and typed helpers for reading input
/// and writing JSON.
public struct Call: Sendable {
    /// The request.
    public let request: Request
    /// The context, with access already granted.
    public let context: ServerContext
    let services: ServerServices

    /// The marketplace.
    var market: Marketplace { services.market }

    /// The authenticated caller (routes with ``RouteAccess/user`` always have one).
    func principal() throws -> Principal {
        guard let principal = context.principal else { throw ServerError.unauthenticated() }
        return principal
    }

    /// The tenant of the request.
    func tenant() throws -> Tenant {
        guard let tenant = context.tenant else { throw ServerError(.tenantRequired, "Name the tenant with the X-Tenant header") }
        return tenant
    }

    /// A path parameter as a typed id; a malformed one names nothing, so it is `404 not_found` like a missing one.
    func id<Tag>(_ name: String = "id", _ what: String) throws -> Identifier<Tag> {
        guard let raw = context.parameters.get(name), let id = Identifier<Tag>(uuidString: raw) else {
            throw TradesKitError(.notFound, "\(what) not found")
        }
        return id
    }

    /// The query string.
    var query: QueryReader { QueryReader(request.uri) }

    /// The page of a listing whose only query parameters are `cursor` and `limit` (`422` for a bad one).
    func pageQuery(sealedWith seal: CursorSeal? = nil) throws -> PageRequest {
        let query = self.query
        let page = query.page(sealedWith: seal)
        try query.finish()
        return page
    }

    /// The JSON object body, read into a ``BodyReader``: `415` unless it is `application/json`, `413` when larger than
    /// the limit, `400` when not JSON, `422` when missing.
    func body() async throws -> BodyReader {
        let buffer = try await request.body.collect(upTo: context.bodyLimit)
        guard buffer.readableBytes > 0 else { throw Call.missingBody }
        guard let contentType = request.headers[.contentType], Call.isJSON(contentType) else {
            throw ServerError(.unsupportedMediaType, "The request body must be application/json")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(buffer.readableBytesView))
        } catch {
            throw ServerError(.malformedBody, "The request body is not valid JSON")
        }
        return try BodyReader(value)
    }

    private static let missingBody = TradesKitError(
        .validationFailed, "The input is not valid", fieldErrors: [FieldError(field: "body", code: "required", message: "is required")])

    /// `application/json` or `application/<something>+json`, with any parameters.
    static func isJSON(_ contentType: String) -> Bool {
        var type = contentType.prefix { $0 != ";" }.drop { $0 == " " || $0 == "\t" }
        while let last = type.last, last == " " || last == "\t" { type = type.dropLast() }
        let mediaType = type.lowercased()
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    /// A JSON answer.
    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        var response = try context.responseEncoder.encode(value, from: request, context: context)
        response.status = status
        return response
    }

    /// A JSON answer that writes itself (the same bytes as the encoder would, without Codable's cost).
    func json(_ value: some JSONWritable, status: HTTPResponse.Status = .ok) throws -> Response {
        let body = try JSONWriter.bytes(of: value)
        var headers = HTTPFields()
        headers.reserveCapacity(4)
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}
