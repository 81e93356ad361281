public import Foundation

/// A message in a job's thread between the homeowner and the awarded contractor.
public struct Message: Sendable, Hashable, Codable, Identifiable {
    /// The message's id.
    public let id: MessageID
    /// The job whose thread it is in.
    public let jobID: JobID
    /// The sender.
    public let senderID: UserID
    /// The text.
    public let body: String
    /// When it was sent.
    public let createdAt: Date

    /// Creates a message value.
    public init(id: MessageID, jobID: JobID, senderID: UserID, body: String, createdAt: Date) {
        self.id = id
        self.jobID = jobID
        self.senderID = senderID
        self.body = body
        self.createdAt = createdAt
    }
}
