import ArgumentParser
import Foundation
import StorageSQLite
import TradesKit
import TradesKitTesting

/// A hidden helper for the durability test: commits accept change sets one after another and prints `ack <job id>`
/// after each commit returns, until killed. The test kills it with SIGKILL and checks every acknowledged job.
struct DurabilityWriterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "durability-writer", abstract: "Test helper: write until killed.",
        shouldDisplay: false)

    @OptionGroup var options: DatabaseOptions
    @Option(help: "Stop after this many accepts.") var count: Int = 1_000_000

    /// Writes a line straight to the file descriptor: the test reads it the moment the commit has returned.
    private func acknowledge(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func run() async throws {
        let storage = try options.openSQLite()
        let market = Marketplace(storage: storage, payments: MemoryPaymentProcessor(), passwordHasher: MemoryPasswordHasher())
        let op = PlatformOperator(label: "durability")
        let tenant = try await market.tenants.create(
            by: op, .init(slug: "durability", displayName: "Durability", settings: .defaults(named: "Durability")))
        guard let category = try await market.catalog.categories(in: tenant.id).first else { throw ExitCode(2) }
        let owner = try await market.users.register(
            in: tenant.id,
            .init(
                email: "owner@durability.example", password: "durability-password",
                displayName: "Owner", role: .homeowner))
        let contractor = try await market.users.register(
            in: tenant.id,
            .init(
                email: "pro@durability.example", password: "durability-password",
                displayName: "Pro", role: .contractor))
        let ownerP = Principal(tenantID: tenant.id, userID: owner.id, role: .homeowner)
        let proP = Principal(tenantID: tenant.id, userID: contractor.id, role: .contractor)
        let here = GeoPoint(latitude: 51.5, longitude: -0.12)
        _ = try await market.contractors.saveProfile(by: proP, .init(trades: [category.id], serviceArea: GeoCircle(center: here, radiusKm: 50)))
        acknowledge("ready \(tenant.id)")
        for index in 0..<count {
            let job = try await market.jobs.post(
                by: ownerP,
                .init(
                    categoryID: category.id, title: "Job \(index)", description: "Durability",
                    location: here, budget: BudgetRange(min: Money(100, .usd), max: Money(10_000, .usd))))
            let bid = try await market.bids.submit(by: proP, on: job.id, .init(amount: Money(Int64(1_000 + index), .usd)))
            _ = try await market.bids.accept(by: ownerP, bid.id)
            acknowledge("ack \(job.id)")
        }
    }
}
