import Foundation
import ProcessSupport

/// Another program run to its end by a benchmark (wrk, pgbench), waited for on a thread of its own: a run lasts as long
/// as a phase, and Swift's cooperative pool (one thread per core) has better things to do than block on a pipe.
enum Subprocess {
    /// What a finished run printed (standard output and error together) and how it exited.
    struct Output: Sendable {
        let status: Int32
        let text: String
    }

    /// Runs `executable` with `arguments` (and `environment` added to this process's) until it exits.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Processes started meanwhile must not inherit the pipe, or its end of file would wait for them.
        let output = ChildProcess.pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return await withCheckedContinuation { (done: CheckedContinuation<Output, Never>) in
            Thread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                let ended = ChildProcess.waitForTermination(of: process)
                done.resume(returning: Output(status: ended.status, text: String(decoding: data, as: UTF8.self)))
            }.start()
        }
    }
}
