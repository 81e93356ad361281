import ServiceLifecycle
import NIOConcurrencyHelpers

/// Work a route starts and answers before it is done, such as the password-reset e-mail (answered at once so that the
/// answer's timing does not tell which addresses have an account), kept so that a graceful shutdown waits for it.
///
/// The application runs it as a service ahead of the HTTP server, and a `ServiceGroup` shuts its services down in
/// reverse order: on SIGTERM the server first stops taking requests and finishes those in flight, then this service
/// waits until the work they started has finished. When the group gives up waiting (its grace period is over) or is
/// cancelled, the work still running is cancelled and the service returns at once.
final class BackgroundWork: Service, Sendable {
    private struct State {
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextID = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// A wait for the work was cancelled: waiting is over, for every waiter.
        var abandoned = false
    }

    private let state = NIOLockedValueBox(State())

    /// Starts `body` in a new task and counts it until it returns.
    func start(_ body: @escaping @Sendable () async -> Void) {
        state.withLockedValue { state in
            let id = state.nextID
            state.nextID += 1
            // The task ends by taking the lock, which is held until its handle is stored.
            state.tasks[id] = Task { [self] in
                await body()
                finished(id)
            }
        }
    }

    private func finished(_ id: Int) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.tasks[id] = nil
            guard state.tasks.isEmpty else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many started tasks have not returned yet.
    var running: Int { state.withLockedValue { $0.tasks.count } }

    /// Returns once no started work is running; if the calling task is cancelled first, cancels the work still running
    /// and returns without waiting for it.
    func drained() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waiting = state.withLockedValue { state -> Bool in
                    guard !state.tasks.isEmpty, !state.abandoned else { return false }
                    state.waiters.append(continuation)
                    return true
                }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            abandon()
        }
    }

    /// Idles until the graceful shutdown, then waits for the started work (see ``drained()``).
    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            // Cancelled: the group is not shutting down gracefully, and what still runs is cancelled.
            abandon()
            return
        }
        await drained()
    }

    /// Stops waiting: cancels every started task that is still running and lets every waiter go.
    private func abandon() {
        let (tasks, waiters) = state.withLockedValue { state in
            state.abandoned = true
            defer { state.waiters = [] }
            return (Array(state.tasks.values), state.waiters)
        }
        for task in tasks { task.cancel() }
        for waiter in waiters { waiter.resume() }
    }
}
