/// Errors a fake throws from its next calls, oldest first. Shared by every `Memory*` fake.
struct FailureQueue: Sendable {
    private var errors: [any Error] = []

    /// Queues `error` for the next call that is not already scripted to fail.
    mutating func add(_ error: any Error) { errors.append(error) }

    /// The error the current call must throw, if one is queued.
    mutating func next() -> (any Error)? { errors.isEmpty ? nil : errors.removeFirst() }
}
