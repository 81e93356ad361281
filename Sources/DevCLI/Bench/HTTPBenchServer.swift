import ArgumentParser
import Foundation
import Logging
import NIOCore
import ProcessSupport
import ReferenceServer
import StorageSQLite
import TradesKit
import TradesKitTesting

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `trades bench http-server` (hidden): the server side of `trades bench http`, which starts it as a child process so
/// that the server's memory and CPU are its own. It is `trades serve` on the benchmark's database (`--database`, or the
/// app role's URL in `TRADESKIT_BENCH_DATABASE_URL` for PostgreSQL) with the hello-world route added and the rate limits
/// raised; it prints `listening PORT` once bound and stops on SIGTERM.
struct HTTPBenchServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-server", abstract: "The server of `trades bench http` (started by it).", shouldDisplay: false)

    @OptionGroup var options: DatabaseOptions
    @Option(help: "The bcrypt cost of password hashes.") var bcryptCost = 12

    func run() async throws {
        guard let secret = ProcessInfo.processInfo.environment["TRADESKIT_JWT_SECRET"], secret.utf8.count >= 32 else {
            throw ValidationError("TRADESKIT_JWT_SECRET (at least 32 bytes) is set by `trades bench http`.")
        }
        if let url = ProcessInfo.processInfo.environment[HTTPBenchDatabase.serverURLVariable] {
            var options = options
            options.database = url
            try await options.withStorage { storage in try await serve(storage, secret: secret) }
        } else {
            try await serve(try options.openSQLite(), secret: secret)
        }
    }

    private func serve(_ storage: any Storage, secret: String) async throws {
        let logger = Logger(label: "tradeskit.bench.server")
        let configuration = HTTPBenchServer.configuration(secret: Array(secret.utf8), bcryptCost: bcryptCost)
        let market = Marketplace(
            storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: try BcryptPasswordHasher(cost: bcryptCost), logger: logger)
        let server = try await ReferenceServer(marketplace: market, configuration: configuration, logger: logger)
        try await server.run { channel in
            FileHandle.standardOutput.write(Data("listening \(channel.localAddress?.port ?? 0)\n".utf8))
        }
    }
}

/// The benchmark server's configuration, and the child process that runs it.
final class HTTPBenchServer {
    /// The configuration both sides agree on: any free loopback port, the hello-world route, long-lived tokens, and
    /// per-IP limits out of the way (the fixture's tenant raises the per-user and login limits).
    static func configuration(secret: [UInt8], bcryptCost: Int) -> ServerConfiguration {
        var configuration = ServerConfiguration(tokenSigningKey: secret)
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.bcryptCost = bcryptCost
        configuration.accessTokenLifetime = 86_400
        configuration.rateLimits = .init(requestsPerIPPerWindow: 1_000_000_000, windowSeconds: 1)
        configuration.benchmarkRoute = true
        return configuration
    }

    private let process: Process
    /// The port it listens on, on 127.0.0.1.
    let port: Int
    var pid: Int32 { process.processIdentifier }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts `trades bench http-server` (this same executable) on `database` and waits until it listens.
    static func start(database: HTTPBenchDatabase, bcryptCost: Int, secret: String) async throws -> HTTPBenchServer {
        guard let executable = Bundle.main.executableURL else { throw HTTPBenchError("cannot tell where this executable is") }
        let process = Process()
        process.executableURL = executable
        let target = database.server
        process.arguments = ["bench", "http-server", "--bcrypt-cost", String(bcryptCost)] + target.arguments
        var environment = ProcessInfo.processInfo.environment
        // Only the database this run chose: an inherited URL must not send the server elsewhere.
        environment[HTTPBenchDatabase.serverURLVariable] = nil
        environment.merge(target.environment) { _, new in new }
        environment["TRADESKIT_JWT_SECRET"] = secret
        process.environment = environment
        // Closed on exec: wrk and pgbench, started meanwhile, do not inherit it.
        let output = ChildProcess.pipe()
        process.standardOutput = output
        try process.run()
        let line = await firstLine(of: output.fileHandleForReading)
        guard let port = line.flatMap({ $0.hasPrefix("listening ") ? Int($0.dropFirst("listening ".count)) : nil }), port > 0 else {
            process.terminate()
            throw HTTPBenchError("the benchmark server did not start (it said: \(line ?? "nothing"))")
        }
        return HTTPBenchServer(process: process, port: port)
    }

    /// The resident set and its peak, in bytes, from `/proc/PID/status` (`nil` where there is no `/proc`).
    var memory: (resident: Int?, peak: Int?) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (nil, nil) }
        func kilobytes(_ field: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }.map { $0 * 1_024 }
        }
        return (kilobytes("VmRSS"), kilobytes("VmHWM"))
    }

    /// The CPU time it has used so far, user and system, in seconds.
    var cpuSeconds: Double? { ProcessCPU.seconds(process: String(pid)) }

    /// Stops it with SIGTERM (a graceful shutdown) and waits for it to exit.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        _ = await ChildProcess.termination(of: process)
    }

    /// The first line written to `handle`; afterwards, everything else the server writes there (its log lines) is read
    /// and dropped until it exits, or a full pipe would stop the server at its next log line. Read on a thread of its
    /// own: the reads block.
    private static func firstLine(of handle: FileHandle) async -> String? {
        await withCheckedContinuation { (done: CheckedContinuation<String?, Never>) in
            Thread {
                var bytes = Data()
                while !bytes.contains(UInt8(ascii: "\n")) {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    bytes.append(chunk)
                }
                let text = String(decoding: bytes, as: UTF8.self)
                done.resume(returning: text.split(separator: "\n").first.map(String.init))
                while !handle.availableData.isEmpty {}
            }.start()
        }
    }
}

/// The open-file limit: 2000 connections need as many sockets in the generator and in the server.
enum FileDescriptorLimit {
    /// Raises the soft limit to at least `needed` (up to the hard limit), or says why it cannot.
    static func raise(toAtLeast needed: Int) throws {
        var limit = rlimit()
        #if os(Linux)
            let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
            let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { throw HTTPBenchError("getrlimit(RLIMIT_NOFILE) failed: errno \(errno)") }
        guard limit.rlim_cur < rlim_t(needed) else { return }
        guard limit.rlim_max >= rlim_t(needed) else {
            throw HTTPBenchError(
                "\(needed) open files are needed but the hard limit is \(limit.rlim_max): raise it (`ulimit -Hn \(needed)` as root) or use fewer connections"
            )
        }
        limit.rlim_cur = rlim_t(needed)
        guard setrlimit(resource, &limit) == 0 else { throw HTTPBenchError("setrlimit(RLIMIT_NOFILE, \(needed)) failed: errno \(errno)") }
    }
}

/// CPU time of a process from `/proc/PID/stat` (`nil` where there is no `/proc`): on a machine shared with the load
/// generator (and anything else), CPU time per request says what a request costs whatever the machine's load.
enum ProcessCPU {
    /// User plus system time in seconds of `process` (a pid, or `self`), in clock ticks (10 ms on Linux): enough for a
    /// server that serves a phase of seconds.
    static func seconds(process: String) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name: state is field 3, utime field 14 and stime 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? (user + system) / ticks : nil
    }

    /// User plus system time in seconds of this process's children that have exited and been waited for (such as a
    /// finished wrk), to the microsecond: a short run of wrk can use less than one clock tick of `/proc`'s `cutime`.
    static func waitedForChildrenSeconds() -> Double? {
        var usage = rusage()
        guard getrusage(RUSAGE_CHILDREN.rawValue, &usage) == 0 else { return nil }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// CPU seconds spent between two readings of ``seconds(process:)`` or ``waitedForChildrenSeconds()`` (`nil` if either is).
    static func elapsed(from start: Double?, to end: Double?) -> Double? {
        guard let start, let end else { return nil }
        return end - start
    }

    /// The 1-minute load average (`nil` where there is no `/proc`).
    static var loadAverage: Double? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap { Double($0) }
    }
}
