public import TradesKit

/// A ``BackgroundChecker`` answering a scripted status per contractor, or a default.
public final class MemoryBackgroundChecker: BackgroundChecker, Sendable {
    /// One recorded call.
    public struct Call: Sendable, Hashable {
        /// The contractor checked.
        public let contractor: UserID
        /// The tenant asked for.
        public let tenant: TenantID
    }

    private struct State: Sendable {
        var statuses: [UserID: VettingStatus] = [:]
        var defaultStatus: VettingStatus
        var calls: [Call] = []
        var failures = FailureQueue()
    }

    private let state: Locked<State>

    /// Creates a checker answering `defaultStatus` for contractors without a scripted status.
    public init(defaultStatus: VettingStatus = .approved) {
        state = Locked(State(defaultStatus: defaultStatus))
    }

    /// Every call, in order, failures included.
    public var calls: [Call] { state.current.calls }

    /// Scripts the answer for one contractor.
    public func setStatus(_ status: VettingStatus, for contractor: UserID) { state.withLock { $0.statuses[contractor] = status } }

    /// Makes the next call (after any already scripted) throw `error`.
    public func failNext(with error: any Error) { state.withLock { $0.failures.add(error) } }

    /// The scripted status of `contractor`, or the default.
    public func check(contractor: UserID, tenant: TenantID) async throws -> VettingStatus {
        try state.withLock { state in
            state.calls.append(Call(contractor: contractor, tenant: tenant))
            if let error = state.failures.next() { throw error }
            return state.statuses[contractor] ?? state.defaultStatus
        }
    }
}
