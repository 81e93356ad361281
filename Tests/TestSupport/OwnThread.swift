import Foundation

/// Runs blocking `work` (a child process waited for, `system()`) on a thread of its own and answers its result.
///
/// Swift's cooperative pool has one thread per core: two tests blocking it at once (starting a PostgreSQL cluster takes
/// seconds on a busy machine) stall every other test's tasks, and timing assertions anywhere in the suite fail.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
