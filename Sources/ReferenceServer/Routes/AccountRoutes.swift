import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// The caller's own account, contractor profile and bids; other users' public profiles and reviews.
enum AccountRoutes {
    static func routes() -> [Route] {
        [
            Route(RouteSpec(.get, "/v1/me", id: "getMe", "The caller's account", tag: "Account", access: .user, response: "Account")) { call in
                let principal = try call.principal()
                return try call.json(AccountResponse(try await call.market.users.get(by: principal, principal.userID)))
            },
            Route(
                RouteSpec(
                    .patch, "/v1/me", id: "updateMe", "Change the caller's display name, phone or notification channels", tag: "Account",
                    access: .user,
                    body: "AccountUpdate", response: "Account")
            ) { call in
                let principal = try call.principal()
                let body = try await call.body()
                let displayName = body.optionalString("displayName", maxLength: 1_000)
                let phone = body.optionalString("phone", maxLength: 40)
                let notifications = body.optionalObject("notifications") { channels in
                    (email: channels.optionalBool("email"), sms: channels.optionalBool("sms"))
                }
                if case .null = notifications { body.fail("notifications", "invalid_type", "must be an object") }
                try body.finish()
                if case .null = displayName {
                    throw TradesKitError(
                        .validationFailed, "The input is not valid",
                        fieldErrors: [
                            FieldError(field: "displayName", code: "invalid_type", message: "must be a string")
                        ])
                }
                // Core removes the number on an empty string; over HTTP that is `null`, and "" is no phone number.
                if case .value(let number) = phone, number.isEmpty {
                    throw TradesKitError(
                        .validationFailed, "The input is not valid",
                        fieldErrors: [
                            FieldError(field: "phone", code: "invalid_format", message: "must be in E.164 format, e.g. +14155550123, or null")
                        ])
                }
                let phoneChange: String? =
                    switch phone {
                    case .absent: nil
                    case .null: ""
                    case .value(let number): number
                    }
                let user = try await call.market.users.update(
                    by: principal, principal.userID,
                    .init(
                        displayName: displayName.value, phone: phoneChange, notifyByEmail: notifications.value?.email,
                        notifyBySMS: notifications.value?.sms))
                return try call.json(AccountResponse(user))
            },
            Route(
                RouteSpec(
                    .get, "/v1/me/contractor-profile", id: "getMyContractorProfile", "The caller's contractor profile", tag: "Account",
                    access: .user, response: "ContractorProfile", problems: [404])
            ) { call in
                let principal = try call.principal()
                return try call.json(ContractorProfileResponse(try await call.market.contractors.profile(by: principal, principal.userID)))
            },
            Route(
                RouteSpec(
                    .put, "/v1/me/contractor-profile", id: "saveMyContractorProfile", "Create or replace the caller's contractor profile",
                    tag: "Account", access: .user, body: "ContractorProfileInput", response: "ContractorProfile")
            ) { call in
                let principal = try call.principal()
                let body = try await call.body()
                let headline = body.string("headline", default: "", maxLength: 1_000)
                let trades: [CategoryID]? = body.array("trades", maxCount: 50) { body.idElement($0, $1) }
                let area = body.object("serviceArea") { area -> GeoCircle? in
                    let center = area.point("center")
                    let radius = area.double("radiusKm")
                    guard let center, let radius else { return nil }
                    return GeoCircle(center: center, radiusKm: radius)
                }
                let licence = body.optionalObject("licence") { licence -> Licence? in
                    let number = licence.string("number", maxLength: 1_000)
                    let region = licence.string("region", maxLength: 1_000)
                    let expiresAt = licence.date("expiresAt")
                    guard let number, let region, let expiresAt else { return nil }
                    return Licence(number: number, region: region, expiresAt: expiresAt)
                }
                let insurance = body.optionalDate("insuranceExpiresAt")
                try body.finish()
                guard let headline, let trades, let area else { throw ServerError(.badRequest, "Incomplete input") }
                let profile = try await call.market.contractors.saveProfile(
                    by: principal,
                    .init(headline: headline, trades: trades, serviceArea: area, licence: licence.value, insuranceExpiresAt: insurance.value))
                return try call.json(ContractorProfileResponse(profile))
            },
            Route(
                RouteSpec(
                    .get, "/v1/me/bids", id: "listMyBids", "The caller's own bids, newest first", tag: "Bids", access: .user,
                    response: "BidList", query: [CommonQuery.cursor, CommonQuery.limit])
            ) { call in
                let principal = try call.principal()
                let page = try call.pageQuery()
                return try call.json(ListResponse(try await call.market.bids.mine(by: principal, page: page), BidResponse.init))
            },
            Route(
                RouteSpec(
                    .get, "/v1/users/{id}", id: "getUser", "A user's public profile", tag: "Users", access: .user, response: "PublicUser")
            ) { call in
                let principal = try call.principal()
                return try call.json(PublicUserResponse(try await call.market.users.publicProfile(by: principal, call.id("id", "User"))))
            },
            Route(
                RouteSpec(
                    .get, "/v1/users/{id}/reviews", id: "listUserReviews",
                    "Visible reviews about a user, newest first (without author, job or day; the cursor is opaque, as it would carry them)",
                    tag: "Users", access: .user, response: "PublicReviewList", query: [CommonQuery.sealedCursor, CommonQuery.limit])
            ) { call in
                let principal = try call.principal()
                let user: UserID = try call.id("id", "User")
                let page = try call.pageQuery(sealedWith: call.services.cursors)
                let reviews = try await call.market.reviews.about(by: principal, user: user, page: page)
                return try call.json(try ListResponse(reviews, PublicReviewResponse.init, sealedWith: call.services.cursors))
            },
        ]
    }
}
