import NIOConcurrencyHelpers

/// Answers a call at its deadline even when the work under it cannot be interrupted.
///
/// A task group cannot return before its children, so a child stuck on a driver continuation that is never resumed would
/// hold the caller forever. Here the work runs in a task of its own; the caller gets the first of its result or the
/// timeout error, and a timed-out task is cancelled and left to finish (or not) on its own.
enum Deadline {
    static func run<Result: Sendable>(
        after deadline: Duration, onTimeout: @escaping @Sendable () -> any Error,
        _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let race = Race<Result>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    try await Task.sleep(for: deadline)
                    if race.finish(.failure(onTimeout())) { work.cancel() }
                }
                race.own(work: work, timer: timer)
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// The continuation and the two tasks racing to resume it; whoever comes first resumes it, once.
    private final class Race<Result: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Result, any Error>?
            var work: Task<Void, Never>?
            var timer: Task<Void, any Error>?
            var finished = false
            var cancelled = false
        }

        private let state = NIOLockedValueBox(State())

        func start(_ continuation: CheckedContinuation<Result, any Error>) {
            state.withLockedValue { $0.continuation = continuation }
        }

        func own(work: Task<Void, Never>, timer: Task<Void, any Error>) {
            let cancel = state.withLockedValue { state -> Bool in
                state.work = work
                state.timer = timer
                return state.finished || state.cancelled
            }
            // Finished before the tasks were recorded: stop the timer (and the work, if the caller was cancelled).
            if cancel { timer.cancel() }
            if state.withLockedValue({ $0.cancelled }) { work.cancel() }
        }

        /// Resumes the caller unless someone already did; answers whether this call did.
        @discardableResult
        func finish(_ result: Swift.Result<Result, any Error>) -> Bool {
            let (continuation, timer) = state.withLockedValue { state -> (CheckedContinuation<Result, any Error>?, Task<Void, any Error>?) in
                guard !state.finished else { return (nil, nil) }
                state.finished = true
                defer { state.continuation = nil }
                return (state.continuation, state.timer)
            }
            guard let continuation else { return false }
            timer?.cancel()
            continuation.resume(with: result)
            return true
        }

        func cancel() {
            let work = state.withLockedValue { state -> Task<Void, Never>? in
                state.cancelled = true
                return state.work
            }
            work?.cancel()
        }
    }
}
