import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// What the parties of a job say: messages, reviews, and the caller's event feed.
enum ThreadRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/jobs/{id}/messages", id: "postMessage", "Message the other party of an awarded job", tag: "Messages",
                    access: .user, body: "NewMessage", status: 201, response: "Message")
            ) { call in
                let principal = try call.principal()
                let job: JobID = try call.id("id", "Job")
                let body = try await call.body()
                let text = body.string("body", maxLength: 20_000)
                try body.finish()
                guard let text else { throw ServerError(.badRequest, "Incomplete input") }
                return try call.json(MessageResponse(try await call.market.messages.post(by: principal, job: job, body: text)), status: .created)
            },
            Route(
                RouteSpec(
                    .get, "/v1/jobs/{id}/messages", id: "listMessages", "A job's thread, oldest first (its parties and admins)", tag: "Messages",
                    access: .user, response: "MessageList", query: [CommonQuery.cursor, CommonQuery.limit])
            ) { call in
                let principal = try call.principal()
                let job: JobID = try call.id("id", "Job")
                let page = try call.pageQuery()
                return try call.json(ListResponse(try await call.market.messages.list(by: principal, job: job, page: page), MessageResponse.init))
            },
            Route(
                RouteSpec(
                    .post, "/v1/jobs/{id}/reviews", id: "reviewJob", "Review the other party of a closed job", tag: "Reviews", access: .user,
                    body: "NewReview", status: 201, response: "Review", problems: [409])
            ) { call in
                let principal = try call.principal()
                let job: JobID = try call.id("id", "Job")
                let body = try await call.body()
                let rating = body.int("rating")
                let text = body.string("text", default: "", maxLength: 10_000)
                try body.finish()
                guard let rating, let text else { throw ServerError(.badRequest, "Incomplete input") }
                let review = try await call.market.reviews.submit(by: principal, job: job, rating: rating, text: text)
                return try call.json(ReviewResponse(review), status: .created)
            },
            Route(
                RouteSpec(
                    .get, "/v1/jobs/{id}/reviews", id: "listJobReviews", "A job's reviews the caller may see", tag: "Reviews", access: .user,
                    response: "ReviewList")
            ) { call in
                let reviews = try await call.market.reviews.forJob(by: call.principal(), job: call.id("id", "Job"))
                return try call.json(ListResponse(items: reviews.map(ReviewResponse.init)))
            },
            Route(
                RouteSpec(
                    .get, "/v1/events", id: "listEvents", "The caller's event feed, oldest first (every event of the tenant for admins)",
                    tag: "Events", access: .user, response: "EventList", query: [CommonQuery.cursor, CommonQuery.limit])
            ) { call in
                let principal = try call.principal()
                let page = try call.pageQuery()
                return try call.json(ListResponse(try await call.market.events.feed(by: principal, page: page), EventResponse.init))
            },
        ]
    }
}
