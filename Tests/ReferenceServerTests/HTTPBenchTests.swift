import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReferenceServer
import TestSupport
import Testing
import TradesKit

/// `trades bench http`: its hello-world route exists only for it, and a short run answers every request with 2xx.
/// Behaviour only: the figures of a debug build say nothing.
@Suite("trades bench http", .serialized)
struct HTTPBenchTests {
    @Test("GET /v1/bench/hello and /v1/bench/read exist only when the benchmark asks for them, go through the middleware, and are not documented")
    func baselineRoutes() async throws {
        let plain = try await TestServer()
        _ = try await plain.world()
        try await plain.server.makeApplication().test(.router) { client in
            let hello = try await client.execute(uri: "/v1/bench/hello", method: .get)
            let read = try await client.execute(uri: "/v1/bench/read", method: .get, headers: [.tenant: "acme"])
            #expect(hello.status == .notFound)
            #expect(read.status == .notFound)
        }

        let bench = try await TestServer { $0.benchmarkRoute = true }
        _ = try await bench.world()
        try await bench.server.makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/bench/hello", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "Hello, world!")
            #expect(response.headers[.requestID] != nil)
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options") ?? .contentType] == "nosniff")

            // One read: the tenant's row, read from storage, for the tenant the request names.
            let read = try await client.execute(uri: "/v1/bench/read", method: .get, headers: [.tenant: "acme"])
            #expect(read.status == .ok)
            #expect(String(buffer: read.body) == "acme")
            #expect(read.headers[.requestID] != nil)
            let unnamed = try await client.execute(uri: "/v1/bench/read", method: .get)
            #expect(unnamed.status == .badRequest)
            #expect(unnamed.headers[.contentType] == "application/problem+json")
            let unknown = try await client.execute(uri: "/v1/bench/read", method: .get, headers: [.tenant: "nobody"])
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType] == "application/problem+json")
        }
        #expect(bench.server.openAPIDocument["paths"]?["/v1/bench/hello"] == nil)
        #expect(bench.server.openAPIDocument["paths"]?["/v1/bench/read"] == nil)
    }

    @Test("Two seconds of every phase (each kind of the mix alone too), at bcrypt cost 4, answers every request with 2xx")
    func shortRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-bench-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // 6 000 (contractor, job) pairs: room for every bid the phases send (a repeat would be a 409, an error).
        let run = try await TradesCommand.run([
            // Phases of two seconds: on a machine busy with the rest of the suite, a shorter one can pass without a single
            // answer, which the report counts as an error per connection.
            "bench", "http", "--json", "--duration", "2", "--warmup", "0.1", "--connections", "4", "--login-clients", "2",
            "--login-readers", "2", "--bcrypt-cost", "4", "--contractors", "10", "--jobs", "10", "--bid-targets", "600", "--awarded-jobs", "4",
            "--by-kind", "--directory", directory.path, "--generator", "builtin",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "the temporary database is removed")
        let printed = Data(run.standardOutput.utf8)
        let report = try JSONDecoder().decode(Summary.self, from: printed)
        #expect(report.errors == 0, "\(String(decoding: printed, as: UTF8.self))")
        #expect(report.phases.map(\.workload) == ["hello", "one read", "mix"])
        for phase in report.phases {
            #expect(phase.generator == "built-in")
            #expect(phase.errors == 0)
            #expect(phase.requestsPerSecond > 0)
        }
        #expect(report.loginStorm?.errors == 0)
        #expect((report.loginStorm?.readsDuringRequestsPerSecond ?? 0) > 0)
        // Each kind of the mix alone, every answer 2xx (a submitted bid too: each pair is handed out once).
        #expect(report.byKind.map(\.workload) == ["searchJobs", "jobDetail", "listBids", "submitBid", "listMessages", "postMessage"])
        for phase in report.byKind {
            #expect(phase.errors == 0, "\(phase.workload)")
            #expect(phase.requestsPerSecond > 0, "\(phase.workload)")
        }
    }

    @Test("With wrk (installed by .ci/run): hello world and the mix from its Lua script, every answer 2xx, new bids each to a fresh pair")
    func wrk() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/wrk")
        else {
            Issue.record("wrk is not installed (Debian: apt-get install wrk; .ci/run installs it)")
            return
        }
        // Runs of wrk last whole seconds; 300 bid targets leave room for every bid the mix sends in them.
        let run = try await TradesCommand.run([
            "bench", "http", "--json", "--duration", "1", "--warmup", "0", "--connections", "4", "--login-clients", "2",
            "--login-readers", "2", "--bcrypt-cost", "4", "--contractors", "10", "--jobs", "10", "--bid-targets", "300", "--awarded-jobs", "4",
            "--generator", "wrk",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let report = try JSONDecoder().decode(Summary.self, from: Data(run.standardOutput.utf8))
        #expect(report.generator.hasPrefix("wrk"), "\(report.generator)")
        #expect(report.errors == 0, "\(run.standardOutput)")
        #expect(report.phases.map(\.workload) == ["hello", "one read", "mix"])
        for phase in report.phases {
            #expect(phase.generator == "wrk", "\(phase.workload)")
            #expect(phase.errors == 0)
            #expect(phase.requestsPerSecond > 0)
            #expect((phase.serverCPUMicrosecondsPerRequest ?? 0) > 0 && (phase.generatorCPUMicrosecondsPerRequest ?? 0) > 0, "\(phase.workload)")
        }
        // Every submitted bid was answered 2xx (no 409 for a pair taken twice), and the mix did submit some.
        #expect(report.fixture.bidsSubmitted > 0)
        #expect(report.loginStorm?.errors == 0)
    }

    @Test("--generator wrk without wrk on PATH is refused with a clear message")
    func wrkMissing() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-empty-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let run = try await TradesCommand.run(["bench", "http", "--generator", "wrk"], environment: ["PATH": empty.path])
        #expect(run.status != 0)
        #expect(run.standardError.contains("wrk is not on PATH"), "\(run.standardError)")
    }

    /// What the test reads of `--json`.
    struct Summary: Decodable {
        struct Phase: Decodable {
            let workload: String
            let generator: String
            let errors: Int
            let requestsPerSecond: Double
            let serverCPUMicrosecondsPerRequest: Double?
            let generatorCPUMicrosecondsPerRequest: Double?
        }
        struct LoginStorm: Decodable {
            let errors: Int
            let readsDuringRequestsPerSecond: Double
        }
        struct Fixture: Decodable {
            let bidsSubmitted: Int
        }
        let generator: String
        let fixture: Fixture
        let errors: Int
        let phases: [Phase]
        let byKind: [Phase]
        let loginStorm: LoginStorm?
    }
}
