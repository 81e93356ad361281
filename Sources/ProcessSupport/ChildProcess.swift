public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Waiting for a child process started with Foundation's `Process`, and the pipes it writes to. Shared by the `trades`
/// command (wrk, pgbench and the benchmark's server) and the tests that run `trades`; not a product.
///
/// Not `waitUntilExit()`: Foundation reaps children on a queue of its own and, with many processes started at once, may
/// miss one; the child then stays a zombie, `isRunning` stays true, and `waitUntilExit()` spins for ever (seen in CI).
/// Here a child that has been a zombie for half a second is reaped with `waitpid`.
public enum ChildProcess {
    /// How a child ended.
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)

        /// The exit code, or the signal's number (as Foundation's `terminationStatus`).
        public var status: Int32 {
            switch self {
            case .exited(let code), .signalled(let code): code
            }
        }
    }

    /// How `process` ended, waited for on a thread of its own (never on Swift's cooperative pool).
    public static func termination(of process: Process) async -> Termination {
        await withCheckedContinuation { (done: CheckedContinuation<Termination, Never>) in
            Thread { done.resume(returning: waitForTermination(of: process)) }.start()
        }
    }

    /// How `process` ended, waiting on the calling thread: for threads that exist to wait. Foundation's account if it
    /// reaped the child, the child's wait status if it did not within half a second of the child's exit.
    public static func waitForTermination(of process: Process) -> Termination {
        var exitedAt: ContinuousClock.Instant?
        while true {
            if !process.isRunning {
                return process.terminationReason == .exit ? .exited(process.terminationStatus) : .signalled(process.terminationStatus)
            }
            if hasExited(process) {
                let since = exitedAt ?? ContinuousClock.now
                exitedAt = since
                var status: Int32 = 0
                // If Foundation reaps it first, waitpid fails (ECHILD) and `isRunning` turns false on a later pass.
                if ContinuousClock.now - since > .milliseconds(500), waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier
                {
                    return status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signalled(status & 0x7F)
                }
            }
            usleep(5_000)
        }
    }

    /// Whether `process` has ended: a zombie counts (Foundation reaps it on a queue of its own, which may be late).
    public static func hasExited(_ process: Process) -> Bool {
        #if os(Linux)
            let pid = process.processIdentifier
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")"),
                let state = stat[stat.index(after: end)...].split(separator: " ").first
            else { return !process.isRunning }
            return state == "Z" || state == "X"
        #else
            return !process.isRunning
        #endif
    }

    /// A pipe for a child's output whose descriptors close on exec: processes started meanwhile (by another thread, or
    /// by `system`, which keeps every descriptor) do not inherit them, so its end of file does not wait for them. The
    /// child gets its own copies as standard output or error, which do not close on exec.
    public static func pipe() -> Pipe {
        let pipe = Pipe()
        for descriptor in [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        return pipe
    }

    /// The executable called `name` on `PATH`, if there is one.
    public static func find(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
