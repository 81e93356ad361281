import Foundation
import HTTPTypes
import TradesKit

/// A trade category.
struct CategoryResponse: Encodable {
    let id: CategoryID
    let slug: String
    let name: String

    init(_ category: TradeCategory) {
        id = category.id
        slug = category.slug
        name = category.name
    }
}

/// A job, as the caller may see it (core redacts the award for non-parties).
struct JobResponse: Encodable {
    let id: JobID
    let ownerId: UserID
    let categoryId: CategoryID
    let title: String
    let description: String
    let location: GeoPoint
    let budget: BudgetRange
    let status: JobStatus
    let acceptedBidId: BidID?
    let contractorId: UserID?
    let createdAt: Date
    let updatedAt: Date
    let completedAt: Date?
    let closedAt: Date?
    /// What a bid names as `jobVersion`: the job as the contractor priced it.
    let version: Int64

    init(_ job: Job) {
        id = job.id
        ownerId = job.ownerID
        categoryId = job.categoryID
        title = job.title
        description = job.description
        location = job.location
        budget = job.budget
        status = job.status
        acceptedBidId = job.acceptedBidID
        contractorId = job.contractorID
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        completedAt = job.completedAt
        closedAt = job.closedAt
        version = job.version
    }
}

/// A bid the caller may see (core's `BidViewer` decides).
struct BidResponse: Encodable {
    let id: BidID
    let jobId: JobID
    let contractorId: UserID
    let amount: Money
    let message: String
    let status: BidStatus
    let createdAt: Date
    let updatedAt: Date

    init(_ bid: Bid) {
        id = bid.id
        jobId = bid.jobID
        contractorId = bid.contractorID
        amount = bid.amount
        message = bid.message
        status = bid.status
        createdAt = bid.createdAt
        updatedAt = bid.updatedAt
    }
}

/// The escrow of a job, without processor references.
struct EscrowResponse: Encodable {
    let id: EscrowID
    let jobId: JobID
    let bidId: BidID
    let status: EscrowStatus
    let amount: Money
    let feeBasisPoints: Int
    let refundedAmount: Money
    let releasedAmount: Money
    let platformFee: Money

    init(_ escrow: Escrow) {
        id = escrow.id
        jobId = escrow.jobID
        bidId = escrow.bidID
        status = escrow.status
        amount = escrow.amount
        feeBasisPoints = escrow.feeBasisPoints
        refundedAmount = escrow.refundedAmount
        releasedAmount = escrow.releasedAmount
        platformFee = escrow.platformFee
    }
}

/// What accepting a bid answers (to the job's owner): the awarded job, the accepted bid, how many others were
/// declined, and the escrow.
struct AcceptanceResponse: Encodable {
    let job: JobResponse
    let bid: BidResponse
    let declinedBids: Int
    let escrow: EscrowResponse

    init(_ acceptance: BidService.Acceptance) {
        job = JobResponse(acceptance.job)
        bid = BidResponse(acceptance.accepted)
        declinedBids = acceptance.declined.count
        escrow = EscrowResponse(acceptance.escrow)
    }
}

/// A message in a job's thread.
struct MessageResponse: Encodable {
    let id: MessageID
    let jobId: JobID
    let senderId: UserID
    let body: String
    let createdAt: Date

    init(_ message: Message) {
        id = message.id
        jobId = message.jobID
        senderId = message.senderID
        body = message.body
        createdAt = message.createdAt
    }
}

/// A review, for the parties of its job and admins (schema `Review`).
struct ReviewResponse: Encodable {
    let id: ReviewID
    let jobId: JobID
    let authorId: UserID
    let subjectId: UserID
    let rating: Int
    let text: String
    let createdAt: Date
    let visibleFrom: Date

    init(_ review: Review) {
        id = review.id
        jobId = review.jobID
        authorId = review.authorID
        subjectId = review.subjectID
        rating = review.rating
        text = review.text
        createdAt = review.createdAt
        visibleFrom = review.visibleFrom
    }
}

/// A review as anyone in the tenant may see it (schema `PublicReview`, see ``TradesKit/PublicReview``): no author, job,
/// id or exact time, any of which would tell a losing bidder who won.
struct PublicReviewResponse: Encodable {
    let subjectId: UserID
    let authorRole: Role
    let rating: Int
    let text: String
    let month: String

    init(_ review: PublicReview) {
        subjectId = review.subjectID
        authorRole = review.authorRole
        rating = review.rating
        text = review.text
        month = review.month
    }
}

/// An event of the caller's feed. The payload is the event's own JSON (ids, statuses; never another bidder's amount).
struct EventResponse: Encodable {
    let id: EventID
    let type: String
    let schemaVersion: Int
    /// The id of the job, bid or dispute the event is about, in lower case like every id the API writes.
    let aggregateId: String
    let occurredAt: Date
    let payload: JSONValue

    init(_ event: OutboxEvent) {
        id = event.id
        type = event.type
        schemaVersion = event.schemaVersion
        aggregateId = event.aggregateID.lowercasedString
        occurredAt = event.occurredAt
        payload = (try? JSONValue.parse(event.payload)) ?? .object([:])
    }
}

/// A dispute.
struct DisputeResponse: Encodable {
    let id: DisputeID
    let jobId: JobID
    let openedBy: UserID
    let respondent: UserID
    let reason: String
    let response: String?
    let status: DisputeStatus
    let resolution: ResolutionResponse?
    let createdAt: Date
    let updatedAt: Date
    /// What an admin's resolution names as `expectedVersion`.
    let version: Int64

    init(_ dispute: Dispute) {
        id = dispute.id
        jobId = dispute.jobID
        openedBy = dispute.openedBy
        respondent = dispute.respondent
        reason = dispute.reason
        response = dispute.response
        status = dispute.status
        resolution = dispute.resolution.map(ResolutionResponse.init)
        createdAt = dispute.createdAt
        updatedAt = dispute.updatedAt
        version = dispute.version
    }
}

/// An admin's decision on a dispute.
struct ResolutionResponse: Encodable {
    let outcome: String
    let refund: Money?
    let note: String
    let resolvedBy: UserID
    let resolvedAt: Date

    init(_ resolution: DisputeResolution) {
        outcome = resolution.outcome.name
        if case .partialRefund(let amount) = resolution.outcome { refund = amount } else { refund = nil }
        note = resolution.note
        resolvedBy = resolution.resolvedBy
        resolvedAt = resolution.resolvedAt
    }
}

/// A tenant as the platform operator sees it.
struct TenantResponse: Encodable {
    let id: TenantID
    let slug: String
    let displayName: String
    let settings: TenantSettings
    let createdAt: Date

    init(_ tenant: Tenant) {
        id = tenant.id
        slug = tenant.slug
        displayName = tenant.displayName
        settings = tenant.settings
        createdAt = tenant.createdAt
    }
}

/// A list page: `{"items": [...], "nextCursor": "..." | null}`.
struct ListResponse<Item: Encodable>: Encodable {
    let items: [Item]
    let nextCursor: String?

    init(items: [Item], nextCursor: PageCursor? = nil) {
        self.items = items
        self.nextCursor = nextCursor.map(APICursor.string)
    }

    init<Source: Sendable>(_ page: Page<Source>, _ transform: (Source) -> Item) {
        self.init(items: page.items.map(transform), nextCursor: page.nextCursor)
    }

    /// A page whose cursor is sealed (``CursorSeal``).
    init<Source: Sendable>(_ page: Page<Source>, _ transform: (Source) -> Item, sealedWith seal: CursorSeal) throws {
        items = page.items.map(transform)
        nextCursor = try page.nextCursor.map(seal.seal)
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // Explicit null on the last page, so clients need not tell a missing key from the end.
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
