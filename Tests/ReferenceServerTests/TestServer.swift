import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ReferenceServer
import StorageSQLite
import Testing
import TradesKit
import TestSupport
import TradesKitTesting

/// A reference server on in-memory SQLite with a manual clock, fake providers (e-mail recorded) and a cheap hasher.
struct TestServer {
    let market: Marketplace
    let storage: SQLiteStorage
    let clock: ManualClock
    let emails: MemoryEmailSender
    let payments: MemoryPaymentProcessor
    let server: ReferenceServer
    let logs: LogRecorder

    static let secret = Array("test-signing-secret-0123456789abcdef".utf8)
    static let operatorToken = "operator-secret-0123456789abcdef-xyz"
    static let password = "correct horse battery staple"
    static let op = PlatformOperator(label: "tests")

    init(
        _ configure: (inout ServerConfiguration) -> Void = { _ in }, identity: (inout IdentityConfiguration) -> Void = { _ in },
        passwordHasher: any PasswordHasher = MemoryPasswordHasher()
    ) async throws {
        storage = try SQLiteStorage(.inMemory)
        clock = ManualClock()
        emails = MemoryEmailSender()
        payments = MemoryPaymentProcessor()
        var identityConfiguration = IdentityConfiguration(
            verificationLinkBase: "https://app.example.com/verify-email", passwordResetLinkBase: "https://app.example.com/reset-password")
        identity(&identityConfiguration)
        // The server and the core log to the same recorder.
        let logs = LogRecorder()
        self.logs = logs
        let logger = Logger(label: "test", factory: { _ in RecordingLogHandler(recorder: logs) })
        market = Marketplace(
            storage: storage, payments: payments, passwordHasher: passwordHasher, emailSender: emails, clock: clock,
            ids: UUIDv7Generator(clock: clock), logger: logger, configuration: Marketplace.Configuration(identity: identityConfiguration))
        var configuration = ServerConfiguration(tokenSigningKey: Self.secret)
        configuration.port = 0
        configuration.operatorToken = Self.operatorToken
        // The application's services run in router tests too: scheduled work only where a test asks for it.
        configuration.scheduledWorkInterval = nil
        configure(&configuration)
        server = try await ReferenceServer(marketplace: market, configuration: configuration, clock: clock, logger: logger)
    }

    /// Runs `body` against the router (no sockets), or with `.live` against the server on a loopback port (the peer
    /// is then 127.0.0.1, for what depends on the client's address).
    func test<Value: Sendable>(_ setup: TestingSetup = .router, _ body: @Sendable (API) async throws -> Value) async throws -> Value {
        let checker = ResponseChecker(routes: server.routes.map(\.spec), document: server.openAPIDocument)
        return try await server.makeApplication().test(setup) { client in try await body(API(client: client, checker: checker)) }
    }

    /// A tenant with an admin, two homeowners and three contractors (A and B work in plumbing around London; C has no
    /// profile), each with an access token.
    struct World: Sendable {
        let tenant: Tenant
        let plumbing: CategoryID
        let admin: Actor
        let owner: Actor
        let otherOwner: Actor
        let contractorA: Actor
        let contractorB: Actor
        let contractorC: Actor
    }

    /// A user and their token.
    struct Actor: Sendable {
        let principal: Principal
        let email: String
        let token: String
        var id: UserID { principal.userID }
    }

    /// Marks the address of `actor`'s user confirmed or not (the world's users have confirmed theirs).
    func setEmailVerified(_ verified: Bool, _ actor: Actor) async throws {
        try await market.storage.tenant(actor.principal.tenantID).setEmailVerified(verified, user: actor.id)
    }

    func world(slug: String = "acme") async throws -> World {
        let settings = TenantSettings(
            currency: .usd, platformFeeBasisPoints: 1_000, branding: Branding(name: slug, fromEmail: "hello@\(slug).example.com"))
        let tenant = try await market.tenants.create(by: Self.op, .init(slug: slug, displayName: slug.capitalized, settings: settings))
        let plumbing = try await market.catalog.categories(in: tenant.id).first { $0.slug == "plumbing" }!.id
        func make(_ role: Role, _ name: String) async throws -> Actor {
            let email = "\(name)@\(slug).example.com"
            let user: User
            if role == .admin {
                user = try await market.users.createAdmin(by: Self.op, in: tenant.id, email: email, displayName: name, password: Self.password)
            } else {
                let registered = try await market.users.register(
                    in: tenant.id, .init(email: email, password: Self.password, displayName: name, role: role))
                user = try await market.users.markEmailVerified(in: tenant.id, registered.id)
            }
            let principal = Principal(tenantID: tenant.id, user: user)
            return Actor(principal: principal, email: email, token: try await server.tokens.issue(for: principal).token)
        }
        let world = World(
            tenant: tenant, plumbing: plumbing, admin: try await make(.admin, "admin"), owner: try await make(.homeowner, "owner"),
            otherOwner: try await make(.homeowner, "other-owner"), contractorA: try await make(.contractor, "contractor-a"),
            contractorB: try await make(.contractor, "contractor-b"), contractorC: try await make(.contractor, "contractor-c"))
        for contractor in [world.contractorA, world.contractorB] {
            _ = try await market.contractors.saveProfile(
                by: contractor.principal, .init(trades: [plumbing], serviceArea: GeoCircle(center: Fixtures.london, radiusKm: 50)))
        }
        return world
    }
}

/// A JSON client over HummingbirdTesting.
struct API: Sendable {
    let client: any TestClientProtocol
    let checker: ResponseChecker

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, as actor: TestServer.Actor? = nil, token: String? = nil, tenant: String? = nil,
        json: JSONValue? = nil, raw: String? = nil, contentType: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = extra
        if let bearer = token ?? actor?.token { headers[.authorization] = "Bearer \(bearer)" }
        if let tenant { headers[.tenant] = tenant }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try json.serialized())
            headers[.contentType] = contentType ?? "application/json"
        } else if let raw {
            body = ByteBuffer(string: raw)
            if let contentType { headers[.contentType] = contentType }
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
        let answer = APIResponse(status: response.status, headers: response.headers, body: String(buffer: response.body))
        checker.check(method, path, answer)
        return answer
    }
}

/// Checks every response a test sees against the OpenAPI document: its status is documented for the route, and its
/// body matches the documented schema.
struct ResponseChecker: Sendable {
    let routes: [RouteSpec]
    let document: JSONValue

    func check(_ method: HTTPRequest.Method, _ uri: String, _ response: APIResponse) {
        let path = String(uri.split(separator: "?", maxSplits: 1).first ?? "")
        guard method != .options, let route = routes.first(where: { $0.method == method && $0.matches(path: path) }) else { return }
        let status = String(response.status.code)
        guard let documented = document["paths"]?[route.path]?[method.rawValue.lowercased()]?["responses"]?[status] else {
            Issue.record("\(method) \(route.path) answered \(status), which the document does not list: \(response)")
            return
        }
        guard let mediaType = response.headers[.contentType]?.split(separator: ";").first.map(String.init),
            mediaType.hasSuffix("json"), let schema = documented["content"]?[mediaType]?["schema"]
        else { return }
        let problems = SchemaValidator(document: document).problems(response.json, schema)
        if !problems.isEmpty { Issue.record("\(method) \(route.path) \(status) does not match the document: \(problems)") }
    }
}

/// A response with its body parsed when it is JSON.
struct APIResponse: Sendable, CustomStringConvertible {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: String

    var json: JSONValue { (try? JSONValue.parse(Data(body.utf8))) ?? .null }
    subscript(key: String) -> JSONValue? { json[key] }
    var string: (String) -> String? { { json[$0]?.stringValue } }
    var items: [JSONValue] {
        if case .array(let items) = json["items"] ?? .null { return items }
        return []
    }
    var problemCode: String? { headers[.contentType] == "application/problem+json" ? json["code"]?.stringValue : nil }
    var fieldErrors: [String] {
        guard case .array(let errors) = json["errors"] ?? .null else { return [] }
        return errors.compactMap { $0["field"]?.stringValue }
    }
    var id: String { json["id"]?.stringValue ?? "" }
    var description: String { "\(status.code) \(body)" }
}

/// Collects log records for assertions about what the server logs.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let records = NIOLockedValueBox<[Record]>([])
    var all: [Record] { records.withLockedValue { $0 } }
    func append(_ record: Record) { records.withLockedValue { $0.append(record) } }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        recorder.append(.init(level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" }))
    }
}

extension JSONValue {
    /// A JSON body for a new plumbing job in London.
    static func newJob(category: CategoryID, title: String = "Fix a leaking tap") -> JSONValue {
        [
            "categoryId": .string(category.uuidString), "title": .string(title), "description": "The kitchen tap drips all night.",
            "location": ["latitude": .number(Fixtures.london.latitude), "longitude": .number(Fixtures.london.longitude)],
            "budget": ["min": ["amount": 10_000, "currency": "USD"], "max": ["amount": 50_000, "currency": "USD"]],
        ]
    }

    /// A bid body.
    static func bid(_ amount: Int64, message: String = "I can do it this week.", jobVersion: JSONValue? = nil) -> JSONValue {
        var members: [String: JSONValue] = ["amount": ["amount": .integer(amount), "currency": "USD"], "message": .string(message)]
        if let jobVersion { members["jobVersion"] = jobVersion }
        return .object(members)
    }
}
