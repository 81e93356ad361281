import Foundation
import HTTPTypes
import Hummingbird

/// A route: its ``RouteSpec`` and the handler that answers it.
public struct Route: Sendable {
    /// What the route is.
    public let spec: RouteSpec
    /// What answers it, once access is granted.
    let handler: @Sendable (Call) async throws -> Response

    init(_ spec: RouteSpec, _ handler: @escaping @Sendable (Call) async throws -> Response) {
        self.spec = spec
        self.handler = handler
    }
}
