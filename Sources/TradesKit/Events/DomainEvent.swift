public import Foundation

/// A typed, versioned fact that something happened. Written to the outbox in the same change set as the change itself.
///
/// Payloads carry only what every recipient may see: a `bid.declined` event never names the winning amount.
public protocol DomainEvent: Codable, Sendable {
    /// The stable type name, e.g. `bid.submitted`.
    static var eventType: String { get }
    /// The payload schema version; bump it when the payload changes incompatibly.
    static var schemaVersion: Int { get }
    /// The aggregate the event is about (job, user…), for ordering and lookup.
    var aggregateID: UUID { get }
    /// The users whose event feed shows this event (admins see every event of their tenant).
    var recipients: [UserID] { get }
}

extension DomainEvent {
    public static var schemaVersion: Int { 1 }
}

/// An event as stored in the outbox: the envelope plus delivery bookkeeping.
public struct OutboxEvent: Sendable, Hashable, Identifiable {
    /// The event's id (also the deduplication key for consumers).
    public let id: EventID
    /// The type name.
    public let type: String
    /// The payload schema version.
    public let schemaVersion: Int
    /// The aggregate.
    public let aggregateID: UUID
    /// Who may see it in their feed.
    public let recipients: [UserID]
    /// The JSON payload.
    public let payload: Data
    /// When it happened.
    public let occurredAt: Date
    /// Delivery state for outbox consumers.
    public var delivery: Delivery

    /// Delivery bookkeeping of one event.
    public struct Delivery: Sendable, Hashable {
        /// Pending, delivered or dead-lettered.
        public var status: DeliveryStatus
        /// Failed attempts so far.
        public var attempts: Int
        /// Not to be claimed before this instant (backoff, or a claim's lease).
        public var availableAt: Date
        /// A short reason for the last failure (never personal data).
        public var lastError: String?

        /// Creates delivery state.
        public init(status: DeliveryStatus = .pending, attempts: Int = 0, availableAt: Date, lastError: String? = nil) {
            self.status = status
            self.attempts = attempts
            self.availableAt = availableAt
            self.lastError = lastError
        }
    }

    /// Where an event is in delivery.
    public enum DeliveryStatus: String, Sendable, Hashable, Codable, CaseIterable {
        /// Waiting for (re)delivery.
        case pending
        /// Delivered.
        case delivered
        /// Gave up after too many attempts.
        case dead
    }

    /// Creates an envelope.
    public init(
        id: EventID, type: String, schemaVersion: Int, aggregateID: UUID, recipients: [UserID], payload: Data, occurredAt: Date,
        delivery: Delivery? = nil
    ) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.aggregateID = aggregateID
        self.recipients = recipients
        self.payload = payload
        self.occurredAt = occurredAt
        self.delivery = delivery ?? Delivery(availableAt: occurredAt)
    }

    /// Wraps a typed event.
    public init<Event: DomainEvent>(_ event: Event, id: EventID, at now: Date) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        self.init(
            id: id, type: Event.eventType, schemaVersion: Event.schemaVersion, aggregateID: event.aggregateID,
            recipients: Array(Set(event.recipients)).sorted(), payload: try encoder.encode(event), occurredAt: now)
    }

    /// Decodes the payload as `Event`; `nil` when the type or version differs.
    public func decode<Event: DomainEvent>(_: Event.Type) throws -> Event? {
        guard type == Event.eventType, schemaVersion == Event.schemaVersion else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(Event.self, from: payload)
    }
}
