import Logging
import ServiceLifecycle
import TradesKit

/// The marketplace's scheduled work, run every ``ServerConfiguration/scheduledWorkInterval`` (the first time one interval
/// after start) for each tenant the server serves: jobs past their auto-approve window are approved, settlements still
/// owed are carried out, payments held long enough for their authorisation to lapse soon are captured, and identity
/// records nothing needs any more (long-expired tokens, idle login throttles) are deleted. All are safe to run
/// concurrently and repeatedly, so several servers on one database may each run them. (Notices go out in their own
/// loop, ``NotificationWork``, so a slow provider never holds up a capture.)
///
/// A service of the application: it stops at the graceful shutdown, between rounds or by cancelling the wait.
struct ScheduledWork: PeriodicService {
    let market: Marketplace
    let mode: ServerConfiguration.Mode
    let interval: Duration
    let logger: Logger

    /// One round over the served tenants. Each task of each tenant runs whatever the others did: a failure is logged and
    /// the round goes on (auto-approvals that fail must not hold up money already owed).
    func runOnce() async {
        guard let tenants = await mode.servedTenants(of: market, logger: logger) else { return }
        for tenant in tenants {
            let approved = await attempt("auto_approvals", tenant) { try await market.jobs.runAutoApprovals(in: tenant.id) }
            let settled = await attempt("settlements", tenant) { try await market.payments.runPendingSettlements(in: tenant.id) }
            let captured = await attempt("hold_captures", tenant) { try await market.payments.runHoldCaptures(in: tenant.id) }
            let purged = await attempt("identity_purge", tenant) { try await market.identity.purgeExpiredRecords(in: tenant.id) }
            if approved + settled + captured + purged > 0 {
                logger.info(
                    "Scheduled work done",
                    metadata: [
                        "tradeskit.tenant": "\(tenant.id)", "tradeskit.approved": "\(approved)", "tradeskit.settled": "\(settled)",
                        "tradeskit.captured": "\(captured)", "tradeskit.purged": "\(purged)",
                    ])
            }
        }
    }

    /// What `task` did for `tenant` (a count), or 0 after logging its failure.
    private func attempt(_ task: String, _ tenant: Tenant, _ body: () async throws -> Int) async -> Int {
        do {
            return try await body()
        } catch {
            logger.warning(
                "Scheduled work failed for a tenant",
                metadata: [
                    "tradeskit.tenant": "\(tenant.id)", "tradeskit.task": "\(task)",
                    "tradeskit.error": "\((error as? TradesKitError)?.code.rawValue ?? "unknown")",
                ])
            return 0
        }
    }
}

extension ServerConfiguration.Mode {
    /// The tenants a server in this mode serves, or `nil` after logging that they could not be listed.
    func servedTenants(of market: Marketplace, logger: Logger) async -> [Tenant]? {
        do {
            return try await market.storage.allTenants().filter { tenant in
                if case .perTenant(let slug) = self { return tenant.slug == slug }
                return true
            }
        } catch {
            logger.warning("Background work could not list the tenants", metadata: ["tradeskit.error_type": "\(type(of: error))"])
            return nil
        }
    }
}

/// A service that runs a round of work every ``interval`` (the first one interval after start), until the graceful
/// shutdown, which it answers between rounds or by cancelling the wait.
protocol PeriodicService: Service {
    /// The time between the end of a round and the start of the next.
    var interval: Duration { get }
    /// One round.
    func runOnce() async
}

extension PeriodicService {
    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await runOnce()
            }
        }
    }
}
