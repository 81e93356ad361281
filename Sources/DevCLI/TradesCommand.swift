import ArgumentParser

/// `trades`: the TradesKit developer command.
@main
struct TradesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trades",
        abstract: "TradesKit: run the marketplace demo, manage a database, benchmark storage.",
        subcommands: [
            DemoCommand.self, MigrateCommand.self, SeedCommand.self, TenantCommand.self, BackupCommand.self, LedgerCommand.self,
            BenchCommand.self, DurabilityWriterCommand.self,
        ]
    )
}
