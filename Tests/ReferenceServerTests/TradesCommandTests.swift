import Foundation
import ProcessSupport
import TestSupport
import Testing

/// The helpers the command tests and the benchmark run children with. Reading a running child's output must return on
/// what was asked for, on the child's exit and on its timeout, never wait for an end of file that another process's
/// inherited descriptor holds off; waiting must tell how the child ended.
@Suite("Child processes: reading their output, waiting for them")
struct TradesCommandTests {
    /// Less than the reads' 60-second timeout, with room for a machine so busy that a finished read waits long for a
    /// thread to resume on: a read that returns in time returned on what it was waiting for, not on its timeout.
    static let wellBeforeTheTimeout: Duration = .seconds(45)

    /// Starts `script` with its standard output on a pipe of its own. A child that outlives its test must write no
    /// standard error either: it would inherit the test runner's, which the runner reads to its end after the tests.
    private static func start(_ script: String) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let output = TradesCommand.pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    @Test("returns as soon as what was asked for arrived, while the child runs on")
    func enough() async throws {
        let (process, output) = try Self.start("echo one; echo two; exec sleep 300")
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let started = ContinuousClock.now
        let text = await TradesCommand.read(output, of: process) { $0.contains("two\n") }
        #expect(text == "one\ntwo\n")
        #expect(ContinuousClock.now - started < Self.wellBeforeTheTimeout)
        #expect(process.isRunning)
    }

    @Test("returns at the timeout when a child hangs without writing")
    func timeout() async throws {
        let (process, output) = try Self.start("echo started; exec sleep 300")
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // The child is running and has written what it will write (however long starting it took on a busy machine).
        #expect(await TradesCommand.read(output, of: process) { $0.contains("started\n") } == "started\n")
        let started = ContinuousClock.now
        let text = await TradesCommand.read(output, of: process, timeout: .milliseconds(300)) { $0.contains("never") }
        #expect(text == "")
        #expect(ContinuousClock.now - started < Self.wellBeforeTheTimeout)
    }

    @Test("returns everything once the child exits, though a grandchild still holds the pipe open")
    func exit() async throws {
        // The background sleep inherits standard output and keeps the pipe's write end open after the shell exits.
        let (process, output) = try Self.start("sleep 120 & echo last words")
        let started = ContinuousClock.now
        let text = await TradesCommand.read(output, of: process) { _ in false }
        #expect(text == "last words\n")
        #expect(ContinuousClock.now - started < Self.wellBeforeTheTimeout)
    }

    @Test("tells an exit code from a signal", arguments: [("exit 3", TradesCommand.Termination.exited(3)), ("kill -9 $$", .signalled(9))])
    func termination(_ script: String, _ expected: TradesCommand.Termination) async throws {
        let (process, _) = try Self.start(script)
        #expect(await TradesCommand.termination(of: process) == expected)
    }

    @Test("the benchmark's synchronous wait reports how the child ended, from the waiting thread")
    func waitOnThread() async throws {
        let (process, _) = try Self.start("exit 5")
        let ended = await withCheckedContinuation { (done: CheckedContinuation<ChildProcess.Termination, Never>) in
            Thread { done.resume(returning: ChildProcess.waitForTermination(of: process)) }.start()
        }
        #expect(ended == .exited(5))
        #expect(ChildProcess.hasExited(process))
    }

    @Test("finds programs on PATH, and says so when one is not there")
    func find() {
        let shell = ChildProcess.find("sh")
        #expect(shell.map { FileManager.default.isExecutableFile(atPath: $0.path) } == true)
        #expect(ChildProcess.find("tradeskit-no-such-program-\(UUID().uuidString)") == nil)
    }

    @Test("a child's pipe is closed on exec in this process, so other children do not inherit it")
    func closeOnExec() {
        let pipe = ChildProcess.pipe()
        for descriptor in [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
            #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0)
        }
    }
}
