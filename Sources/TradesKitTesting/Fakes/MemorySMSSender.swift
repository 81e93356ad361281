public import TradesKit

/// An ``SMSSender`` that keeps what it is asked to send. Scriptable failures: ``failNext(with:)``.
public final class MemorySMSSender: SMSSender, Sendable {
    private struct State: Sendable {
        var sent: [SMSMessage] = []
        var attempts = 0
        var failures = FailureQueue()
    }

    private let state = Locked(State())

    /// Creates a sender with nothing sent.
    public init() {}

    /// Every message sent successfully, in order.
    public var sent: [SMSMessage] { state.current.sent }

    /// How many times ``send(_:)`` was called, failures included.
    public var attempts: Int { state.current.attempts }

    /// Makes the next call (after any already scripted) throw `error` without sending.
    public func failNext(with error: any Error) { state.withLock { $0.failures.add(error) } }

    /// Forgets everything sent.
    public func reset() { state.withLock { $0.sent.removeAll() } }

    /// Records the message; answers `sms-<n>`.
    public func send(_ message: SMSMessage) async throws -> String {
        try state.withLock { state in
            state.attempts += 1
            if let error = state.failures.next() { throw error }
            state.sent.append(message)
            return "sms-\(state.sent.count)"
        }
    }
}
