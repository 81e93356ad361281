import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// Posting, searching and moving jobs through their life.
enum JobRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/jobs", id: "postJob", "Post a job (homeowners)", tag: "Jobs", access: .user, body: "NewJob", status: 201,
                    response: "Job")
            ) { call in
                let principal = try call.principal()
                let body = try await call.body()
                let category: CategoryID? = body.id("categoryId")
                let title = body.string("title", maxLength: 1_000)
                let description = body.string("description", maxLength: 20_000)
                let location = body.point("location")
                let budget = readBudget(body)
                try body.finish()
                guard let category, let title, let description, let location, let budget else { throw ServerError(.badRequest, "Incomplete input") }
                let job = try await call.market.jobs.post(
                    by: principal, .init(categoryID: category, title: title, description: description, location: location, budget: budget))
                call.services.metrics.jobsPosted.increment()
                return try call.json(JobResponse(job), status: .created)
            },
            Route(
                RouteSpec(
                    .get, "/v1/jobs", id: "searchJobs", "Search jobs: open ones, and the caller's own", tag: "Jobs", access: .user,
                    response: "JobList", query: searchParameters)
            ) { call in
                let principal = try call.principal()
                let query = call.query
                var search = JobQuery()
                search.statuses = query.enumerations("status", as: JobStatus.self)
                search.categoryID = query.id("category")
                search.text = query.string("q", maxLength: 100)
                // Checked even without `near`, where it does nothing: a bad value is refused wherever it is.
                let radius = query.double("radiusKm", in: 0.1...1_000)
                if let near = query.string("near", maxLength: 60) {
                    let parts = near.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
                    if parts.count == 2, let latitude = parts[0], let longitude = parts[1] {
                        search.near = GeoCircle(center: GeoPoint(latitude: latitude, longitude: longitude), radiusKm: radius ?? 25)
                    } else {
                        // Reported with every other bad parameter by `finish()`.
                        query.fail("near", "invalid_format", "must be latitude,longitude")
                    }
                }
                if query.bool("mine") == true {
                    if principal.role == .contractor { search.contractorID = principal.userID } else { search.ownerID = principal.userID }
                }
                let page = query.page(defaultLimit: 20)
                try query.finish()
                search.cursor = page.cursor
                search.limit = page.limit
                return try call.json(ListResponse(try await call.market.jobs.search(by: principal, search), JobResponse.init))
            },
            Route(RouteSpec(.get, "/v1/jobs/{id}", id: "getJob", "A job", tag: "Jobs", access: .user, response: "Job")) { call in
                try call.json(JobResponse(try await call.market.jobs.get(by: call.principal(), call.id("id", "Job"))))
            },
            Route(
                RouteSpec(
                    .patch, "/v1/jobs/{id}", id: "updateJob", "Edit an open job that has no live bid (its owner)", tag: "Jobs", access: .user,
                    body: "JobUpdate",
                    response: "Job", problems: [409])
            ) { call in
                let principal = try call.principal()
                let id: JobID = try call.id("id", "Job")
                let body = try await call.body()
                let title = body.optionalString("title", maxLength: 1_000)
                let description = body.optionalString("description", maxLength: 20_000)
                let budget = body.optionalObject("budget") { readBudgetMembers($0) }
                try body.finish()
                var nulls: [FieldError] = []
                for (name, isNull) in [("title", title.isNull), ("description", description.isNull), ("budget", budget.isNull)] where isNull {
                    nulls.append(FieldError(field: name, code: "invalid_type", message: "must not be null"))
                }
                if !nulls.isEmpty { throw TradesKitError(.validationFailed, "The input is not valid", fieldErrors: nulls) }
                let job = try await call.market.jobs.update(
                    by: principal, id, .init(title: title.value, description: description.value, budget: budget.value))
                return try call.json(JobResponse(job))
            },
            transition("cancel", "cancelJob", "Cancel a job (owner, awarded contractor before start, or admin)") { try await $0.cancel(by: $1, $2) },
            transition("start", "startJob", "Start the work (the awarded contractor); the money is captured") { try await $0.start(by: $1, $2) },
            transition("complete", "completeJob", "Mark the work complete (the awarded contractor)") { try await $0.complete(by: $1, $2) },
            transition("approve", "approveJob", "Approve the work (the owner); the contractor is paid") { try await $0.approve(by: $1, $2) },
        ]
    }

    static let searchParameters = [
        QueryParameter(
            "status", "Only jobs in these states (comma-separated).",
            schema: [
                "type": "string",
                "pattern":
                    "^(open|awarded|in_progress|completed|disputed|closed|cancelled)(,(open|awarded|in_progress|completed|disputed|closed|cancelled))*$",
            ]),
        QueryParameter("category", "Only jobs in this category.", schema: ["type": "string", "format": "uuid"]),
        QueryParameter("q", "Text in the title or description.", schema: OpenAPISchema.text(max: 100)),
        QueryParameter(
            "near", "`latitude,longitude`: only jobs within `radiusKm` of this point.",
            schema: OpenAPISchema.string(
                pattern: #"^-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?),-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)$"#)),
        QueryParameter(
            "radiusKm", "The radius for `near`, 0.1–1000 (default 25).", schema: ["type": "number", "minimum": .number(0.1), "maximum": 1_000]),
        QueryParameter("mine", "Only the caller's own jobs (posted, or awarded to the calling contractor).", schema: ["type": "boolean"]),
        CommonQuery.cursor, CommonQuery.limit,
    ]

    private static func transition(
        _ action: String, _ operationID: String, _ summary: String,
        _ perform: @escaping @Sendable (JobService, Principal, JobID) async throws -> Job
    ) -> Route {
        Route(
            RouteSpec(.post, "/v1/jobs/{id}/\(action)", id: operationID, summary, tag: "Jobs", access: .user, response: "Job", problems: [409])
        ) { call in
            try call.json(JobResponse(try await perform(call.market.jobs, call.principal(), call.id("id", "Job"))))
        }
    }

    static func readBudget(_ body: BodyReader) -> BudgetRange? {
        body.object("budget") { readBudgetMembers($0) }
    }

    private static func readBudgetMembers(_ budget: BodyReader) -> BudgetRange? {
        let min = budget.money("min")
        let max = budget.money("max")
        guard let min, let max else { return nil }
        return BudgetRange(min: min, max: max)
    }
}

extension BodyReader.Presence {
    /// Whether the member was an explicit `null`.
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
