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
