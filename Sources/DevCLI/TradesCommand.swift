import ArgumentParser
import Foundation
import Logging
import ReferenceServer

/// `trades`: the TradesKit developer command.
@main
struct TradesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trades",
        abstract: "TradesKit: run the marketplace demo, serve the HTTP API, manage a database, benchmark storage and the server.",
        subcommands: [
            DemoCommand.self, MigrateCommand.self, SeedCommand.self, TenantCommand.self, BackupCommand.self, LedgerCommand.self,
            BenchCommand.self, DurabilityWriterCommand.self, ServeCommand.self,
        ]
    )

    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            let level = ProcessInfo.processInfo.environment["TRADESKIT_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            if command is ServeCommand {
                // The server logs one JSON line per request (and its warnings) on standard output.
                LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level ?? .info) }
            } else if command is HTTPBenchServerCommand {
                // The benchmark's server: the handler of `serve`, without the access log's lines (info).
                LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level ?? .warning) }
            } else {
                // The command prints its own output; library logs are for warnings and errors only.
                LoggingSystem.bootstrap { label in
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = level ?? .warning
                    return handler
                }
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            // Refused while running (a missing secret, an unknown tenant): the message alone. ArgumentParser would add
            // the root command's usage line, which says nothing about the subcommand that refused.
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            exit(withError: ExitCode.validationFailure)
        } catch {
            exit(withError: error)
        }
    }
}
