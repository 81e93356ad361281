public import Foundation

/// A user registered.
public struct UserRegistered: DomainEvent {
    public static let eventType = "user.registered"
    public let userID: UserID
    public let role: Role
    public var aggregateID: UUID { userID.rawValue }
    public var recipients: [UserID] { [userID] }

    /// Creates the event.
    public init(userID: UserID, role: Role) {
        self.userID = userID
        self.role = role
    }
}

/// An admin suspended or reinstated a user.
public struct UserSuspensionChanged: DomainEvent {
    public static let eventType = "user.suspension_changed"
    public let userID: UserID
    public let suspended: Bool
    public var aggregateID: UUID { userID.rawValue }
    public var recipients: [UserID] { [userID] }

    /// Creates the event.
    public init(userID: UserID, suspended: Bool) {
        self.userID = userID
        self.suspended = suspended
    }
}

/// A contractor's vetting status changed: an admin decided, or an approved contractor changed what was vetted.
public struct ContractorVettingChanged: DomainEvent {
    public static let eventType = "contractor.vetting_changed"
    public let contractorID: UserID
    public let vetting: VettingStatus
    public var aggregateID: UUID { contractorID.rawValue }
    public var recipients: [UserID] { [contractorID] }

    /// Creates the event.
    public init(contractorID: UserID, vetting: VettingStatus) {
        self.contractorID = contractorID
        self.vetting = vetting
    }
}

/// A job was posted.
public struct JobPosted: DomainEvent {
    public static let eventType = "job.posted"
    public let jobID: JobID
    public let ownerID: UserID
    public let categoryID: CategoryID
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [ownerID] }

    /// Creates the event.
    public init(jobID: JobID, ownerID: UserID, categoryID: CategoryID) {
        self.jobID = jobID
        self.ownerID = ownerID
        self.categoryID = categoryID
    }
}

/// A job's status changed (awarded, started, completed, approved, cancelled, disputed, closed).
public struct JobStatusChanged: DomainEvent {
    public static let eventType = "job.status_changed"
    public let jobID: JobID
    public let ownerID: UserID
    public let contractorID: UserID?
    public let from: JobStatus
    public let to: JobStatus
    /// `true` when the clock, not a person, made the change (auto-approval).
    public let automatic: Bool
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [ownerID] + (contractorID.map { [$0] } ?? []) }

    /// Creates the event.
    public init(jobID: JobID, ownerID: UserID, contractorID: UserID?, from: JobStatus, to: JobStatus, automatic: Bool) {
        self.jobID = jobID
        self.ownerID = ownerID
        self.contractorID = contractorID
        self.from = from
        self.to = to
        self.automatic = automatic
    }
}

/// A bid was submitted. Seen only by the job's owner and the bidder.
public struct BidSubmitted: DomainEvent {
    public static let eventType = "bid.submitted"
    public let bidID: BidID
    public let jobID: JobID
    public let ownerID: UserID
    public let contractorID: UserID
    public let amount: Money
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [ownerID, contractorID] }

    /// Creates the event.
    public init(bidID: BidID, jobID: JobID, ownerID: UserID, contractorID: UserID, amount: Money) {
        self.bidID = bidID
        self.jobID = jobID
        self.ownerID = ownerID
        self.contractorID = contractorID
        self.amount = amount
    }
}

/// A bid was withdrawn.
public struct BidWithdrawn: DomainEvent {
    public static let eventType = "bid.withdrawn"
    public let bidID: BidID
    public let jobID: JobID
    public let ownerID: UserID
    public let contractorID: UserID
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [ownerID, contractorID] }

    /// Creates the event.
    public init(bidID: BidID, jobID: JobID, ownerID: UserID, contractorID: UserID) {
        self.bidID = bidID
        self.jobID = jobID
        self.ownerID = ownerID
        self.contractorID = contractorID
    }
}

/// A bid was accepted. Seen by the owner and the winner only.
public struct BidAccepted: DomainEvent {
    public static let eventType = "bid.accepted"
    public let bidID: BidID
    public let jobID: JobID
    public let ownerID: UserID
    public let contractorID: UserID
    public let amount: Money
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [ownerID, contractorID] }

    /// Creates the event.
    public init(bidID: BidID, jobID: JobID, ownerID: UserID, contractorID: UserID, amount: Money) {
        self.bidID = bidID
        self.jobID = jobID
        self.ownerID = ownerID
        self.contractorID = contractorID
        self.amount = amount
    }
}

/// A bid was declined because another won or the job was cancelled. Carries no other bid's data.
public struct BidDeclined: DomainEvent {
    public static let eventType = "bid.declined"
    public let bidID: BidID
    public let jobID: JobID
    public let contractorID: UserID
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [contractorID] }

    /// Creates the event.
    public init(bidID: BidID, jobID: JobID, contractorID: UserID) {
        self.bidID = bidID
        self.jobID = jobID
        self.contractorID = contractorID
    }
}

/// Money moved through escrow.
public struct PaymentEvent: DomainEvent {
    public static let eventType = "payment.changed"
    public let jobID: JobID
    public let escrowID: EscrowID
    public let ownerID: UserID
    public let contractorID: UserID
    /// The escrow's new status (`held`, `captured`, `released`, `refunded`…).
    public let status: EscrowStatus
    public let amount: Money
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [ownerID, contractorID] }

    /// Creates the event.
    public init(jobID: JobID, escrowID: EscrowID, ownerID: UserID, contractorID: UserID, status: EscrowStatus, amount: Money) {
        self.jobID = jobID
        self.escrowID = escrowID
        self.ownerID = ownerID
        self.contractorID = contractorID
        self.status = status
        self.amount = amount
    }
}

/// A dispute was opened, answered or resolved.
public struct DisputeChanged: DomainEvent {
    public static let eventType = "dispute.changed"
    public let disputeID: DisputeID
    public let jobID: JobID
    public let openedBy: UserID
    public let respondent: UserID
    public let status: DisputeStatus
    public let outcome: String?
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [openedBy, respondent] }

    /// Creates the event.
    public init(disputeID: DisputeID, jobID: JobID, openedBy: UserID, respondent: UserID, status: DisputeStatus, outcome: String?) {
        self.disputeID = disputeID
        self.jobID = jobID
        self.openedBy = openedBy
        self.respondent = respondent
        self.status = status
        self.outcome = outcome
    }
}

/// A review was written. Carries no rating, so it leaks nothing before the review is visible.
public struct ReviewSubmitted: DomainEvent {
    public static let eventType = "review.submitted"
    public let reviewID: ReviewID
    public let jobID: JobID
    public let authorID: UserID
    public let subjectID: UserID
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [authorID, subjectID] }

    /// Creates the event.
    public init(reviewID: ReviewID, jobID: JobID, authorID: UserID, subjectID: UserID) {
        self.reviewID = reviewID
        self.jobID = jobID
        self.authorID = authorID
        self.subjectID = subjectID
    }
}

/// A message was posted in a job's thread.
public struct MessagePosted: DomainEvent {
    public static let eventType = "message.posted"
    public let messageID: MessageID
    public let jobID: JobID
    public let senderID: UserID
    public let recipientID: UserID
    public var aggregateID: UUID { jobID.rawValue }
    public var recipients: [UserID] { [senderID, recipientID] }

    /// Creates the event.
    public init(messageID: MessageID, jobID: JobID, senderID: UserID, recipientID: UserID) {
        self.messageID = messageID
        self.jobID = jobID
        self.senderID = senderID
        self.recipientID = recipientID
    }
}
