public import Foundation

/// A rating and text one party of a closed job leaves about the other. Hidden until both have reviewed or the
/// tenant's review window ends, so neither can retaliate.
public struct Review: Sendable, Hashable, Codable, Identifiable {
    /// The review's id.
    public let id: ReviewID
    /// The job.
    public let jobID: JobID
    /// Who wrote it.
    public let authorID: UserID
    /// Who it is about.
    public let subjectID: UserID
    /// 1…5.
    public let rating: Int
    /// The text.
    public let text: String
    /// When it was written.
    public let createdAt: Date
    /// When it becomes visible: the end of the window, or earlier when the other party reviews too.
    public var visibleFrom: Date
    /// Optimistic-concurrency version.
    public var version: Int64

    /// Creates a review value.
    public init(
        id: ReviewID, jobID: JobID, authorID: UserID, subjectID: UserID, rating: Int, text: String, createdAt: Date,
        visibleFrom: Date, version: Int64 = 1
    ) {
        self.id = id
        self.jobID = jobID
        self.authorID = authorID
        self.subjectID = subjectID
        self.rating = rating
        self.text = text
        self.createdAt = createdAt
        self.visibleFrom = visibleFrom
        self.version = version
    }

    /// Whether it is visible at `now`.
    public func isVisible(at now: Date) -> Bool { visibleFrom <= now }
}

/// A review as anyone in the tenant may read it: its subject, whether a homeowner or a contractor wrote it, the rating,
/// the text and the month it was written in, but not who wrote it, about which job, or when to the millisecond (nor the
/// review's id: a UUIDv7 carries its creation time). Any of those would let a contractor who lost the job match the
/// review to it and learn who won.
public struct PublicReview: Sendable, Hashable, Codable {
    /// Who it is about.
    public let subjectID: UserID
    /// The author's role: a homeowner's review of a contractor, or a contractor's of a homeowner.
    public let authorRole: Role
    /// 1…5.
    public let rating: Int
    /// The text.
    public let text: String
    /// The year and month it was written in, UTC (`2026-11`).
    public let month: String

    /// The public form of `review`, about a user of `subjectRole`.
    public init(_ review: Review, subjectRole: Role) {
        subjectID = review.subjectID
        authorRole = subjectRole == .contractor ? .homeowner : .contractor
        rating = review.rating
        text = review.text
        month = Self.month(of: review.createdAt)
    }

    static func month(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let parts = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
    }
}
