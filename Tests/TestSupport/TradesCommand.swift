public import Foundation

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
    public static func run(_ arguments: [String]) async throws -> Output {
        let executable = try executable()
        return try await Task.detached {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            // Read both pipes to the end before waiting, so a chatty command cannot block on a full pipe.
            async let standardError = errors.fileHandleForReading.readDataToEndOfFile()
            let standardOutput = output.fileHandleForReading.readDataToEndOfFile()
            let errorData = await standardError
            process.waitUntilExit()
            return Output(
                status: process.terminationStatus, standardOutput: String(decoding: standardOutput, as: UTF8.self),
                standardError: String(decoding: errorData, as: UTF8.self))
        }.value
    }
}
