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
    @Test("GET /v1/bench/hello exists only when the benchmark asks for it, goes through the middleware, and is not documented")
    func helloRoute() async throws {
        let plain = try await TestServer()
        let absent = try await plain.server.makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/bench/hello", method: .get).status
        }
        #expect(absent == .notFound)

        let bench = try await TestServer { $0.benchmarkRoute = true }
        try await bench.server.makeApplication().test(.router) { client in
            let response = try await client.execute(uri: "/v1/bench/hello", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == "Hello, world!")
            #expect(response.headers[.requestID] != nil)
            #expect(response.headers[HTTPField.Name("X-Content-Type-Options") ?? .contentType] == "nosniff")
        }
        #expect(bench.server.openAPIDocument["paths"]?["/v1/bench/hello"] == nil)
    }

    @Test("A fraction of a second of every phase (each kind of the mix alone too), at bcrypt cost 4, answers every request with 2xx")
    func shortRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-bench-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try await TradesCommand.run([
            "bench", "http", "--json", "--duration", "0.3", "--warmup", "0.1", "--connections", "4", "--login-clients", "2",
            "--login-readers", "2", "--bcrypt-cost", "4", "--contractors", "10", "--jobs", "10", "--bid-targets", "20", "--awarded-jobs", "4",
            "--by-kind", "--directory", directory.path,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "the temporary database is removed")
        let printed = Data(run.standardOutput.utf8)
        let report = try JSONDecoder().decode(Summary.self, from: printed)
        #expect(report.errors == 0, "\(String(decoding: printed, as: UTF8.self))")
        #expect(report.phases.map(\.workload) == ["hello", "mix"])
        for phase in report.phases {
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

    /// What the test reads of `--json`.
    struct Summary: Decodable {
        struct Phase: Decodable {
            let workload: String
            let errors: Int
            let requestsPerSecond: Double
        }
        struct LoginStorm: Decodable {
            let errors: Int
            let readsDuringRequestsPerSecond: Double
        }
        let errors: Int
        let phases: [Phase]
        let byKind: [Phase]
        let loginStorm: LoginStorm?
    }
}
