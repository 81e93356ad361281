import Foundation
public import HTTPTypes
import Hummingbird
public import TradesKit

/// An RFC 9457 problem document: what every error response of the server carries, as `application/problem+json`.
public struct Problem: Sendable, Encodable {
    /// A stable URI naming the kind of problem: `urn:tradeskit:problem:<code>`.
    public let type: String
    /// A short summary of the kind of problem; the same for every occurrence.
    public let title: String
    /// The HTTP status code.
    public let status: Int
    /// What went wrong this time, safe to show (no secrets, personal data, SQL or stack traces).
    public let detail: String
    /// The stable code (the last part of ``type``).
    public let code: String
    /// The request id, to quote when reporting the problem.
    public let requestId: String?
    /// Every bad field, for validation problems.
    public let errors: [FieldError]?

    /// The media type of problem documents.
    public static let mediaType = "application/problem+json"
    /// The prefix of every problem ``type``.
    public static let typePrefix = "urn:tradeskit:problem:"

    /// Creates a problem.
    public init(code: String, title: String, status: HTTPResponse.Status, detail: String, requestID: String?, errors: [FieldError] = []) {
        self.type = Problem.typePrefix + code
        self.title = title
        self.status = status.code
        self.detail = detail
        self.code = code
        self.requestId = requestID
        self.errors = errors.isEmpty ? nil : errors
    }

    /// The response carrying this problem, with `headers` added.
    func response(headers extra: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail; fall back to an empty body rather than trap.
        let data = (try? encoder.encode(self)) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = Problem.mediaType
        headers[.contentLength] = String(data.count)
        for field in extra where field.name != .contentType && field.name != .contentLength { headers.append(field) }
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
