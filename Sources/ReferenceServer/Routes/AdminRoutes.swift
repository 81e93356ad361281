import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// Moderation for a tenant's admins. Core checks the role of every operation; these routes add only the admin
/// views that have no core operation of their own (the dispute queue, the stats).
enum AdminRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .get, "/v1/admin/users", id: "adminListUsers", "The tenant's users in registration order", tag: "Admin", access: .user,
                    response: "AdminUserList",
                    query: [
                        QueryParameter(
                            "role", "Only users of this role.", schema: ["type": "string", "enum": ["homeowner", "contractor", "admin"]]),
                        CommonQuery.cursor, CommonQuery.limit,
                    ])
            ) { call in
                let principal = try call.principal()
                let query = call.query
                let roles = query.enumerations("role", as: Role.self)
                let page = query.page()
                try query.finish()
                if let roles, roles.count > 1 {
                    throw TradesKitError(
                        .validationFailed, "The query is not valid",
                        fieldErrors: [
                            FieldError(field: "role", code: "invalid_value", message: "must be one role")
                        ])
                }
                let users = try await call.market.users.list(by: principal, role: roles?.first, page: page)
                return try call.json(ListResponse(users, AdminUserResponse.init))
            },
            suspension("suspend", "suspendUser", "Suspend a user", suspended: true),
            suspension("unsuspend", "unsuspendUser", "Reinstate a suspended user", suspended: false),
            Route(
                RouteSpec(
                    .put, "/v1/admin/contractors/{id}/vetting", id: "setVetting", "Set a contractor's vetting status", tag: "Admin",
                    access: .user, body: "VettingInput", response: "ContractorProfile")
            ) { call in
                let principal = try call.principal()
                let id: UserID = try call.id("id", "Contractor profile")
                let body = try await call.body()
                let status = body.enumeration("status", as: VettingStatus.self)
                let expectedVersion = body.expectedVersion()
                try body.finish()
                guard let status else { throw ServerError(.badRequest, "Incomplete input") }
                return try call.json(
                    ContractorProfileResponse(
                        try await call.market.contractors.setVetting(by: principal, id, status, expectedVersion: expectedVersion)))
            },
            Route(
                RouteSpec(
                    .get, "/v1/admin/disputes", id: "adminDisputeQueue", "Disputes waiting for a decision (unresolved by default)",
                    tag: "Admin", access: .user, response: "DisputeList",
                    query: [DisputeRoutes.statusParameter, CommonQuery.cursor, CommonQuery.limit])
            ) { call in
                let principal = try call.principal()
                let query = call.query
                let statuses = query.enumerations("status", as: DisputeStatus.self)
                let page = query.page()
                try query.finish()
                let disputes = try await call.market.disputes.queue(by: principal, statuses: statuses, page: page)
                return try call.json(ListResponse(disputes, DisputeResponse.init))
            },
            Route(
                RouteSpec(
                    .get, "/v1/admin/settlements", id: "adminOwedSettlements",
                    "Payments the processor still owes, the soonest due first (the stats count them all)", tag: "Admin", access: .user,
                    response: "AdminEscrowList",
                    query: [QueryParameter("limit", "How many, 1–100 (default 50).", schema: ["type": "integer", "minimum": 1, "maximum": 100])])
            ) { call in
                let principal = try call.principal()
                let query = call.query
                let limit = query.int("limit", in: 1...100) ?? 50
                try query.finish()
                let escrows = try await call.market.payments.owedSettlements(by: principal, limit: limit)
                return try call.json(ListResponse(items: escrows.map(AdminEscrowResponse.init)))
            },
            Route(
                RouteSpec(
                    .post, "/v1/admin/jobs/{id}/settle", id: "settleNow",
                    "Carry out the payment a job's escrow owes now, without waiting for its next attempt", tag: "Admin", access: .user,
                    response: "AdminEscrow", problems: [402])
            ) { call in
                let escrow = try await call.market.payments.settleNow(by: call.principal(), job: call.id("id", "Payment"))
                return try call.json(AdminEscrowResponse(escrow))
            },
            Route(
                RouteSpec(
                    .get, "/v1/admin/stats", id: "adminStats", "Counts of users, jobs, open disputes, and settlements owed and failing", tag: "Admin",
                    access: .user,
                    response: "Stats")
            ) { call in
                try call.json(TenantStats(try await call.market.tenants.counts(by: call.principal())))
            },
        ]
    }

    private static func suspension(_ action: String, _ operationID: String, _ summary: String, suspended: Bool) -> Route {
        Route(
            RouteSpec(.post, "/v1/admin/users/{id}/\(action)", id: operationID, summary, tag: "Admin", access: .user, response: "AdminUser")
        ) { call in
            let user = try await call.market.users.setSuspended(by: call.principal(), call.id("id", "User"), suspended: suspended)
            return try call.json(AdminUserResponse(user))
        }
    }
}
