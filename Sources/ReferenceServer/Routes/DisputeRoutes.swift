import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// Disputes: opened by a party, answered by the other, resolved by an admin.
enum DisputeRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/disputes", id: "openDispute", "Open a dispute on an awarded, started or completed job (its parties)",
                    tag: "Disputes", access: .user, body: "NewDispute", status: 201, response: "Dispute", problems: [404, 409])
            ) { call in
                let principal = try call.principal()
                let body = try await call.body()
                let job: JobID? = body.id("jobId")
                let reason = body.string("reason", maxLength: 20_000)
                try body.finish()
                guard let job, let reason else { throw ServerError(.badRequest, "Incomplete input") }
                return try call.json(DisputeResponse(try await call.market.disputes.open(by: principal, job: job, reason: reason)), status: .created)
            },
            Route(
                RouteSpec(
                    .get, "/v1/disputes", id: "listDisputes", "The caller's disputes, newest first (all of them for admins)", tag: "Disputes",
                    access: .user, response: "DisputeList", query: [statusParameter, CommonQuery.cursor, CommonQuery.limit])
            ) { call in
                let principal = try call.principal()
                let query = call.query
                let statuses = query.enumerations("status", as: DisputeStatus.self)
                let page = query.page()
                try query.finish()
                let disputes = try await call.market.disputes.list(by: principal, statuses: statuses, page: page)
                return try call.json(ListResponse(disputes, DisputeResponse.init))
            },
            Route(
                RouteSpec(
                    .get, "/v1/disputes/{id}", id: "getDispute", "A dispute (its parties and admins)", tag: "Disputes", access: .user,
                    response: "Dispute")
            ) { call in
                try call.json(DisputeResponse(try await call.market.disputes.get(by: call.principal(), call.id("id", "Dispute"))))
            },
            Route(
                RouteSpec(
                    .post, "/v1/disputes/{id}/respond", id: "respondToDispute", "Answer a dispute (the other party)", tag: "Disputes",
                    access: .user, body: "DisputeResponseInput", response: "Dispute", problems: [409])
            ) { call in
                let principal = try call.principal()
                let id: DisputeID = try call.id("id", "Dispute")
                let body = try await call.body()
                let text = body.string("response", maxLength: 20_000)
                try body.finish()
                guard let text else { throw ServerError(.badRequest, "Incomplete input") }
                return try call.json(DisputeResponse(try await call.market.disputes.respond(by: principal, id, response: text)))
            },
            Route(
                RouteSpec(
                    .post, "/v1/disputes/{id}/resolve", id: "resolveDispute", "Resolve a dispute (admins): release, partial or full refund",
                    tag: "Disputes", access: .user, body: "DisputeResolutionInput", response: "Dispute", problems: [409])
            ) { call in
                let principal = try call.principal()
                let id: DisputeID = try call.id("id", "Dispute")
                let body = try await call.body()
                let outcomeName = body.string("outcome", maxLength: 20)
                let note = body.string("note", maxLength: 20_000)
                var outcome: DisputeOutcome?
                switch outcomeName {
                case "release": outcome = .release
                case "full_refund": outcome = .fullRefund
                case "partial_refund": outcome = body.money("refund").map { .partialRefund($0) }
                case nil: break
                default: body.fail("outcome", "invalid_value", "must be one of: release, partial_refund, full_refund")
                }
                let expectedVersion = body.expectedVersion()
                try body.finish()
                guard let outcome, let note else { throw ServerError(.badRequest, "Incomplete input") }
                let resolved = try await call.market.disputes.resolve(
                    by: principal, id, outcome: outcome, note: note, expectedVersion: expectedVersion)
                return try call.json(DisputeResponse(resolved))
            },
        ]
    }

    static let statusParameter = QueryParameter(
        "status", "Only disputes in these states (comma-separated).",
        schema: ["type": "string", "pattern": "^(awaiting_response|under_review|resolved)(,(awaiting_response|under_review|resolved))*$"])
}
