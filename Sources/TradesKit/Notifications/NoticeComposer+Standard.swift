import Foundation

extension NoticeComposer {
    /// The marketplace's own notices, in plain English. The person who acted is not told of their own act, where the
    /// event says who acted (a cancellation does not: both parties are told); amounts go only to those the event
    /// already shows them to.
    ///
    /// | event | who is told | SMS too |
    /// | --- | --- | --- |
    /// | `bid.submitted`, `bid.withdrawn` | the job's owner | |
    /// | `bid.accepted` | the winning contractor | ✓ |
    /// | `bid.declined` | that bidder (nothing of the winner) | |
    /// | `job.status_changed` to in progress / completed | the owner | on completed |
    /// | `job.status_changed` to closed (approved, not by a dispute) | the contractor; an automatic approval also the owner | |
    /// | `job.status_changed` to cancelled after award | the owner and the contractor | |
    /// | `payment.changed` to held / refunded / partly refunded / voided | the owner | |
    /// | `payment.changed` to released | the contractor | ✓ |
    /// | `dispute.changed` opened / answered / resolved | the respondent / the opener / both | on opened |
    /// | `review.submitted` | the reviewed party (no rating) | |
    /// | `message.posted` | the recipient (not the text) | |
    /// | `user.suspension_changed`, `contractor.vetting_changed` to approved or rejected | the user | |
    ///
    /// Events of a type or payload version it does not know call for no notice.
    public static let standard = NoticeComposer { context in
        let event = context.event
        let title = context.jobTitle.map { "“\($0)”" } ?? "your job"
        switch event.type {
        case BidSubmitted.eventType:
            guard let bid = try event.decode(BidSubmitted.self) else { return [] }
            return [Notice(recipient: bid.ownerID, headline: "New bid on \(title)", text: "A contractor bid \(bid.amount) on \(title).")]
        case BidWithdrawn.eventType:
            guard let bid = try event.decode(BidWithdrawn.self) else { return [] }
            return [Notice(recipient: bid.ownerID, headline: "A bid on \(title) was withdrawn", text: "A contractor withdrew their bid on \(title).")]
        case BidAccepted.eventType:
            guard let bid = try event.decode(BidAccepted.self) else { return [] }
            return [
                Notice(
                    recipient: bid.contractorID, channels: [.email, .sms], headline: "Your bid on \(title) was accepted",
                    text: "The homeowner accepted your bid of \(bid.amount) on \(title). The payment is held until the work is approved.")
            ]
        case BidDeclined.eventType:
            guard let bid = try event.decode(BidDeclined.self) else { return [] }
            return [
                Notice(
                    recipient: bid.contractorID, headline: "Your bid on \(title) was not chosen",
                    text: "The homeowner chose another bid on \(title), or the job was cancelled. Thank you for bidding.")
            ]
        case JobStatusChanged.eventType:
            guard let change = try event.decode(JobStatusChanged.self) else { return [] }
            return jobNotices(change, title: title)
        case PaymentEvent.eventType:
            guard let payment = try event.decode(PaymentEvent.self) else { return [] }
            return paymentNotices(payment, title: title)
        case DisputeChanged.eventType:
            guard let dispute = try event.decode(DisputeChanged.self) else { return [] }
            return disputeNotices(dispute, title: title)
        case ReviewSubmitted.eventType:
            guard let review = try event.decode(ReviewSubmitted.self) else { return [] }
            return [
                Notice(
                    recipient: review.subjectID, headline: "You have a new review for \(title)",
                    text:
                        "The other party reviewed you for \(title). Reviews are shown once both sides have written theirs, or when the review window ends."
                )
            ]
        case MessagePosted.eventType:
            guard let message = try event.decode(MessagePosted.self) else { return [] }
            return [Notice(recipient: message.recipientID, headline: "New message about \(title)", text: "You have a new message about \(title).")]
        case UserSuspensionChanged.eventType:
            guard let change = try event.decode(UserSuspensionChanged.self) else { return [] }
            return [
                change.suspended
                    ? Notice(
                        recipient: change.userID, headline: "Your account is suspended",
                        text: "An administrator suspended your account. Reply to this message if you think this is a mistake.")
                    : Notice(
                        recipient: change.userID, headline: "Your account is active again",
                        text: "An administrator lifted the suspension of your account.")
            ]
        case ContractorVettingChanged.eventType:
            // Pending is what a contractor's own edit of their profile sets: not news to them.
            guard let change = try event.decode(ContractorVettingChanged.self), change.vetting != .pending else { return [] }
            let status = change.vetting.rawValue.replacingOccurrences(of: "_", with: " ")
            return [
                Notice(
                    recipient: change.contractorID, headline: "Your contractor profile is \(status)",
                    text: "Your contractor profile's vetting status is now: \(status).")
            ]
        default:
            return []
        }
    }

    private static func jobNotices(_ change: JobStatusChanged, title: String) -> [Notice] {
        switch change.to {
        case .inProgress:
            return [Notice(recipient: change.ownerID, headline: "Work on \(title) has started", text: "The contractor started the work on \(title).")]
        case .completed:
            return [
                Notice(
                    recipient: change.ownerID, channels: [.email, .sms], headline: "Work on \(title) is complete: please review it",
                    text: "The contractor marked \(title) complete. Approve the work to release the payment, or open a dispute if something is wrong."
                )
            ]
        case .closed where change.from == .completed:
            var notices: [Notice] = []
            if let contractor = change.contractorID {
                let how = change.automatic ? "was approved automatically" : "was approved by the homeowner"
                notices.append(Notice(recipient: contractor, headline: "Your work on \(title) \(how)", text: "Your work on \(title) \(how)."))
            }
            if change.automatic {
                notices.append(
                    Notice(
                        recipient: change.ownerID, headline: "The work on \(title) was approved automatically",
                        text: "The review window for \(title) ended, so the work was approved and the contractor is being paid."))
            }
            return notices
        case .cancelled:
            // Who cancelled (the owner, the contractor or an admin) is not in the event: both are told, in words that
            // fit either.
            guard let contractor = change.contractorID else { return [] }
            return [change.ownerID, contractor].map {
                Notice(
                    recipient: $0, headline: "The job \(title) was cancelled",
                    text: "The job \(title) was cancelled; no further work is expected on it.")
            }
        default:
            // Awarded, disputed and closed by a dispute are told by the bid and dispute events.
            return []
        }
    }

    private static func paymentNotices(_ payment: PaymentEvent, title: String) -> [Notice] {
        switch payment.status {
        case .held:
            return [
                Notice(
                    recipient: payment.ownerID, headline: "Your payment for \(title) is held",
                    text: "\(payment.amount) is held on your card for \(title). It is paid to the contractor only when you approve the work.")
            ]
        case .released:
            return [
                Notice(
                    recipient: payment.contractorID, channels: [.email, .sms], headline: "Payment for \(title) is on its way",
                    text: "The payment for \(title), less the platform fee, has been released to your payout account.")
            ]
        case .refunded:
            return [
                Notice(
                    recipient: payment.ownerID, headline: "Your payment for \(title) was refunded",
                    text: "\(payment.amount) for \(title) was refunded to you.")
            ]
        case .partiallyRefunded:
            return [
                Notice(
                    recipient: payment.ownerID, headline: "Part of your payment for \(title) was refunded",
                    text: "Part of your payment for \(title) was refunded to you, as the dispute's resolution decided.")
            ]
        case .cancelled:
            return [
                Notice(
                    recipient: payment.ownerID, headline: "The hold for \(title) was released",
                    text: "The \(payment.amount) held on your card for \(title) was released; you were not charged.")
            ]
        case .authorizationPending, .captured:
            return []
        }
    }

    private static func disputeNotices(_ dispute: DisputeChanged, title: String) -> [Notice] {
        switch dispute.status {
        case .awaitingResponse:
            return [
                Notice(
                    recipient: dispute.respondent, channels: [.email, .sms], headline: "A dispute was opened on \(title)",
                    text: "The other party opened a dispute on \(title). Please respond so an administrator can review it.")
            ]
        case .underReview:
            return [
                Notice(
                    recipient: dispute.openedBy, headline: "Your dispute on \(title) was answered",
                    text: "The other party responded to your dispute on \(title). An administrator is reviewing it.")
            ]
        case .resolved:
            let outcome =
                switch dispute.outcome {
                case "release": "the payment is released to the contractor"
                case "partial_refund": "part of the payment is refunded to the homeowner and the rest released to the contractor"
                case "full_refund": "the payment is refunded to the homeowner"
                default: "see the dispute for the decision"
                }
            return [dispute.openedBy, dispute.respondent].map {
                Notice(
                    recipient: $0, headline: "The dispute on \(title) was resolved",
                    text: "An administrator resolved the dispute on \(title): \(outcome).")
            }
        }
    }
}
