import ServiceLifecycle
import NIOConcurrencyHelpers

/// Work a route starts and answers before it is done, such as the password-reset e-mail (answered at once so that the
/// answer's timing does not tell which addresses have an account), kept so that a graceful shutdown waits for it.
///
/// The application runs it as a service ahead of the HTTP server, and a `ServiceGroup` shuts its services down in
/// reverse order: on SIGTERM the server first stops taking requests and finishes those in flight, then this service
/// waits until the work they started has finished. A cancelled group does not wait.
final class BackgroundWork: Service, Sendable {
    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Starts `body` in a new task and counts it until it returns.
    func start(_ body: @escaping @Sendable () async -> Void) {
        state.withLockedValue { $0.running += 1 }
        Task {
            await body()
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.running -= 1
                guard state.running == 0 else { return [] }
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// How many started tasks have not returned yet.
    var running: Int { state.withLockedValue { $0.running } }

    /// Returns once no started work is running.
    func drained() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLockedValue { state -> Bool in
                guard state.running > 0 else { return true }
                state.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Idles until the graceful shutdown, then waits for the started work.
    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is not shutting down gracefully
        }
        await drained()
    }
}
