import Foundation
import HTTPTypes
import TradesKit

/// The component schemas of the OpenAPI document: one per request and response shape of the API.
///
/// They mirror the DTOs in `DTO/` and the body readers in `Routes/`; response validation in the tests keeps them honest.
enum OpenAPIComponents {
    typealias S = OpenAPISchema

    /// Every schema. When the server's one tenant is known, `currency` is the only currency amounts may be in and
    /// `categories` are the only category ids a job or a contractor profile may name.
    static func schemas(currency: String?, categories: [CategoryID]? = nil) -> [String: JSONValue] {
        var schemas = requestSchemas.merging(responseSchemas) { first, _ in first }
        if let currency {
            schemas["MoneyInput"] = S.record(
                [("amount", S.integer(1, Money.maximumPrice)), ("currency", S.enumeration([currency]))],
                description: "Minor units (positive) in the tenant's currency.")
        }
        if let categories, !categories.isEmpty {
            schemas["CategoryId"] = [
                "type": "string", "format": "uuid", "enum": .array(categories.map { .string($0.uuidString) }),
                "description": "The id of one of the tenant's categories.",
            ]
        }
        return schemas
    }

    static let money = S.record(
        [("amount", S.integer), ("currency", S.string(pattern: "^[A-Z]{3}$"))], description: "Minor units and an ISO 4217 code.")
    static let moneyInput = S.record(
        [("amount", S.integer(1, Money.maximumPrice)), ("currency", S.string(max: 3, pattern: "^[A-Za-z]{3}$"))],
        description: "Minor units (positive) and an ISO 4217 code: the tenant's currency.")
    static let point = S.record([("latitude", S.number(-90, 90)), ("longitude", S.number(-180, 180))])
    static let budget = S.record([("min", S.ref("Money")), ("max", S.ref("Money"))])
    static let budgetInput = S.record([("min", S.ref("MoneyInput")), ("max", S.ref("MoneyInput"))], description: "`min` must not exceed `max`.")
    static let circle = S.record([("center", S.ref("GeoPoint")), ("radiusKm", S.number)])
    static let circleInput = S.record([("center", S.ref("GeoPoint")), ("radiusKm", S.number(1, 500))])
    static let roles = S.enumeration(Role.allCases.map(\.rawValue))
    static let colour = S.string(pattern: "^#[0-9A-Fa-f]{6}$")
    /// A record's version, as an optimistic-concurrency precondition.
    static let version = S.integer(1, Int64.max)
    /// A refresh token or the token of an e-mailed link, as core issues them.
    static let token = S.string(max: 256, min: 1, pattern: "^[A-Za-z0-9_-]+$")
    /// A code of an authenticator app.
    static let totpCode = S.string(max: TwoFactorRoutes.digits, min: TwoFactorRoutes.digits, pattern: "^[0-9]{\(TwoFactorRoutes.digits)}$")

    static var requestSchemas: [String: JSONValue] {
        [
            "MoneyInput": moneyInput,
            "CategoryId": ["type": "string", "format": "uuid", "description": "The id of one of the tenant's categories."],
            "BudgetInput": budgetInput,
            "GeoCircleInput": circleInput,
            "Registration": S.object(
                [
                    ("email", S.email), ("password", S.password), ("displayName", S.text(max: 100)), ("phone", S.nullable(S.phone)),
                    ("role", S.enumeration(["homeowner", "contractor"])),
                ], required: ["email", "password", "displayName", "role"]),
            "Login": S.object(
                [("email", S.string(max: 254)), ("password", S.string(max: 1_000)), ("totpCode", totpCode)], required: ["email", "password"],
                description: "`totpCode` once two-factor authentication is on (the answer without it is `two_factor_required`)."),
            "RefreshTokenInput": S.record([("refreshToken", token)]),
            "LinkToken": S.record([("token", token)], description: "The `token` query parameter of the e-mailed link."),
            "PasswordResetRequest": S.record([("email", S.email)]),
            "PasswordResetConfirmation": S.record([("token", token), ("newPassword", S.password)]),
            "TwoFactorCode": S.record([("code", totpCode)]),
            "PasswordConfirmation": S.record(
                [("password", S.string(max: 1_000))], description: "The caller's current password; a wrong one counts towards the login lockout."),
            "AccountUpdate": S.object(
                [
                    ("displayName", S.text(max: 100)), ("phone", S.nullable(S.phone)),
                    ("notifications", S.object([("email", S.boolean), ("sms", S.boolean)], required: [])),
                ], required: [],
                description: "Only the members given change; `phone: null` removes the number; `notifications` turns channels on or off."),
            "ContractorProfileInput": S.object(
                [
                    ("headline", S.text(min: 0, max: 200)),
                    ("trades", ["type": "array", "items": S.ref("CategoryId"), "minItems": 1, "maxItems": 20]),
                    ("serviceArea", S.ref("GeoCircleInput")),
                    ("licence", S.nullable(S.record([("number", S.text(max: 50)), ("region", S.text(max: 50)), ("expiresAt", S.dateTime)]))),
                    ("insuranceExpiresAt", S.nullable(S.dateTime)),
                ], required: ["trades", "serviceArea"], description: "`trades` are ids of the tenant's categories."),
            "NewJob": S.record(
                [
                    ("categoryId", S.ref("CategoryId")), ("title", S.text(min: 3, max: 120)), ("description", S.text(max: 5_000)),
                    ("location", S.ref("GeoPoint")), ("budget", S.ref("BudgetInput")),
                ], description: "`categoryId` names a category of the tenant."),
            "JobUpdate": S.object(
                [("title", S.text(min: 3, max: 120)), ("description", S.text(max: 5_000)), ("budget", S.ref("BudgetInput"))], required: []),
            "NewBid": S.object(
                [("amount", S.ref("MoneyInput")), ("message", S.text(min: 0, max: 2_000)), ("jobVersion", version)], required: ["amount"],
                description:
                    "With `jobVersion` (the job's `version` the price is for) it is refused with 409 if the job was edited since; without it, the job as the server reads it."
            ),
            "NewMessage": S.record([("body", S.text(max: 4_000))]),
            "NewReview": S.object([("rating", S.integer(1, 5)), ("text", S.text(min: 0, max: 2_000))], required: ["rating"]),
            "NewDispute": S.record([("jobId", S.uuid), ("reason", S.text(min: 10, max: 5_000))]),
            "DisputeResponseInput": S.record([("response", S.text(max: 5_000))]),
            "DisputeResolutionInput": [
                "description": """
                A release or full refund, or a partial refund of less than the payment. With `expectedVersion` (the \
                dispute's `version` the decision was made on) it is refused with 409 if the dispute changed since.
                """,
                "anyOf": [
                    S.object(
                        [("outcome", S.enumeration(["release", "full_refund"])), ("note", S.text(max: 5_000)), ("expectedVersion", version)],
                        required: ["outcome", "note"]),
                    S.object(
                        [
                            ("outcome", S.enumeration(["partial_refund"])), ("refund", S.ref("MoneyInput")), ("note", S.text(max: 5_000)),
                            ("expectedVersion", version),
                        ], required: ["outcome", "refund", "note"]),
                ],
            ],
            "VettingInput": S.object(
                [("status", S.enumeration(VettingStatus.allCases.map(\.rawValue))), ("expectedVersion", version)], required: ["status"],
                description:
                    "With `expectedVersion` (the profile's `version` the decision was made on) it is refused with 409 if the profile changed since."),
            "NewTenant": S.record(
                [
                    ("slug", S.string(max: 63, min: 2, pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")), ("displayName", S.text(max: 100)),
                    ("settings", S.ref("TenantSettingsInput")),
                ]),
            "TenantSettingsInput": S.object(
                [
                    ("currency", S.string(max: 3, pattern: "^[A-Za-z]{3}$")), ("platformFeeBasisPoints", S.integer(0, 5_000)),
                    ("branding", S.ref("BrandingInput")), ("policies", S.ref("PoliciesInput")),
                ], required: ["currency", "platformFeeBasisPoints", "branding"]),
            "BrandingInput": S.object(
                [
                    ("name", S.text(max: 100)), ("primaryColor", colour), ("secondaryColor", colour),
                    ("logoURL", S.string(max: 2_000, pattern: "^https://")), ("fromEmail", S.email), ("smsSender", S.text(max: 20)),
                ], required: ["name", "fromEmail"]),
            "PoliciesInput": S.object(
                [
                    ("reviewWindowSeconds", S.integer(3_600, 90 * 86_400)), ("autoApproveAfterSeconds", S.integer(3_600, 60 * 86_400)),
                    ("vettingRequiredToBid", S.boolean), ("loginAttemptsPerWindow", S.integer(1, 1_000)),
                    ("apiRequestsPerUserPerWindow", S.integer(1, 1_000_000)), ("apiRequestsPerIPPerWindow", S.integer(1, 1_000_000)),
                    ("rateLimitWindowSeconds", S.integer(1, 86_400)),
                ], required: []),
            "NewAdmin": S.record([("email", S.email), ("displayName", S.text(max: 100)), ("password", S.password)]),
        ]
    }

    /// An escrow's properties as ``EscrowResponse`` writes them; ``AdminEscrowResponse`` adds `owed`.
    static let escrowProperties: [(String, JSONValue)] = [
        ("id", S.uuid), ("jobId", S.uuid), ("bidId", S.uuid), ("status", S.enumeration(EscrowStatus.allCases.map(\.rawValue))),
        ("amount", S.ref("Money")), ("feeBasisPoints", S.integer), ("refundedAmount", S.ref("Money")), ("releasedAmount", S.ref("Money")),
        ("platformFee", S.ref("Money")),
    ]

    static let policyProperties: [(String, JSONValue)] = [
        ("reviewWindowSeconds", S.integer), ("autoApproveAfterSeconds", S.integer), ("vettingRequiredToBid", S.boolean),
        ("loginAttemptsPerWindow", S.integer), ("apiRequestsPerUserPerWindow", S.integer), ("apiRequestsPerIPPerWindow", S.integer),
        ("rateLimitWindowSeconds", S.integer),
    ]

    static var responseSchemas: [String: JSONValue] {
        [
            "Money": money,
            "GeoPoint": point,
            "GeoCircle": circle,
            "Budget": budget,
            "Problem": S.object(
                [
                    ("type", S.string(format: "uri")), ("title", S.string()), ("status", S.integer), ("detail", S.string()), ("code", S.string()),
                    ("requestId", S.string()), ("errors", S.array(S.ref("FieldError"))),
                ], required: ["type", "title", "status", "detail", "code"], description: "RFC 9457 problem details."),
            "FieldError": S.record([("field", S.string()), ("code", S.string()), ("message", S.string())]),
            "Account": S.object(
                [
                    ("id", S.uuid), ("email", S.string()), ("displayName", S.string()), ("phone", S.string()), ("role", roles),
                    ("emailVerified", S.boolean), ("suspended", S.boolean), ("notifications", S.ref("NotificationPreferences")),
                    ("createdAt", S.dateTime),
                ], required: ["id", "email", "displayName", "role", "emailVerified", "suspended", "notifications", "createdAt"]),
            "NotificationPreferences": S.record(
                [("email", S.boolean), ("sms", S.boolean)],
                description: "The channels the user wants the marketplace's notices by; both on until the user turns one off."),
            "AdminUser": S.record(
                [
                    ("id", S.uuid), ("email", S.string()), ("displayName", S.string()), ("role", roles), ("emailVerified", S.boolean),
                    ("suspended", S.boolean), ("createdAt", S.dateTime),
                ]),
            "AdminUserList": S.list(of: "AdminUser"),
            "PublicUser": S.object(
                [
                    ("id", S.uuid), ("displayName", S.string()), ("role", roles),
                    ("rating", S.object([("count", S.integer), ("averageHundredths", S.integer)], required: ["count"])),
                    ("contractorProfile", S.ref("ContractorProfile")),
                ], required: ["id", "displayName", "role", "rating"]),
            "ContractorProfile": S.object(
                [
                    ("userId", S.uuid), ("headline", S.string()), ("trades", S.array(S.uuid)), ("serviceArea", S.ref("GeoCircle")),
                    ("licence", S.record([("number", S.string()), ("region", S.string()), ("expiresAt", S.dateTime)])),
                    ("insuranceExpiresAt", S.dateTime), ("vetting", S.enumeration(VettingStatus.allCases.map(\.rawValue))),
                    ("version", S.integer),
                ], required: ["userId", "headline", "trades", "serviceArea", "vetting", "version"]),
            "TokenPair": S.record(
                [("accessToken", S.string()), ("tokenType", S.enumeration(["Bearer"])), ("expiresIn", S.integer), ("refreshToken", token)],
                description: "`refreshToken` rotates: each refresh answers a new one and spends the old one."),
            "TwoFactorSetup": S.record(
                [("secret", S.string(pattern: "^[A-Z2-7]+$")), ("otpauthUri", S.string(pattern: "^otpauth://totp/"))],
                description: "The base32 secret and the `otpauth://` URI (for a QR code) of a pending enrolment."),
            "Category": S.record([("id", S.uuid), ("slug", S.string()), ("name", S.string())]),
            "CategoryList": S.list(of: "Category"),
            "Job": S.object(
                [
                    ("id", S.uuid), ("ownerId", S.uuid), ("categoryId", S.uuid), ("title", S.string()), ("description", S.string()),
                    ("location", S.ref("GeoPoint")), ("budget", S.ref("Budget")), ("status", S.enumeration(JobStatus.allCases.map(\.rawValue))),
                    ("acceptedBidId", S.uuid), ("contractorId", S.uuid), ("createdAt", S.dateTime), ("updatedAt", S.dateTime),
                    ("completedAt", S.dateTime), ("closedAt", S.dateTime), ("version", S.integer),
                ],
                required: [
                    "id", "ownerId", "categoryId", "title", "description", "location", "budget", "status", "createdAt", "updatedAt", "version",
                ]),
            "JobList": S.list(of: "Job"),
            "Bid": S.record(
                [
                    ("id", S.uuid), ("jobId", S.uuid), ("contractorId", S.uuid), ("amount", S.ref("Money")), ("message", S.string()),
                    ("status", S.enumeration(BidStatus.allCases.map(\.rawValue))), ("createdAt", S.dateTime), ("updatedAt", S.dateTime),
                ]),
            "BidList": S.list(of: "Bid"),
            "Escrow": S.record(escrowProperties),
            "AdminEscrow": S.object(
                escrowProperties + [
                    (
                        "owed",
                        S.object(
                            [
                                ("action", S.enumeration(["capture", "void", "settle"])), ("refund", S.ref("Money")), ("dueAt", S.dateTime),
                                ("failures", S.integer),
                            ], required: ["action", "failures"],
                            description:
                                "A movement of the money decided and not carried out yet: what, when it is tried next, and how many attempts failed in a row."
                        )
                    )
                ], required: escrowProperties.map(\.0)),
            "AdminEscrowList": S.list(of: "AdminEscrow"),
            "Acceptance": S.record([("job", S.ref("Job")), ("bid", S.ref("Bid")), ("declinedBids", S.integer), ("escrow", S.ref("Escrow"))]),
            "Message": S.record([("id", S.uuid), ("jobId", S.uuid), ("senderId", S.uuid), ("body", S.string()), ("createdAt", S.dateTime)]),
            "MessageList": S.list(of: "Message"),
            "Review": S.record(
                [
                    ("id", S.uuid), ("jobId", S.uuid), ("authorId", S.uuid), ("subjectId", S.uuid), ("rating", S.integer), ("text", S.string()),
                    ("createdAt", S.dateTime), ("visibleFrom", S.dateTime),
                ]),
            "ReviewList": S.list(of: "Review"),
            // About a user, for anyone in the tenant: no author, job, id or exact time, which would tell a losing bidder who won.
            "PublicReview": S.record(
                [
                    ("subjectId", S.uuid), ("authorRole", S.enumeration([Role.homeowner.rawValue, Role.contractor.rawValue])),
                    ("rating", S.integer), ("text", S.string()), ("month", S.string(pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$")),
                ],
                description:
                    "A review as anyone in the tenant may read it: who it is about, the author's role, the rating, the text and the month (UTC) it was written in."
            ),
            "PublicReviewList": S.list(of: "PublicReview", sealed: true),
            "Event": S.record(
                [
                    ("id", S.uuid), ("type", S.string()), ("schemaVersion", S.integer), ("aggregateId", S.uuid), ("occurredAt", S.dateTime),
                    ("payload", ["type": "object", "description": "The event's own fields, by `type` and `schemaVersion`."]),
                ]),
            "EventList": S.list(of: "Event"),
            "Dispute": S.object(
                [
                    ("id", S.uuid), ("jobId", S.uuid), ("openedBy", S.uuid), ("respondent", S.uuid), ("reason", S.string()), ("response", S.string()),
                    ("status", S.enumeration(DisputeStatus.allCases.map(\.rawValue))),
                    (
                        "resolution",
                        S.object(
                            [
                                ("outcome", S.enumeration(["release", "partial_refund", "full_refund"])), ("refund", S.ref("Money")),
                                ("note", S.string()),
                                ("resolvedBy", S.uuid), ("resolvedAt", S.dateTime),
                            ], required: ["outcome", "note", "resolvedBy", "resolvedAt"])
                    ),
                    ("createdAt", S.dateTime), ("updatedAt", S.dateTime), ("version", S.integer),
                ], required: ["id", "jobId", "openedBy", "respondent", "reason", "status", "createdAt", "updatedAt", "version"]),
            "DisputeList": S.list(of: "Dispute"),
            "Tenant": S.record(
                [("id", S.uuid), ("slug", S.string()), ("displayName", S.string()), ("settings", S.ref("TenantSettings")), ("createdAt", S.dateTime)]
            ),
            "TenantList": S.list(of: "Tenant"),
            "TenantSettings": S.record(
                [
                    ("currency", S.string(pattern: "^[A-Z]{3}$")), ("platformFeeBasisPoints", S.integer),
                    (
                        "branding",
                        S.object(
                            [
                                ("name", S.string()), ("primaryColor", S.string()), ("secondaryColor", S.string()), ("logoURL", S.string()),
                                ("fromEmail", S.string()), ("smsSender", S.string()),
                            ], required: ["name", "primaryColor", "secondaryColor", "fromEmail"])
                    ),
                    ("policies", S.record(policyProperties)),
                ]),
            "Stats": S.record(
                [
                    ("users", ["type": "object", "additionalProperties": S.integer]),
                    ("jobs", ["type": "object", "additionalProperties": S.integer]),
                    ("openDisputes", S.integer), ("owedSettlements", S.integer), ("failingSettlements", S.integer),
                ]),
            "Health": S.record([("status", S.enumeration(["ok", "ready"]))]),
            "OpenAPIDocument": ["type": "object"],
        ]
    }
}
