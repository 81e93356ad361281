import Foundation
import Testing
import TradesKit

/// One sample of every domain event, built from JSON (the events' memberwise initialisers are internal to core).
enum EventSample: String, CaseIterable, CustomTestStringConvertible {
    case userRegistered, userSuspensionChanged, contractorVettingChanged, jobPosted, jobStatusChanged, bidSubmitted, bidWithdrawn,
        bidAccepted, bidDeclined, payment, disputeChanged, reviewSubmitted, messagePosted

    static let u1 = Fixture.owner.uuidString
    static let u2 = Fixture.contractor.uuidString
    static let job = Fixture.jobID.uuidString
    static let bid = Fixture.bidID.uuidString
    static let other = "00000000-0000-7000-8000-00000000beef"
    static var money: [String: Any] { ["amount": 25_000, "currency": "USD"] }

    var testDescription: String { rawValue }

    /// The payload, the expected type name, aggregate and recipients.
    var expectation: (json: [String: Any], type: String, aggregate: String, recipients: [String]) {
        let (u1, u2, job, bid, other) = (Self.u1, Self.u2, Self.job, Self.bid, Self.other)
        return switch self {
        case .userRegistered: (["userID": u1, "role": "homeowner"], "user.registered", u1, [u1])
        case .userSuspensionChanged: (["userID": u2, "suspended": true], "user.suspension_changed", u2, [u2])
        case .contractorVettingChanged: (["contractorID": u2, "vetting": "approved"], "contractor.vetting_changed", u2, [u2])
        case .jobPosted: (["jobID": job, "ownerID": u1, "categoryID": other], "job.posted", job, [u1])
        case .jobStatusChanged:
            (
                ["jobID": job, "ownerID": u1, "contractorID": u2, "from": "completed", "to": "closed", "automatic": true], "job.status_changed", job,
                [u1, u2]
            )
        case .bidSubmitted: (["bidID": bid, "jobID": job, "ownerID": u1, "contractorID": u2, "amount": Self.money], "bid.submitted", job, [u1, u2])
        case .bidWithdrawn: (["bidID": bid, "jobID": job, "ownerID": u1, "contractorID": u2], "bid.withdrawn", job, [u1, u2])
        case .bidAccepted: (["bidID": bid, "jobID": job, "ownerID": u1, "contractorID": u2, "amount": Self.money], "bid.accepted", job, [u1, u2])
        case .bidDeclined: (["bidID": bid, "jobID": job, "contractorID": u2], "bid.declined", job, [u2])
        case .payment:
            (
                ["jobID": job, "escrowID": other, "ownerID": u1, "contractorID": u2, "status": "partially_refunded", "amount": Self.money],
                "payment.changed", job, [u1, u2]
            )
        case .disputeChanged:
            (
                ["disputeID": other, "jobID": job, "openedBy": u1, "respondent": u2, "status": "resolved", "outcome": "full_refund"],
                "dispute.changed", job, [u1, u2]
            )
        case .reviewSubmitted: (["reviewID": other, "jobID": job, "authorID": u2, "subjectID": u1], "review.submitted", job, [u1, u2])
        case .messagePosted: (["messageID": other, "jobID": job, "senderID": u1, "recipientID": u2], "message.posted", job, [u1, u2])
        }
    }

    /// Decodes the sample, wraps it, and answers the envelope.
    func wrapped() throws -> OutboxEvent {
        let data = try JSONSerialization.data(withJSONObject: expectation.json)
        switch self {
        case .userRegistered: return try Self.wrap(UserRegistered.self, data)
        case .userSuspensionChanged: return try Self.wrap(UserSuspensionChanged.self, data)
        case .contractorVettingChanged: return try Self.wrap(ContractorVettingChanged.self, data)
        case .jobPosted: return try Self.wrap(JobPosted.self, data)
        case .jobStatusChanged: return try Self.wrap(JobStatusChanged.self, data)
        case .bidSubmitted: return try Self.wrap(BidSubmitted.self, data)
        case .bidWithdrawn: return try Self.wrap(BidWithdrawn.self, data)
        case .bidAccepted: return try Self.wrap(BidAccepted.self, data)
        case .bidDeclined: return try Self.wrap(BidDeclined.self, data)
        case .payment: return try Self.wrap(PaymentEvent.self, data)
        case .disputeChanged: return try Self.wrap(DisputeChanged.self, data)
        case .reviewSubmitted: return try Self.wrap(ReviewSubmitted.self, data)
        case .messagePosted: return try Self.wrap(MessagePosted.self, data)
        }
    }

    /// Decodes the envelope back as the sample's own type and re-encodes it, answering the payload's JSON object.
    func decodedBack(_ event: OutboxEvent) throws -> [String: Any]? {
        switch self {
        case .userRegistered: try Self.reencode(event.decode(UserRegistered.self))
        case .userSuspensionChanged: try Self.reencode(event.decode(UserSuspensionChanged.self))
        case .contractorVettingChanged: try Self.reencode(event.decode(ContractorVettingChanged.self))
        case .jobPosted: try Self.reencode(event.decode(JobPosted.self))
        case .jobStatusChanged: try Self.reencode(event.decode(JobStatusChanged.self))
        case .bidSubmitted: try Self.reencode(event.decode(BidSubmitted.self))
        case .bidWithdrawn: try Self.reencode(event.decode(BidWithdrawn.self))
        case .bidAccepted: try Self.reencode(event.decode(BidAccepted.self))
        case .bidDeclined: try Self.reencode(event.decode(BidDeclined.self))
        case .payment: try Self.reencode(event.decode(PaymentEvent.self))
        case .disputeChanged: try Self.reencode(event.decode(DisputeChanged.self))
        case .reviewSubmitted: try Self.reencode(event.decode(ReviewSubmitted.self))
        case .messagePosted: try Self.reencode(event.decode(MessagePosted.self))
        }
    }

    private static func wrap<Event: DomainEvent>(_: Event.Type, _ data: Data) throws -> OutboxEvent {
        let event = try JSONDecoder().decode(Event.self, from: data)
        return try OutboxEvent(event, id: EventID(UUID()), at: Fixture.t1)
    }

    private static func reencode<Event: DomainEvent>(_ event: Event?) throws -> [String: Any]? {
        guard let event else { return nil }
        return try JSONSerialization.jsonObject(with: JSONEncoder().encode(event)) as? [String: Any]
    }
}

@Suite("Outbox events")
struct EventTests {
    @Test("Wrapping records type, version, aggregate, sorted unique recipients and the payload", arguments: EventSample.allCases)
    func wrapping(sample: EventSample) throws {
        let expected = sample.expectation
        let event = try sample.wrapped()
        #expect(event.type == expected.type)
        #expect(event.schemaVersion == 1)
        #expect(event.aggregateID.uuidString.lowercased() == expected.aggregate)
        #expect(event.recipients.map(\.uuidString) == expected.recipients.sorted())
        #expect(event.occurredAt == Fixture.t1)
        #expect(event.delivery == OutboxEvent.Delivery(status: .pending, attempts: 0, availableAt: Fixture.t1, lastError: nil))
        let payload = try #require(try JSONSerialization.jsonObject(with: event.payload) as? [String: Any])
        #expect(NSDictionary(dictionary: payload) == NSDictionary(dictionary: expected.json))
        let back = try #require(try sample.decodedBack(event))
        #expect(NSDictionary(dictionary: back) == NSDictionary(dictionary: expected.json))
    }

    @Test("Decoding as another type answers nil", arguments: EventSample.allCases)
    func decodingAsTheWrongType(sample: EventSample) throws {
        let event = try sample.wrapped()
        for other in EventSample.allCases where other != sample {
            #expect(try other.decodedBack(event) == nil, "\(sample) decoded as \(other)")
        }
    }

    @Test func decodingAnotherSchemaVersionAnswersNil() throws {
        let event = try EventSample.bidDeclined.wrapped()
        let future = OutboxEvent(
            id: event.id, type: event.type, schemaVersion: 2, aggregateID: event.aggregateID,
            recipients: event.recipients, payload: event.payload, occurredAt: event.occurredAt)
        #expect(try future.decode(BidDeclined.self) == nil)
        #expect(try event.decode(BidDeclined.self) != nil)
    }

    @Test func decodingACorruptPayloadThrows() throws {
        let event = try EventSample.bidDeclined.wrapped()
        let corrupt = OutboxEvent(
            id: event.id, type: event.type, schemaVersion: 1, aggregateID: event.aggregateID,
            recipients: event.recipients, payload: Data("{}".utf8), occurredAt: event.occurredAt)
        #expect(throws: DecodingError.self) { try corrupt.decode(BidDeclined.self) }
    }

    @Test func bidDeclinedCarriesNoAmount() throws {
        let event = try EventSample.bidDeclined.wrapped()
        let payload = try #require(try JSONSerialization.jsonObject(with: event.payload) as? [String: Any])
        #expect(Set(payload.keys) == ["bidID", "jobID", "contractorID"])
        #expect(!String(decoding: event.payload, as: UTF8.self).contains("amount"))
        #expect(!event.recipients.contains(Fixture.owner))
        // Even decoded from JSON that smuggles an amount in, the event does not keep it.
        var smuggled = EventSample.bidDeclined.expectation.json
        smuggled["amount"] = EventSample.money
        let decoded = try JSONDecoder().decode(BidDeclined.self, from: JSONSerialization.data(withJSONObject: smuggled))
        let rewrapped = try OutboxEvent(decoded, id: EventID(UUID()), at: Fixture.t1)
        #expect(!String(decoding: rewrapped.payload, as: UTF8.self).contains("amount"))
    }

    @Test func recipientsAreDeduplicated() throws {
        var json = EventSample.jobStatusChanged.expectation.json
        json["contractorID"] = EventSample.u1
        let event = try JSONDecoder().decode(JobStatusChanged.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(try OutboxEvent(event, id: EventID(UUID()), at: Fixture.t1).recipients == [Fixture.owner])
        json["contractorID"] = nil
        let unawarded = try JSONDecoder().decode(JobStatusChanged.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(unawarded.recipients == [Fixture.owner])
    }
}

@Suite("Outbox retry policy")
struct RetryPolicyTests {
    @Test func defaultSequenceDoublesThenDeadLetters() {
        let policy = EventService.RetryPolicy()
        #expect(policy.maxAttempts == 8)
        let delays = (1...8).map { policy.delay(afterAttempt: $0) }
        #expect(delays == [30, 60, 120, 240, 480, 960, 1_920, nil])
        #expect(policy.delay(afterAttempt: 9) == nil)
        #expect(policy.delay(afterAttempt: 100) == nil)
    }

    @Test func delayIsCappedAtTheMaximum() {
        let policy = EventService.RetryPolicy(maxAttempts: 20, initialDelay: 30, maximumDelay: 3_600)
        #expect(policy.delay(afterAttempt: 7) == 1_920)
        #expect(policy.delay(afterAttempt: 8) == 3_600)
        #expect(policy.delay(afterAttempt: 19) == 3_600)
        #expect(policy.delay(afterAttempt: 20) == nil)
    }

    @Test func deadLettersExactlyAtMaxAttempts() {
        for maxAttempts in 1...10 {
            let policy = EventService.RetryPolicy(maxAttempts: maxAttempts, initialDelay: 1, maximumDelay: 1_000)
            #expect(policy.delay(afterAttempt: maxAttempts) == nil)
            if maxAttempts > 1 { #expect(policy.delay(afterAttempt: maxAttempts - 1) != nil) }
        }
    }

    @Test func attemptZeroUsesTheInitialDelay() {
        #expect(EventService.RetryPolicy(initialDelay: 5).delay(afterAttempt: 0) == 5)
    }
}
