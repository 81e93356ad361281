import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
@testable import ReferenceServer
import Testing
import TradesKit
import TradesKitTesting

/// Every error is RFC 9457 problem+json with a stable code, and says nothing it should not.
@Suite("Problems")
struct ProblemTests {
    /// The members every problem has, and nothing that looks like internals.
    static func checkShape(_ response: APIResponse, status: HTTPResponse.Status, code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == status, "\(response)", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        #expect(response["code"]?.stringValue == code, "\(response)", sourceLocation: sourceLocation)
        #expect(response["type"]?.stringValue == "urn:tradeskit:problem:\(code)", sourceLocation: sourceLocation)
        #expect(response["status"] == .integer(Int64(status.code)), sourceLocation: sourceLocation)
        #expect(response["title"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(response["detail"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(response["requestId"]?.stringValue == response.headers[.requestID], sourceLocation: sourceLocation)
        for leak in ["SELECT", "sqlite", "Swift", ".swift", "Fatal", "0x", "secret"] {
            #expect(!response.body.contains(leak), "\(leak) in \(response)", sourceLocation: sourceLocation)
        }
    }

    @Test("404 unknown route, 405 wrong method with Allow")
    func routing() async throws {
        let harness = try await TestServer()
        try await harness.test { api async throws in
            Self.checkShape(try await api.call(.get, "/v1/nothing-here"), status: .notFound, code: "route_not_found")
            Self.checkShape(try await api.call(.get, "/"), status: .notFound, code: "route_not_found")
            let wrong = try await api.call(.delete, "/v1/jobs/\(UUID().uuidString)")
            Self.checkShape(wrong, status: .methodNotAllowed, code: "method_not_allowed")
            #expect(wrong.headers[.allow] == "GET, PATCH")
            #expect(try await api.call(.put, "/health").headers[.allow] == "GET")
        }
    }

    @Test("413 for a body over the limit, declared or streamed; 415 for a body that is not JSON; 400 for malformed JSON")
    func bodies() async throws {
        let harness = try await TestServer { $0.bodyLimit = 2_048 }
        let world = try await harness.world()
        try await harness.test { api async throws in
            let big = String(repeating: "x", count: 4_096)
            Self.checkShape(
                try await api.call(.post, "/v1/jobs", as: world.owner, json: ["title": .string(big)]), status: .contentTooLarge,
                code: "payload_too_large")
            Self.checkShape(
                try await api.call(.post, "/v1/jobs", as: world.owner, raw: "title=x", contentType: "application/x-www-form-urlencoded"),
                status: .unsupportedMediaType, code: "unsupported_media_type")
            Self.checkShape(
                try await api.call(.post, "/v1/jobs", as: world.owner, raw: "{\"title\": ", contentType: "application/json"),
                status: .badRequest, code: "malformed_body")
            Self.checkShape(try await api.call(.post, "/v1/jobs", as: world.owner), status: .unprocessableContent, code: "validation_failed")
            Self.checkShape(
                try await api.call(.post, "/v1/jobs", as: world.owner, raw: "[1, 2]", contentType: "application/json; charset=utf-8"),
                status: .unprocessableContent, code: "validation_failed")
        }
        // Streamed: a chunked body with no Content-Length, over a real connection (the test clients always declare one).
        try await harness.test(.live) { api async throws in
            let port = try #require(api.client.port)
            let json = #"{"title": ""# + String(repeating: "x", count: 4_096) + #""}"#
            let response = try await Self.sendChunked(
                port: port, path: "/v1/jobs", token: world.owner.token, body: Array(json.utf8), chunkSize: 1_000)
            Self.checkShape(response, status: .contentTooLarge, code: "payload_too_large")
            // A chunked body under the limit is read as usual (and found incomplete): only the size was refused.
            let small = try await Self.sendChunked(
                port: port, path: "/v1/jobs", token: world.owner.token, body: Array(#"{"title": "x"}"#.utf8), chunkSize: 4)
            Self.checkShape(small, status: .unprocessableContent, code: "validation_failed")
        }
    }

    /// POSTs `body` with `Transfer-Encoding: chunked` and no `Content-Length`, in chunks of `chunkSize` bytes, on a raw
    /// connection to the live server, and reads the answer until the server closes (`Connection: close`).
    static func sendChunked(port: Int, path: String, token: String, body: [UInt8], chunkSize: Int) async throws -> APIResponse {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let received = try await channel.executeThenClose { inbound, outbound in
            var request = ByteBuffer(
                string: "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            for start in stride(from: 0, to: body.count, by: chunkSize) {
                let chunk = body[start..<min(start + chunkSize, body.count)]
                request.writeString(String(chunk.count, radix: 16) + "\r\n")
                request.writeBytes(chunk)
                request.writeString("\r\n")
            }
            request.writeString("0\r\n\r\n")
            try await outbound.write(request)
            var received = ByteBuffer()
            for try await var part in inbound { received.writeBuffer(&part) }
            return String(buffer: received)
        }
        let parts = received.components(separatedBy: "\r\n\r\n")
        let lines = (parts.first ?? "").components(separatedBy: "\r\n")
        let code = lines.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        var headers = HTTPFields()
        for line in lines.dropFirst() {
            let field = line.split(separator: ":", maxSplits: 1)
            guard field.count == 2, let name = HTTPField.Name(String(field[0])) else { continue }
            headers.append(HTTPField(name: name, value: field[1].trimmingCharacters(in: .whitespaces)))
        }
        return APIResponse(status: HTTPResponse.Status(code: code), headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test("422 lists every bad field at once")
    func everyField() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            let response = try await api.call(
                .post, "/v1/jobs", as: world.owner,
                json: [
                    "categoryId": "not-a-uuid", "title": 42, "location": ["latitude": "north"],
                    "budget": ["min": ["amount": 1.5, "currency": "XXX"], "max": ["amount": 100, "currency": "USD"]],
                ])
            Self.checkShape(response, status: .unprocessableContent, code: "validation_failed")
            #expect(
                Set(response.fieldErrors) == [
                    "categoryId", "title", "description", "location.latitude", "location.longitude", "budget.min.amount", "budget.min.currency",
                ], "\(response)")
            // Core's own rules, after the shape is right, also list every field.
            let core = try await api.call(
                .post, "/v1/jobs", as: world.owner,
                json: [
                    "categoryId": .string(UUID().uuidString), "title": "ab", "description": "", "location": ["latitude": 91, "longitude": 0],
                    "budget": ["min": ["amount": 100, "currency": "EUR"], "max": ["amount": -1, "currency": "USD"]],
                ])
            Self.checkShape(core, status: .unprocessableContent, code: "validation_failed")
            #expect(
                Set(core.fieldErrors).isSuperset(of: [
                    "title", "description", "location.latitude", "budget.min.currency", "budget.max.amount", "categoryId",
                ]), "\(core)")
            // Every bad element of an array.
            let profile = try await api.call(
                .put, "/v1/me/contractor-profile", as: world.contractorA,
                json: [
                    "trades": [.string(world.plumbing.uuidString), "first-bad", .string(UUID().uuidString), 7],
                    "serviceArea": ["center": ["latitude": 51.5, "longitude": -0.12], "radiusKm": 20],
                ])
            Self.checkShape(profile, status: .unprocessableContent, code: "validation_failed")
            #expect(Set(profile.fieldErrors) == ["trades[1]", "trades[3]"], "\(profile)")
            // Bad query parameters, `near` among them.
            let query = try await api.call(.get, "/v1/jobs?limit=1000&status=sideways&cursor=%%%&near=north", as: world.owner)
            Self.checkShape(query, status: .unprocessableContent, code: "validation_failed")
            #expect(Set(query.fieldErrors) == ["limit", "status", "cursor", "near"], "\(query)")
            // A role nobody registers as, with core's own problems of the other fields, in one answer.
            let registration = try await api.call(
                .post, "/v1/auth/register", tenant: "acme",
                json: ["email": "not an address", "password": "short", "displayName": "", "phone": "12", "role": "admin"])
            Self.checkShape(registration, status: .unprocessableContent, code: "validation_failed")
            #expect(Set(registration.fieldErrors) == ["email", "password", "displayName", "phone", "role"], "\(registration)")
        }
    }

    @Test("Core errors map to their statuses: not_found 404, forbidden 403, invalid_transition 409, conflict 409")
    func coreCodes() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        try await harness.test { api async throws in
            Self.checkShape(try await api.call(.get, "/v1/jobs/\(UUID().uuidString)", as: world.owner), status: .notFound, code: "not_found")
            Self.checkShape(try await api.call(.get, "/v1/jobs/not-a-uuid", as: world.owner), status: .notFound, code: "not_found")
            Self.checkShape(
                try await api.call(.post, "/v1/jobs", as: world.contractorA, json: .newJob(category: world.plumbing)), status: .forbidden,
                code: "forbidden")
            let job = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
            Self.checkShape(try await api.call(.post, "/v1/jobs/\(job.id)/complete", as: world.owner), status: .forbidden, code: "forbidden")
            _ = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(1_000))
            Self.checkShape(
                try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(2_000)), status: .conflict, code: "conflict")
            _ = try await api.call(.post, "/v1/jobs/\(job.id)/cancel", as: world.owner)
            Self.checkShape(
                try await api.call(.patch, "/v1/jobs/\(job.id)", as: world.owner, json: ["title": "Too late"]), status: .conflict,
                code: "invalid_transition")
            // A taken e-mail address is not a conflict the caller hears of (no enumeration), though storage meets one.
            let taken = try await api.call(
                .post, "/v1/auth/register", tenant: "acme",
                json: ["email": .string(world.owner.email), "password": "a long enough password", "displayName": "Again", "role": "homeowner"])
            #expect(taken.status == .accepted, "\(taken)")
        }
        // The second bid and the taken e-mail address are the caller's conflicts: logged, but not as warnings.
        let conflicts = harness.logs.all.filter { $0.message == "Storage error" }
        #expect(conflicts.map { $0.metadata["tradeskit.storage_error"] }.contains("unique_violation"), "\(conflicts)")
        #expect(conflicts.allSatisfy { $0.level == .info }, "\(conflicts.map(\.level))")
    }

    @Test("Tenant resolution: required, unknown, from the host's first label")
    func tenancy() async throws {
        let harness = try await TestServer()
        _ = try await harness.world(slug: "acme")
        try await harness.test { api async throws in
            Self.checkShape(try await api.call(.get, "/v1/categories"), status: .badRequest, code: "tenant_required")
            Self.checkShape(try await api.call(.get, "/v1/categories", tenant: "nowhere"), status: .notFound, code: "unknown_tenant")
            Self.checkShape(try await api.call(.get, "/v1/me"), status: .unauthorized, code: "unauthenticated")
        }
        // The router test client always sends the authority `localhost`; a live request can carry a tenant host.
        #expect(RouteGuard.hostLabel(authority: "acme.trades.example:8080") == "acme")
        #expect(RouteGuard.hostLabel(authority: "127.0.0.1:8080") == nil)
        #expect(RouteGuard.hostLabel(authority: "[::1]:8080") == nil)
        #expect(RouteGuard.hostLabel(authority: "localhost") == nil)
    }
}
