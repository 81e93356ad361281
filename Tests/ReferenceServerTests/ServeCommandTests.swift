import Foundation
import HTTPTypes
import HummingbirdTesting
import ProcessSupport
import ReferenceServer
import TestSupport
import Testing
import TradesKit

/// `trades serve` run as a user runs it, and the server on a real socket.
@Suite("trades serve", .serialized)
struct ServeCommandTests {
    /// Starts `trades serve` with `arguments`, without TRADESKIT_JWT_SECRET unless given.
    static func environment(secret: String?, totpKey: String?) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["TRADESKIT_JWT_SECRET"] = secret
        environment["TRADESKIT_OPERATOR_TOKEN"] = nil
        environment["TRADESKIT_TOTP_KEY"] = totpKey
        return environment
    }

    /// `trades serve` with `arguments`, run to its end (for the refusals).
    static func refused(_ arguments: [String], secret: String? = nil, totpKey: String? = nil) async throws -> TradesCommand.Output {
        try await TradesCommand.run(["serve"] + arguments, environment: environment(secret: secret, totpKey: totpKey))
    }

    /// Starts `trades serve`; its standard error (logs) is discarded, its standard output is for the test to read.
    static func start(_ arguments: [String], secret: String? = nil, totpKey: String? = nil) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = try TradesCommand.executable()
        process.arguments = ["serve"] + arguments
        process.environment = environment(secret: secret, totpKey: totpKey)
        let out = TradesCommand.pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, out)
    }

    static func temporaryDatabase() throws -> (path: String, cleanup: () -> Void) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory.appendingPathComponent("trades.sqlite").path, { try? FileManager.default.removeItem(at: directory) })
    }

    @Test("A malformed postgres:// URL is refused with a clear message that repeats no secret; so is a missing secret outside development")
    func refusals() async throws {
        let postgres = try await Self.refused(
            ["--database", "postgres://:hunter2-secret@localhost/trades"], secret: String(repeating: "s", count: 40))
        #expect(postgres.status != 0)
        #expect(postgres.standardError.contains("no user name"))
        #expect(!postgres.all.contains("hunter2"))

        let database = try Self.temporaryDatabase()
        defer { database.cleanup() }
        let noSecret = try await Self.refused(["--database", database.path])
        #expect(noSecret.status != 0)
        #expect(noSecret.standardError.contains("TRADESKIT_JWT_SECRET"))
        // A refusal while running is its message alone, not the root command's usage line.
        #expect(!noSecret.standardError.contains("Usage:"), "\(noSecret.standardError)")
    }

    @Test("--help says where e-mails go; a bad --public-url or TRADESKIT_TOTP_KEY is refused")
    func emailAndKeys() async throws {
        let text = try await Self.refused(["--help"]).standardOutput
        #expect(text.contains("no e-mail provider") && text.contains("--public-url") && text.contains("TRADESKIT_TOTP_KEY"), "\(text)")

        let database = try Self.temporaryDatabase()
        defer { database.cleanup() }
        let secret = String(repeating: "s", count: 40)
        for (arguments, key, complaint) in [
            (["--public-url", "ftp://example.com"], nil, "--public-url"), (["--public-url", "https://example.com/?a=b"], nil, "--public-url"),
            ([], "c2hvcnQ=", "TRADESKIT_TOTP_KEY"),
        ] as [([String], String?, String)] {
            let run = try await Self.refused(["--database", database.path] + arguments, secret: secret, totpKey: key)
            #expect(run.status != 0)
            #expect(run.standardError.contains(complaint))
        }
    }

    @Test("--development on a new database creates the demo tenant and admin, prints them, and stops cleanly on SIGTERM")
    func development() async throws {
        let database = try Self.temporaryDatabase()
        defer { database.cleanup() }
        for round in 1...2 {
            let (process, out) = try Self.start(["--development", "--database", database.path, "--port", "0", "--bcrypt-cost", "4"])
            // The JSON log line of Hummingbird says when the server (and its signal handling) is up.
            let printed = await TradesCommand.read(out, of: process) { $0.contains("Server started") }
            #expect(printed.contains("listening on http://127.0.0.1:0"), "\(printed)")
            #expect(printed.contains("Admin: admin@demo.example.com / ") == (round == 1), "\(printed)")
            process.terminate()
            let stopping = await TradesCommand.read(out, of: process) { $0.contains("Server stopped") }
            #expect(stopping.contains("Server stopped"), "round \(round): \(stopping)")
            #expect(await TradesCommand.termination(of: process) == .exited(0), "round \(round)")
        }
    }

    @Test("The server answers on a real socket")
    func live() async throws {
        let harness = try await TestServer { $0.port = 0 }
        let world = try await harness.world()
        try await harness.server.makeApplication().test(.live) { client in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(world.owner.token)"
            let response = try await client.execute(uri: "/v1/me", method: .get, headers: headers)
            #expect(response.status == .ok)
            #expect(response.headers[.requestID] != nil)
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }
}
