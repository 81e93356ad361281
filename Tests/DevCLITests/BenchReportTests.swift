import Testing

@testable import DevCLI

/// The HTTP benchmark's report judges a server that answered nothing as failed: no target is met by a zero.
@Suite("trades bench http: the report")
struct BenchReportTests {
    private static func wrkPhase(_ workload: String, requests: Int, p99: Double, baseline: HTTPBenchCommand.PhaseReport?)
        -> HTTPBenchCommand.PhaseReport
    {
        let run = WrkLoadGenerator.Run(
            requests: requests, durationSeconds: 8, p50Milliseconds: p99 / 2, p99Milliseconds: p99, errors: [:], bidsPerThread: 0)
        let result = WrkLoadGenerator.PhaseResult(connections: 64, measured: run, answered: requests, generatorCPUSeconds: 1)
        return HTTPBenchCommand.PhaseReport(
            wrk: result, workload: workload, memory: nil, cpu: HTTPBenchCommand.CPUTime(server: 2, generator: 1), baseline: baseline)
    }

    private static func report(_ phases: [HTTPBenchCommand.PhaseReport], storm: HTTPBenchCommand.LoginStormReport? = nil)
        -> HTTPBenchCommand.Report
    {
        HTTPBenchCommand.Report(
            machine: "test", generator: "wrk", server: "test", helloWorld: "", oneRead: "", mix: "", durationSeconds: 8, warmupSeconds: 1,
            bcryptCost: 4,
            fixture: HTTPBenchCommand.FixtureSummary(
                size: HTTPBenchFixture.Size(
                    contractors: 1, jobs: 1, bidsPerJob: 1, bidTargets: 1, awardedJobs: 1, messagesPerThread: 1, loginUsers: 0),
                bidsSubmitted: 0, bidCapacity: 1),
            phases: phases, byKind: [], loginStorm: storm, serverPeakRSSBytes: nil, loadAverage: [])
    }

    /// A login storm whose readers answered `reads` searches in 1 ms each, alone and during the logins.
    private static func storm(reads: Int) -> HTTPBenchCommand.LoginStormReport {
        var tally = ConnectionTally()
        tally.completedByKind = reads > 0 ? [.searchJobs: reads] : [:]
        tally.latencies = reads > 0 ? [.searchJobs: Array(repeating: 1, count: reads)] : [:]
        tally.answered = reads
        let phase = HTTPLoadGenerator.PhaseResult(durationSeconds: 8, connections: 16, tally: tally)
        return HTTPBenchCommand.LoginStormReport(alone: phase, during: phase, loginClients: 50, readers: 16, bcryptCost: 4, memory: nil)
    }

    @Test("a phase that answered nothing counts an error per connection, and has no ratios and no CPU per request")
    func stalledPhase() {
        let hello = Self.wrkPhase("hello", requests: 200_000, p99: 5, baseline: nil)
        let stalled = Self.wrkPhase("mix", requests: 0, p99: 0, baseline: hello)
        #expect(stalled.errors == 64)
        #expect(stalled.errorDetail == [HTTPBenchCommand.PhaseReport.noAnswer: 64])
        #expect(stalled.ratioToHelloRequestsPerSecond == nil)
        #expect(stalled.ratioToHelloP99 == nil)
        #expect(stalled.serverCPUMicrosecondsPerRequest == nil)

        let targets = Self.report([hello, stalled]).targets
        #expect(targets.count == 3)
        #expect(targets.allSatisfy { !$0.met }, "\(targets)")
    }

    @Test("a phase that answered is judged on its ratios to hello world")
    func answeredPhase() {
        let hello = Self.wrkPhase("hello", requests: 200_000, p99: 5, baseline: nil)
        let mix = Self.wrkPhase("mix", requests: 120_000, p99: 8, baseline: hello)
        #expect(mix.errors == 0)
        #expect(mix.ratioToHelloRequestsPerSecond == 0.6)
        #expect(mix.ratioToHelloP99 == 1.6)
        #expect(mix.serverCPUMicrosecondsPerRequest.map { abs($0 - 2e6 / 120_000) < 1e-6 } == true)
        let targets = Self.report([hello, mix]).targets
        #expect(targets.map(\.met) == [true, true, true], "\(targets)")

        // The baselines (hello world, one read) set no targets of their own.
        let oneRead = Self.wrkPhase("one read", requests: 0, p99: 0, baseline: hello)
        #expect(Self.report([hello, oneRead, mix]).targets.count == 3)
    }

    @Test("reads during the login storm meet their target only if some were answered")
    func loginStorm() {
        let hello = Self.wrkPhase("hello", requests: 200_000, p99: 5, baseline: nil)
        let answered = Self.report([hello], storm: Self.storm(reads: 1_000)).targets.last
        #expect(answered?.met == true, "\(String(describing: answered))")
        let silent = Self.report([hello], storm: Self.storm(reads: 0)).targets.last
        #expect(silent?.name.hasPrefix("read p99") == true)
        #expect(silent?.met == false, "\(String(describing: silent))")
    }
}
