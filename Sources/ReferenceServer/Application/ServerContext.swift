public import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
public import TradesKit

/// The request context of the reference server: the request id, the resolved tenant and the authenticated principal.
///
/// Middleware fills it in order: ``RequestIDMiddleware`` sets ``requestID``; route access checks set ``tenant`` and
/// ``principal`` before a handler runs.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request id (accepted from `X-Request-Id` when well-formed, generated otherwise).
    public internal(set) var requestID: String
    /// The tenant the request is about, once resolved.
    public internal(set) var tenant: Tenant?
    /// The authenticated caller, on routes that take a bearer token.
    public internal(set) var principal: Principal?
    /// The peer's IP address as seen on the socket (`nil` in router tests).
    public let peerAddress: String?
    /// The client's address used for rate limits: the peer, or the last `X-Forwarded-For` hop behind a trusted proxy;
    /// for IPv6 its /64 network, which one subscriber usually holds whole (see ``RequestLimitsMiddleware/clientNetwork(_:)``).
    var clientAddress: String
    /// The largest body accepted, from the server's configuration.
    var bodyLimit: Int
    /// Shared with outer middleware.
    let trace: RequestTrace

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        requestID = ""
        peerAddress = source.channel.remoteAddress?.ipAddress
        clientAddress = peerAddress.map(RequestLimitsMiddleware.clientNetwork) ?? "unknown"
        bodyLimit = ServerConfiguration.defaultBodyLimit
        trace = RequestTrace()
    }

    public var maxUploadSize: Int { bodyLimit }

    /// JSON with sorted keys and RFC 3339 UTC timestamps with milliseconds.
    public var responseEncoder: JSONEncoder { ServerContext.encoder }

    /// One encoder for every answer (a `JSONEncoder` is thread-safe; making one per answer cost more than some answers).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(date))
        }
        return encoder
    }()
}
