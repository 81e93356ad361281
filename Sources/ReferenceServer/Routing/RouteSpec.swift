import Foundation
public import HTTPTypes

/// Who may call a route.
public enum RouteAccess: String, Sendable, Hashable {
    /// Anyone, outside any tenant: health, metrics, the OpenAPI document.
    case open
    /// Anyone, within a tenant (named by `X-Tenant`, the host, or per-tenant mode); an access token is optional.
    case tenant
    /// A user of a tenant, by bearer access token.
    case user
    /// The platform operator, by the configured bearer secret.
    case `operator`
}

/// A query parameter of a route, for the OpenAPI document.
public struct QueryParameter: Sendable, Hashable {
    /// The name.
    public let name: String
    /// What it does.
    public let description: String
    /// Its JSON schema.
    public let schema: JSONValue

    /// Creates a parameter.
    public init(_ name: String, _ description: String, schema: JSONValue) {
        self.name = name
        self.description = description
        self.schema = schema
    }
}

/// Everything known about a route except its handler: what it is registered as, who may call it, and what it
/// takes and answers. The router, the `405 Allow` header and the OpenAPI document are all made from these.
public struct RouteSpec: Sendable, Hashable {
    /// The method.
    public let method: HTTPRequest.Method
    /// The path template, e.g. `/v1/jobs/{id}`.
    public let path: String
    /// A unique operation id.
    public let operationID: String
    /// A one-line summary.
    public let summary: String
    /// The OpenAPI tag (the group in documentation).
    public let tag: String
    /// Who may call it.
    public let access: RouteAccess
    /// The component schema of the JSON request body, if it takes one.
    public let requestSchema: String?
    /// The status of a successful answer.
    public let successStatus: Int
    /// The component schema of a successful answer (`nil` for an empty one).
    public let responseSchema: String?
    /// The media type of a successful answer.
    public let responseMediaType: String
    /// Query parameters.
    public let query: [QueryParameter]
    /// Problem statuses beyond those every route of its kind can answer.
    public let extraProblems: [Int]

    /// Creates a spec.
    public init(
        _ method: HTTPRequest.Method, _ path: String, id operationID: String, _ summary: String, tag: String, access: RouteAccess,
        body requestSchema: String? = nil, status successStatus: Int = 200, response responseSchema: String?,
        mediaType: String = "application/json", query: [QueryParameter] = [], problems extraProblems: [Int] = []
    ) {
        self.method = method
        self.path = path
        self.operationID = operationID
        self.summary = summary
        self.tag = tag
        self.access = access
        self.requestSchema = requestSchema
        self.successStatus = successStatus
        self.responseSchema = responseSchema
        self.responseMediaType = mediaType
        self.query = query
        self.extraProblems = extraProblems
    }

    /// The names of the path parameters, in order.
    public var pathParameters: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map { String($0.dropFirst().dropLast()) }
    }

    /// Every problem status the route can answer.
    public var problemStatuses: [Int] {
        var statuses: Set<Int> = [500]
        switch access {
        // Every route but the liveness probe counts towards the server's per-IP limit (RequestLimitsMiddleware).
        case .open: if path != "/health" { statuses.insert(429) }
        case .tenant: statuses.formUnion([400, 401, 404, 429, 503])
        case .user: statuses.formUnion([400, 401, 403, 429, 503])
        case .operator: statuses.formUnion([401, 429, 503])
        }
        // A change retried from a fresh read too many times, having lost to concurrent ones each time, is a conflict;
        // so is a change whose unique key another request took first (two first saves of a profile, say).
        if access != .open, method != .get { statuses.insert(409) }
        if requestSchema != nil { statuses.formUnion([400, 413, 415, 422]) }
        if !pathParameters.isEmpty { statuses.insert(404) }
        if !query.isEmpty { statuses.formUnion([400, 422]) }
        statuses.formUnion(extraProblems)
        return statuses.sorted()
    }

    /// Whether `path` (a request path, without query) matches this template.
    public func matches(path requestPath: String) -> Bool {
        let template = path.split(separator: "/")
        let actual = requestPath.split(separator: "/")
        guard template.count == actual.count else { return false }
        return zip(template, actual).allSatisfy { pattern, segment in pattern.hasPrefix("{") || pattern == segment }
    }
}
