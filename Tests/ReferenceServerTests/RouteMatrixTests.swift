import Foundation
import HTTPTypes
import ReferenceServer
import Testing
import TradesKit

/// Every route called by every kind of caller: never a 500, never an undocumented status or shape (the response
/// checker of ``API`` records any), and the routes that need a token refuse callers without one.
@Suite("Every route, every caller")
struct RouteMatrixTests {
    @Test("Anonymous, homeowner, contractors, admin and operator on every route")
    func matrix() async throws {
        let harness = try await TestServer()
        let world = try await harness.world()
        let routes = harness.server.routes.map(\.spec)
        try await harness.test { api async throws in
            let job = try await api.call(.post, "/v1/jobs", as: world.owner, json: .newJob(category: world.plumbing))
            let bid = try await api.call(.post, "/v1/jobs/\(job.id)/bids", as: world.contractorA, json: .bid(20_000))
            let awarded = try await awardedJob(api, world)
            let dispute = try await api.call(
                .post, "/v1/disputes", as: world.owner, json: ["jobId": .string(awarded), "reason": "Nobody came to the house."])
            func concrete(_ path: String) -> String {
                let id: String =
                    if path.hasPrefix("/v1/jobs/") { job.id } else if path.hasPrefix("/v1/bids/") { bid.id } else if path.hasPrefix("/v1/disputes/") {
                        dispute.id
                    } else if path.hasPrefix("/v1/admin/users/") { world.contractorB.id.uuidString } else if path.hasPrefix("/v1/tenants/") {
                        world.tenant.id.uuidString
                    } else { world.contractorA.id.uuidString }
                return path.replacingOccurrences(of: "{id}", with: id)
            }
            let callers: [(String, String?)] = [
                ("anonymous", nil), ("homeowner", world.owner.token), ("contractor", world.contractorA.token),
                ("other contractor", world.contractorB.token), ("admin", world.admin.token), ("operator", TestServer.operatorToken),
            ]
            for route in routes {
                for (name, token) in callers {
                    let response = try await api.call(
                        route.method, concrete(route.path), token: token, tenant: route.access == .tenant && token == nil ? "acme" : nil,
                        json: route.requestSchema == nil ? nil : [:])
                    #expect(response.status.code < 500 || route.path == "/ready", "\(route.method) \(route.path) as \(name): \(response)")
                    if route.access == .user, token == nil || name == "operator" {
                        #expect(response.status == .unauthorized, "\(route.method) \(route.path) as \(name): \(response)")
                    }
                    if route.access == .operator, name != "operator" {
                        #expect(response.status == .unauthorized, "\(route.method) \(route.path) as \(name): \(response)")
                    }
                }
            }
        }
    }
}
