public import Foundation
public import ProcessSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `trades` executable that `swift test` builds next to the test bundle, for the tests that run it as a user would.
public enum TradesCommand {
    /// What a finished run printed, and how it exited.
    public struct Output: Sendable {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
        /// Both outputs, for checks that must hold for everything printed (no secret, no personal data).
        public var all: String { standardOutput + standardError }
    }

    struct NotBuilt: Error, CustomStringConvertible {
        var description: String { "The trades executable was not built next to the tests; run `swift build` first" }
    }

    /// The executable's location: next to the test bundle, or a few directories up from it.
    public static func executable() throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("trades")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw NotBuilt()
    }

    /// Runs `trades` with `arguments` to the end.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> Output {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = pipe()
        let errors = pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        async let standardError = collect(errors, of: process)
        let standardOutput = await collect(output, of: process)
        let errorData = await standardError
        return Output(
            status: await exitStatus(of: process), standardOutput: String(decoding: standardOutput, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }

    /// A pipe for a child's output whose descriptors close on exec: processes other tests start meanwhile (with
    /// `system`, which keeps every descriptor) do not inherit them. The child gets its own copies as standard output
    /// or error, which do not close on exec.
    public static func pipe() -> Pipe { ChildProcess.pipe() }

    /// What a running `process` writes to `pipe` until `enough` holds for everything read so far, the process exits
    /// (and what it wrote is drained), or `timeout` passes, whichever comes first; read on a thread of its own, so a
    /// child that hangs without writing holds no thread of Swift's cooperative pool and no test past its timeout.
    public static func read(
        _ pipe: Pipe, of process: Process, timeout: Duration = .seconds(60), until enough: @escaping @Sendable (String) -> Bool
    ) async -> String {
        let data = await drained(
            pipe, of: process, until: { enough(String(decoding: $0, as: UTF8.self)) }, deadline: ContinuousClock.now.advanced(by: timeout))
        return String(decoding: data, as: UTF8.self)
    }

    /// Everything `process` writes to `pipe` until it exits, read on a thread of its own.
    ///
    /// Not `readDataToEndOfFile()` on Swift's cooperative pool: another test may start a process at the same moment (a
    /// PostgreSQL cluster of its own), which inherits the pipe's write end and holds it for as long as it runs, so the
    /// end of file may never come; two such reads blocked both threads of a 2-core machine's pool, and every test with
    /// them (seen in CI). Reading stops once the process has exited and what it wrote is drained.
    public static func collect(_ pipe: Pipe, of process: Process) async -> Data {
        await drained(pipe, of: process, until: { _ in false }, deadline: nil)
    }

    /// ``drain(_:while:until:deadline:)`` on a thread of its own.
    private static func drained(
        _ pipe: Pipe, of process: Process, until enough: @escaping @Sendable (Data) -> Bool, deadline: ContinuousClock.Instant?
    ) async -> Data {
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        return await withCheckedContinuation { (done: CheckedContinuation<Data, Never>) in
            Thread { done.resume(returning: drain(descriptor, while: process, until: enough, deadline: deadline)) }.start()
        }
    }

    /// How a child ended.
    public typealias Termination = ChildProcess.Termination

    /// How `process` exited, waited for on a thread of its own.
    public static func exitStatus(of process: Process) async -> Int32 { await termination(of: process).status }

    /// How `process` ended, waited for on a thread of its own; a child Foundation failed to reap is reaped
    /// (``ChildProcess/termination(of:)``).
    public static func termination(of process: Process) async -> Termination { await ChildProcess.termination(of: process) }

    private static func drain(_ descriptor: Int32, while process: Process, until enough: (Data) -> Bool, deadline: ContinuousClock.Instant?)
        -> Data
    {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var exited = false
        while true {
            let count = buffer.withUnsafeMutableBytes { readAvailable(descriptor, $0) }
            if count > 0 {
                data.append(contentsOf: buffer[..<count])
                if enough(data) { return data }
                continue
            }
            if let deadline, ContinuousClock.now >= deadline { return data }
            if count == 0 { return data }  // end of file: no writer is left
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK, !exited else { return data }
            // Nothing to read now. Once the process has exited, one more pass reads what it wrote last.
            if ChildProcess.hasExited(process) {
                exited = true
                continue
            }
            var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&waiting, 1, 20)
        }
    }
}

/// `read(2)`, under a name the enum's own `read` does not hide.
private func readAvailable(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    read(descriptor, buffer.baseAddress, buffer.count)
}
