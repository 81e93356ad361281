import Foundation
public import TradesKit

/// A ``Geocoder`` backed by a dictionary of addresses (compared trimmed and case-insensitively).
public final class MemoryGeocoder: Geocoder, Sendable {
    private struct State: Sendable {
        var places: [String: GeoPoint]
        var queries: [String] = []
        var failures = FailureQueue()
    }

    private let state: Locked<State>

    /// Creates a geocoder that knows `places`.
    public init(places: [String: GeoPoint] = [:]) {
        state = Locked(State(places: Dictionary(places.map { (Self.key($0.key), $0.value) }, uniquingKeysWith: { _, last in last })))
    }

    /// Every address asked for, in order, failures included.
    public var queries: [String] { state.current.queries }

    /// Teaches the geocoder an address.
    public func set(_ point: GeoPoint, for address: String) { state.withLock { $0.places[Self.key(address)] = point } }

    /// Makes the next call (after any already scripted) throw `error`.
    public func failNext(with error: any Error) { state.withLock { $0.failures.add(error) } }

    /// The known point of `address`, or `nil`.
    public func geocode(_ address: String) async throws -> GeoPoint? {
        try state.withLock { state in
            state.queries.append(address)
            if let error = state.failures.next() { throw error }
            return state.places[Self.key(address)]
        }
    }

    private static func key(_ address: String) -> String { address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
}
