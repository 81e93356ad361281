import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import ProcessSupport
import ReferenceServer
import StorageSQLite
import TradesKit

/// `trades bench http`: the reference server under a mixed marketplace workload on SQLite, against a hello-world route
/// of the same server in the same run, at each concurrency; then read latency while clients log in continuously.
struct HTTPBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Requests per second and latency of the reference server: the marketplace mix against hello world, and reads during logins.",
        discussion: """
            Starts the server as a child process (`trades bench http-server`) on a temporary SQLite database with a fixture, and \
            loads it over loopback with wrk when it is installed (a Lua script per phase), otherwise with a built-in \
            closed-loop generator (SwiftNIO, HTTP/1.1 keep-alive); the login storm always runs on the built-in generator, \
            which times reads and logins apart. The generator and the server share this machine's cores.
            """
    )

    @Option(help: "Measured seconds of each phase.") var duration = 10.0
    @Option(help: "Unmeasured seconds before each phase's measurement.") var warmup = 2.0
    @Option(parsing: .upToNextOption, help: "Connection counts to measure at (each: hello world, one read, then the mix).")
    var connections = [64, 2_000]
    @Option(help: "Clients logging in continuously during the login storm (0 skips it).") var loginClients = 50
    @Option(help: "Connections reading during the login storm (and alone, for comparison).") var loginReaders = 16
    @Option(help: "The bcrypt cost of the login users' password hash and of the server.") var bcryptCost = 12
    @Option(help: "Contractors in the fixture.") var contractors = 100
    @Option(help: "Open jobs carrying bids in the fixture (read targets).") var jobs = 300
    @Option(help: "Bids on each of those jobs.") var bids = 5
    @Option(help: "Open jobs without bids that receive the mix's new bids.") var bidTargets = 600
    @Option(help: "Awarded jobs with a message thread.") var awardedJobs = 50
    @Option(help: "The load generator: auto (wrk when it is on PATH, else builtin), wrk or builtin.") var generator: GeneratorChoice = .auto
    @Option(help: "Threads of the load generator (wrk's threads, or the built-in generator's event loops).") var clientThreads = 2
    @Option(help: "SQLite durability: full or normal.") var synchronous: DatabaseOptions.SynchronousMode = .full
    @Option(
        help: """
            PostgreSQL instead of a temporary SQLite file: postgres://ADMIN:…@HOST:PORT/DATABASE of a role that may create \
            roles and databases. The benchmark works in a scratch database (owner and app roles, row-level security, as in \
            production) and drops it.
            """)
    var database: String?
    @Option(help: "Directory for the temporary SQLite database (default: the system temporary directory).") var directory: String?
    @Flag(help: "After the mix, run each of its kinds of request alone at the first connection count (CPU per request by kind).")
    var byKind = false
    @Flag(help: "Print JSON.") var json = false

    static let helloWorldNote =
        "GET /v1/bench/hello goes through the same router and all six middlewares as the API (request id, access log, security "
        + "headers, CORS, problems, request limits with the per-IP limiter); it resolves no tenant, verifies no token and reads no database"
    static let oneReadNote =
        "GET /v1/bench/read is hello world plus the tenant named by X-Tenant (from the server's cache) and one read of its row from "
        + "the database: the least a database-backed request does, so no mix of API requests can reach a higher ratio"
    static let mixNote = "search jobs 30%, job detail 25%, list bids (owner) 15%, submit bid 10%, read a thread 15%, post a message 5%"

    func validate() throws {
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be positive and --warmup not negative") }
        guard !connections.isEmpty, connections.allSatisfy({ $0 > 0 }) else { throw ValidationError("--connections must be positive") }
        guard loginClients >= 0, loginReaders > 0, clientThreads > 0 else {
            throw ValidationError("--login-clients must not be negative; --login-readers and --client-threads must be positive")
        }
        guard contractors > 0, jobs > 0, bids >= 0, bidTargets > 0, awardedJobs > 0 else {
            throw ValidationError("the fixture sizes must be positive")
        }
        guard (4...31).contains(bcryptCost) else { throw ValidationError("--bcrypt-cost must be 4…31") }
        if let database, !(database.hasPrefix("postgres://") || database.hasPrefix("postgresql://")) {
            throw ValidationError("--database takes a postgres:// URL; without it the benchmark uses a temporary SQLite file")
        }
    }

    /// Which load generator `--generator` names.
    enum GeneratorChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
        case auto, wrk, builtin
    }

    /// wrk's location when it is to be used, `nil` for the built-in generator.
    private func wrkExecutable() throws -> URL? {
        switch generator {
        case .builtin: return nil
        case .auto: return ChildProcess.find("wrk")
        case .wrk:
            guard let wrk = ChildProcess.find("wrk") else {
                throw ValidationError("--generator wrk: wrk is not on PATH (Debian: apt-get install wrk)")
            }
            return wrk
        }
    }

    func run() async throws {
        let wrk = try wrkExecutable()
        let largest = max(connections.max() ?? 0, loginClients + loginReaders)
        try FileDescriptorLimit.raise(toAtLeast: largest + 512)
        let logger = Logger(label: "tradeskit.bench")
        let target: HTTPBenchDatabase =
            if let database {
                .postgres(try await ScratchPostgres.create(adminURL: database, logger: logger))
            } else {
                try .temporarySQLite(under: directory, synchronous: synchronous)
            }
        do {
            try await run(on: target, wrk: wrk, logger: logger)
            await target.drop(logger: logger)
        } catch {
            await target.drop(logger: logger)
            throw error
        }
    }

    private func run(on target: HTTPBenchDatabase, wrk: URL?, logger: Logger) async throws {
        let secret = ServeCommand.randomSecret()
        let serverConfiguration = HTTPBenchServer.configuration(secret: Array(secret.utf8), bcryptCost: bcryptCost)
        let tokens = await TokenAuthority(
            key: serverConfiguration.tokenSigningKey, issuer: serverConfiguration.tokenIssuer, audience: serverConfiguration.tokenAudience,
            lifetime: serverConfiguration.accessTokenLifetime, clock: SystemClock())
        progress("Writing the fixture…")
        let size = HTTPBenchFixture.Size(
            contractors: contractors, jobs: jobs, bidsPerJob: bids, bidTargets: bidTargets, awardedJobs: awardedJobs, messagesPerThread: 10,
            loginUsers: loginClients)
        let fixture = try await target.withStorage(logger: logger) { storage in
            try await HTTPBenchFixture.make(storage: storage, size: size, bcryptCost: bcryptCost, tokens: tokens)
        }

        let server = try await HTTPBenchServer.start(database: target, bcryptCost: bcryptCost, secret: secret)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: clientThreads)
        let report: Report
        do {
            report = try await measure(server: server, group: group, wrk: wrk, fixture: fixture, size: size, database: target)
        } catch {
            await server.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        await server.stop()
        try await group.shutdownGracefully()
        if json { return try printJSON(report) }
        print(report.text)
    }

    private func measure(
        server: HTTPBenchServer, group: MultiThreadedEventLoopGroup, wrk: URL?, fixture: HTTPBenchFixture, size: HTTPBenchFixture.Size,
        database: HTTPBenchDatabase
    ) async throws -> Report {
        let generator = HTTPLoadGenerator(group: group, host: "127.0.0.1", port: server.port)
        let wrkGenerator = wrk.map { WrkLoadGenerator(executable: $0, host: "127.0.0.1", port: server.port, threads: clientThreads) }
        let host = "127.0.0.1:\(server.port)"
        let bidPairs = BidAllocator(contractors: fixture.contractorTokens.count, targets: fixture.bidTargets.count)
        let loadAtStart = ProcessCPU.loadAverage
        var phases: [PhaseReport] = []
        /// Runs a phase, with the CPU time the server and this process (the generator) spent on it.
        func phase(_ workload: HTTPBenchWorkload, connections: Int, grace: Double = 30) async throws -> (HTTPLoadGenerator.PhaseResult, CPUTime) {
            let server0 = server.cpuSeconds
            let generator0 = ProcessCPU.seconds(process: "self")
            let result = try await generator.run(workload, connections: connections, warmup: warmup, duration: duration, grace: grace)
            let cpu = CPUTime(
                server: ProcessCPU.elapsed(from: server0, to: server.cpuSeconds),
                generator: ProcessCPU.elapsed(from: generator0, to: ProcessCPU.seconds(process: "self")))
            return (result, cpu)
        }
        /// Runs a phase on wrk when it is used (`script`), otherwise on the built-in generator (`workload`).
        func measured(
            _ name: String, _ workload: HTTPBenchWorkload, _ script: WrkLoadGenerator.Script, connections: Int, baseline: PhaseReport?
        ) async throws -> PhaseReport {
            guard let wrkGenerator, connections <= WrkLoadGenerator.maximumConnections else {
                let (result, cpu) = try await phase(workload, connections: connections)
                return PhaseReport(result, workload: name, memory: server.memory.resident, cpu: cpu, baseline: baseline)
            }
            let server0 = server.cpuSeconds
            let result = try await wrkGenerator.run(
                script, connections: connections, warmup: warmup, duration: duration, timeout: 30, bids: bidPairs)
            let cpu = CPUTime(server: ProcessCPU.elapsed(from: server0, to: server.cpuSeconds), generator: result.generatorCPUSeconds)
            return PhaseReport(wrk: result, workload: name, memory: server.memory.resident, cpu: cpu, baseline: baseline)
        }
        for count in connections {
            progress("Hello world at \(count) connections…")
            let helloReport = try await measured("hello", .hello(host: host), .hello, connections: count, baseline: nil)
            phases.append(helloReport)
            progress("One storage read at \(count) connections…")
            phases.append(try await measured("one read", .oneRead(host: host), .oneRead, connections: count, baseline: helloReport))
            progress("The marketplace mix at \(count) connections…")
            phases.append(
                try await measured("mix", .mix(fixture, host: host, bids: bidPairs), .mix(fixture), connections: count, baseline: helloReport))
        }

        var kinds: [PhaseReport] = []
        if byKind, let count = connections.first {
            for kind in HTTPBenchWorkload.mixKinds {
                progress("\(kind.rawValue) alone at \(count) connections…")
                kinds.append(
                    try await measured(
                        kind.rawValue, .only(kind, fixture, host: host, bids: bidPairs), .only(kind, fixture), connections: count,
                        baseline: phases.first))
            }
        }

        var storm: LoginStormReport?
        if loginClients > 0 {
            progress("\(loginReaders) readers alone…")
            let (alone, _) = try await phase(.reads(fixture, host: host), connections: loginReaders)
            progress("\(loginReaders) readers while \(loginClients) clients log in (bcrypt cost \(bcryptCost))…")
            // Logins queue for the hashing threads: their answers can take many seconds, so the grace is long.
            let (during, _) = try await phase(
                .loginStorm(fixture, host: host, logins: loginClients), connections: loginClients + loginReaders, grace: 120)
            storm = LoginStormReport(
                alone: alone, during: during, loginClients: loginClients, readers: loginReaders, bcryptCost: bcryptCost,
                memory: server.memory.resident)
        }

        let memory = server.memory
        return Report(
            machine: MachineInfo.summary,
            generator: (wrk.map {
                "wrk (\($0.path)), \(clientThreads) threads, a Lua script per phase, for phases of up to "
                    + "\(WrkLoadGenerator.maximumConnections) connections; above that and for the login storm, the "
            } ?? "")
                + "built-in: SwiftNIO HTTP/1.1 keep-alive connections, closed loop, \(clientThreads) event-loop threads; on the same machine",
            server:
                "`trades bench http-server` as a child process on \(database.description) (access log below its level, payments in memory)",
            helloWorld: Self.helloWorldNote, oneRead: Self.oneReadNote, mix: Self.mixNote, durationSeconds: duration, warmupSeconds: warmup,
            bcryptCost: bcryptCost,
            fixture: .init(
                size: size, bidsSubmitted: bidPairs.handedOut, bidCapacity: fixture.bidCapacity),
            phases: phases, byKind: kinds, loginStorm: storm, serverPeakRSSBytes: memory.peak,
            loadAverage: [loadAtStart, ProcessCPU.loadAverage].compactMap { $0 })
    }

    private func progress(_ line: String) {
        guard !json else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

extension HTTPBenchCommand {
    struct Report: Encodable {
        var machine: String
        var generator: String
        var server: String
        var helloWorld: String
        var oneRead: String
        var mix: String
        var durationSeconds: Double
        var warmupSeconds: Double
        var bcryptCost: Int
        var fixture: FixtureSummary
        var phases: [PhaseReport]
        /// Each kind of the mix's requests alone (`--by-kind`), against the first hello-world phase.
        var byKind: [PhaseReport]
        var loginStorm: LoginStormReport?
        var serverPeakRSSBytes: Int?
        /// The machine's 1-minute load average when measuring started and ended: anything above the 2 cores' worth of the
        /// benchmark itself means other work shared the cores.
        var loadAverage: [Double]
        var targets: [TargetReport] = []
        var errors: Int = 0

        init(
            machine: String, generator: String, server: String, helloWorld: String, oneRead: String, mix: String, durationSeconds: Double,
            warmupSeconds: Double,
            bcryptCost: Int, fixture: FixtureSummary, phases: [PhaseReport], byKind: [PhaseReport], loginStorm: LoginStormReport?,
            serverPeakRSSBytes: Int?,
            loadAverage: [Double]
        ) {
            self.loadAverage = loadAverage
            self.machine = machine
            self.generator = generator
            self.server = server
            self.helloWorld = helloWorld
            self.oneRead = oneRead
            self.mix = mix
            self.durationSeconds = durationSeconds
            self.warmupSeconds = warmupSeconds
            self.bcryptCost = bcryptCost
            self.fixture = fixture
            self.phases = phases
            self.byKind = byKind
            self.loginStorm = loginStorm
            self.serverPeakRSSBytes = serverPeakRSSBytes
            errors = (phases + byKind).map(\.errors).reduce(0, +) + (loginStorm?.errors ?? 0)
            // The targets are the mix's; the other phases are its baselines.
            // A ratio is missing when either side answered nothing: the target is then missed, never met by a zero.
            for phase in phases where phase.workload == "mix" {
                let throughput = phase.ratioToHelloRequestsPerSecond
                targets.append(
                    .init(
                        name: "mix req/s ≥ 0.5 × hello world at \(phase.connections) connections", value: throughput ?? 0,
                        met: throughput.map { $0 >= 0.5 } ?? false))
                let latency = phase.ratioToHelloP99
                targets.append(
                    .init(
                        name: "mix p99 ≤ 2 × hello world's at \(phase.connections) connections", value: latency ?? 0,
                        met: latency.map { $0 <= 2 } ?? false))
            }
            targets.append(.init(name: "0 errors", value: Double(errors), met: errors == 0))
            if let loginStorm {
                targets.append(
                    .init(
                        name: "read p99 < 50 ms during \(loginStorm.loginClients) concurrent logins", value: loginStorm.readsDuringP99Milliseconds,
                        met: loginStorm.readsDuringRequestsPerSecond > 0 && loginStorm.readsDuringP99Milliseconds < 50))
            }
        }
    }

    struct FixtureSummary: Encodable {
        var contractors: Int
        var openJobsWithBids: Int
        var bidsPerJob: Int
        var bidTargetJobs: Int
        var awardedJobsWithThreads: Int
        var messagesPerThread: Int
        var loginUsers: Int
        /// New bids the mix submitted, and how many distinct (contractor, job) pairs there were.
        var bidsSubmitted: Int
        var bidCapacity: Int

        init(size: HTTPBenchFixture.Size, bidsSubmitted: Int, bidCapacity: Int) {
            contractors = size.contractors
            openJobsWithBids = size.jobs
            bidsPerJob = size.bidsPerJob
            bidTargetJobs = size.bidTargets
            awardedJobsWithThreads = size.awardedJobs
            messagesPerThread = size.messagesPerThread
            loginUsers = size.loginUsers
            self.bidsSubmitted = bidsSubmitted
            self.bidCapacity = bidCapacity
        }
    }

    struct LatencySummary: Encodable {
        var count: Int
        var p50Milliseconds: Double
        var p99Milliseconds: Double

        init(_ latencies: [Double]) {
            count = latencies.count
            p50Milliseconds = latencies.percentile(50)
            p99Milliseconds = latencies.percentile(99)
        }
    }

    /// CPU seconds a phase cost.
    struct CPUTime {
        var server: Double?
        var generator: Double?
    }

    struct PhaseReport: Encodable {
        var workload: String
        /// `wrk` or `built-in`.
        var generator: String
        var connections: Int
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var errors: Int
        var errorDetail: [String: Int]
        var serverRSSBytes: Int?
        var ratioToHelloRequestsPerSecond: Double?
        var ratioToHelloP99: Double?
        /// Server CPU time (user + system) per answered request, warm-up included: what a request costs, whatever the load.
        var serverCPUMicrosecondsPerRequest: Double?
        /// The same for this process, the load generator.
        var generatorCPUMicrosecondsPerRequest: Double?
        var byRequest: [String: LatencySummary]

        init(_ result: HTTPLoadGenerator.PhaseResult, workload: String, memory: Int?, cpu: CPUTime, baseline: PhaseReport?) {
            let latencies = result.latencies()
            self.init(
                workload: workload, generator: "built-in", connections: result.connections, requestsPerSecond: result.requestsPerSecond,
                p50Milliseconds: latencies.percentile(50), p99Milliseconds: latencies.percentile(99), errorDetail: result.tally.errors,
                answered: result.tally.answered, memory: memory, cpu: cpu, baseline: baseline)
            byRequest = Dictionary(uniqueKeysWithValues: result.tally.latencies.map { ($0.key.rawValue, LatencySummary($0.value)) })
        }

        /// A phase measured by wrk, which times all requests together (no latency by kind).
        init(wrk result: WrkLoadGenerator.PhaseResult, workload: String, memory: Int?, cpu: CPUTime, baseline: PhaseReport?) {
            self.init(
                workload: workload, generator: "wrk", connections: result.connections, requestsPerSecond: result.measured.requestsPerSecond,
                p50Milliseconds: result.measured.p50Milliseconds, p99Milliseconds: result.measured.p99Milliseconds,
                errorDetail: result.measured.errors, answered: result.answered, memory: memory, cpu: cpu, baseline: baseline)
        }

        private init(
            workload: String, generator: String, connections: Int, requestsPerSecond: Double, p50Milliseconds: Double, p99Milliseconds: Double,
            errorDetail: [String: Int], answered: Int, memory: Int?, cpu: CPUTime, baseline: PhaseReport?
        ) {
            self.workload = workload
            self.generator = generator
            self.connections = connections
            self.requestsPerSecond = requestsPerSecond
            self.p50Milliseconds = p50Milliseconds
            self.p99Milliseconds = p99Milliseconds
            var errorDetail = errorDetail
            if requestsPerSecond <= 0 {
                // A server that answered nothing in the measured seconds has failed the phase. wrk counts no error for
                // requests still waiting when its run ends, so without this a stalled server would report 0 errors.
                errorDetail[Self.noAnswer, default: 0] += connections
            }
            errors = errorDetail.values.reduce(0, +)
            self.errorDetail = errorDetail
            serverRSSBytes = memory
            if let baseline, requestsPerSecond > 0, p99Milliseconds > 0, baseline.requestsPerSecond > 0, baseline.p99Milliseconds > 0 {
                ratioToHelloRequestsPerSecond = requestsPerSecond / baseline.requestsPerSecond
                ratioToHelloP99 = p99Milliseconds / baseline.p99Milliseconds
            }
            byRequest = [:]
            if answered > 0 {
                serverCPUMicrosecondsPerRequest = cpu.server.map { $0 * 1e6 / Double(answered) }
                generatorCPUMicrosecondsPerRequest = cpu.generator.map { $0 * 1e6 / Double(answered) }
            }
        }

        /// The error counted for each connection of a phase that answered nothing.
        static let noAnswer = "no answer in the measured seconds"
    }

    struct LoginStormReport: Encodable {
        var loginClients: Int
        var readers: Int
        var bcryptCost: Int
        var readsAloneRequestsPerSecond: Double
        var readsAloneP50Milliseconds: Double
        var readsAloneP99Milliseconds: Double
        var readsDuringRequestsPerSecond: Double
        var readsDuringP50Milliseconds: Double
        var readsDuringP99Milliseconds: Double
        var loginsPerSecond: Double
        var loginP50Milliseconds: Double
        var loginP99Milliseconds: Double
        var errors: Int
        var errorDetail: [String: Int]
        var serverRSSBytes: Int?

        init(
            alone: HTTPLoadGenerator.PhaseResult, during: HTTPLoadGenerator.PhaseResult, loginClients: Int, readers: Int, bcryptCost: Int,
            memory: Int?
        ) {
            self.loginClients = loginClients
            self.readers = readers
            self.bcryptCost = bcryptCost
            readsAloneRequestsPerSecond = alone.requestsPerSecond
            let aloneLatencies = alone.latencies()
            readsAloneP50Milliseconds = aloneLatencies.percentile(50)
            readsAloneP99Milliseconds = aloneLatencies.percentile(99)
            readsDuringRequestsPerSecond = during.rate(\.isRead)
            let reads = during.latencies(\.isRead)
            readsDuringP50Milliseconds = reads.percentile(50)
            readsDuringP99Milliseconds = reads.percentile(99)
            loginsPerSecond = during.rate { $0 == .login }
            let logins = during.latencies { $0 == .login }
            loginP50Milliseconds = logins.percentile(50)
            loginP99Milliseconds = logins.percentile(99)
            errors = alone.errors + during.errors
            errorDetail = alone.tally.errors.merging(during.tally.errors, uniquingKeysWith: +)
            serverRSSBytes = memory
        }
    }

    struct TargetReport: Encodable {
        var name: String
        var value: Double
        var met: Bool
    }
}

extension HTTPBenchCommand.Report {
    /// The report as text tables.
    var text: String {
        var lines = [
            "Machine: \(machine)",
            "Server: \(server)",
            "Load: \(generator)",
            "Hello world: \(helloWorld)",
            "One read: \(oneRead)",
            "Mix: \(mix)",
            "Fixture: \(fixture.contractors) contractors, \(fixture.openJobsWithBids) open jobs with \(fixture.bidsPerJob) bids, "
                + "\(fixture.bidTargetJobs) open jobs receiving new bids, \(fixture.awardedJobsWithThreads) awarded jobs with "
                + "\(fixture.messagesPerThread)-message threads; \(fixture.bidsSubmitted) bids submitted of \(fixture.bidCapacity) possible",
            String(format: "Each phase: %.1f s warm-up, then %.1f s measured.", warmupSeconds, durationSeconds),
            "Load average (1 min) at start and end: " + loadAverage.map { String(format: "%.2f", $0) }.joined(separator: ", ")
                + " (the benchmark alone keeps every core busy; more means other work shared them)",
            "",
            "workload   load by    conns      req/s        p50        p99   errors   server RSS   CPU µs/req (server, generator)   req/s ÷ hello   p99 ÷ hello",
        ]
        for phase in phases + byKind {
            var line =
                phase.workload.padded(9) + " " + phase.generator.padded(9)
                + String(
                    format: " %5d %10.1f %7.2f ms %7.2f ms %8d ", phase.connections, phase.requestsPerSecond, phase.p50Milliseconds,
                    phase.p99Milliseconds, phase.errors) + mebibytes(phase.serverRSSBytes).leftPadded(12)
                + (microseconds(phase.serverCPUMicrosecondsPerRequest) + ", " + microseconds(phase.generatorCPUMicrosecondsPerRequest)).leftPadded(33)
            if let throughput = phase.ratioToHelloRequestsPerSecond, let latency = phase.ratioToHelloP99 {
                line += String(format: "   %13.2f   %11.2f", throughput, latency)
            }
            lines.append(line)
        }
        for phase in phases where phase.workload == "mix" && !phase.byRequest.isEmpty {
            let parts = phase.byRequest.sorted { $0.key < $1.key }.map {
                $0.key + String(format: " %.2f/%.2f", $0.value.p50Milliseconds, $0.value.p99Milliseconds)
            }
            lines.append("  mix at \(phase.connections), p50/p99 ms by request: " + parts.joined(separator: ", "))
        }
        if let storm = loginStorm {
            lines.append("")
            lines.append(
                "Login storm (bcrypt cost \(storm.bcryptCost), hashed on the server's thread pool), server RSS \(mebibytes(storm.serverRSSBytes)):")
            lines.append(
                String(
                    format: "  %d readers alone:                        %8.1f reads/s   p50 %6.2f ms   p99 %6.2f ms", storm.readers,
                    storm.readsAloneRequestsPerSecond, storm.readsAloneP50Milliseconds, storm.readsAloneP99Milliseconds))
            lines.append(
                String(
                    format: "  %d readers while %d clients log in:      %8.1f reads/s   p50 %6.2f ms   p99 %6.2f ms", storm.readers,
                    storm.loginClients,
                    storm.readsDuringRequestsPerSecond, storm.readsDuringP50Milliseconds, storm.readsDuringP99Milliseconds))
            lines.append(
                String(
                    format: "  logins:                                  %8.1f /s        p50 %6.0f ms   p99 %6.0f ms", storm.loginsPerSecond,
                    storm.loginP50Milliseconds, storm.loginP99Milliseconds))
        }
        lines.append("")
        lines.append("Server peak RSS: \(mebibytes(serverPeakRSSBytes)). Errors: \(errors).")
        for phase in phases + byKind where phase.errors > 0 { lines.append("  \(phase.workload) at \(phase.connections): \(phase.errorDetail)") }
        if let storm = loginStorm, storm.errors > 0 { lines.append("  login storm: \(storm.errorDetail)") }
        lines.append("Targets:")
        for target in targets {
            lines.append("  \(target.met ? "met   " : "MISSED") \(target.name): \(String(format: "%.2f", target.value))")
        }
        return lines.joined(separator: "\n")
    }

    private func microseconds(_ value: Double?) -> String {
        guard let value else { return "n/a" }
        return String(format: "%.0f", value)
    }

    private func mebibytes(_ bytes: Int?) -> String {
        guard let bytes else { return "n/a" }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

extension String {
    /// Right-aligned in a column of `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
