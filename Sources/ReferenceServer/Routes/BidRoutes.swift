import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// Blind bids: core's `BidViewer` decides who sees which bid, inside the storage query.
enum BidRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .post, "/v1/jobs/{id}/bids", id: "submitBid", "Bid on an open job (contractors)", tag: "Bids", access: .user, body: "NewBid",
                    status: 201, response: "Bid", problems: [409])
            ) { call in
                let principal = try call.principal()
                let job: JobID = try call.id("id", "Job")
                let body = try await call.body()
                let amount = body.money("amount")
                let message = body.string("message", default: "", maxLength: 10_000)
                let jobVersion = body.expectedVersion("jobVersion")
                try body.finish()
                guard let amount, let message else { throw ServerError(.badRequest, "Incomplete input") }
                let bid = try await call.market.bids.submit(by: principal, on: job, .init(amount: amount, message: message, jobVersion: jobVersion))
                call.services.metrics.bidsSubmitted.increment()
                return try call.json(BidResponse(bid), status: .created)
            },
            Route(
                RouteSpec(
                    .get, "/v1/jobs/{id}/bids", id: "listBids",
                    "Bids on a job: all of them for its owner and admins, only their own for a contractor", tag: "Bids", access: .user,
                    response: "BidList")
            ) { call in
                let bids = try await call.market.bids.list(by: call.principal(), job: call.id("id", "Job"))
                return try call.json(ListResponse(items: bids.map(BidResponse.init)))
            },
            Route(RouteSpec(.get, "/v1/bids/{id}", id: "getBid", "A bid the caller may see", tag: "Bids", access: .user, response: "Bid")) { call in
                try call.json(BidResponse(try await call.market.bids.get(by: call.principal(), call.id("id", "Bid"))))
            },
            Route(
                RouteSpec(
                    .post, "/v1/bids/{id}/withdraw", id: "withdrawBid", "Withdraw the caller's own bid while the job is open", tag: "Bids",
                    access: .user, response: "Bid", problems: [409])
            ) { call in
                try call.json(BidResponse(try await call.market.bids.withdraw(by: call.principal(), call.id("id", "Bid"))))
            },
            Route(
                RouteSpec(
                    .post, "/v1/bids/{id}/accept", id: "acceptBid",
                    "Accept a bid (the job's owner): the job is awarded, other bids declined, the money held", tag: "Bids", access: .user,
                    response: "Acceptance", problems: [402, 409])
            ) { call in
                let acceptance = try await call.market.bids.accept(by: call.principal(), call.id("id", "Bid"))
                call.services.metrics.bidsAccepted.increment()
                return try call.json(AcceptanceResponse(acceptance))
            },
        ]
    }
}
