import Logging
import ServiceLifecycle
import TradesKit

/// The marketplace's scheduled work, run every ``ServerConfiguration/scheduledWorkInterval`` (the first time one interval
/// after start) for each tenant the server serves: jobs past their auto-approve window are approved, settlements still
/// owed are carried out, payments held long enough for their authorisation to lapse soon are captured, identity records
/// nothing needs any more (long-expired tokens, idle login throttles) are deleted, and, with a
/// ``TradesKit/NotificationService``, the outbox's pending notices are sent. All are safe to run concurrently and
/// repeatedly, so several servers on one database may each run them.
///
/// A service of the application: it stops at the graceful shutdown, between rounds or by cancelling the wait.
struct ScheduledWork: Service {
    let market: Marketplace
    let mode: ServerConfiguration.Mode
    let interval: Duration
    let logger: Logger
    /// Sends the outbox's notices each round, when set.
    var notifications: NotificationService? = nil
    /// The most events one round delivers per tenant, in batches of ``notificationBatch``: a backlog drains over rounds
    /// rather than holding up the other tenants.
    var notificationsPerRound = 1_000
    static let notificationBatch = 200

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await runOnce()
            }
        }
    }

    /// One round over the served tenants. Each task of each tenant runs whatever the others did: a failure is logged and
    /// the round goes on (auto-approvals that fail must not hold up money already owed).
    func runOnce() async {
        let tenants: [Tenant]
        do {
            tenants = try await market.storage.allTenants().filter { tenant in
                if case .perTenant(let slug) = mode { return tenant.slug == slug }
                return true
            }
        } catch {
            logger.warning("Scheduled work could not list the tenants", metadata: ["tradeskit.error_type": "\(type(of: error))"])
            return
        }
        for tenant in tenants {
            let approved = await attempt("auto_approvals", tenant) { try await market.jobs.runAutoApprovals(in: tenant.id) }
            let settled = await attempt("settlements", tenant) { try await market.payments.runPendingSettlements(in: tenant.id) }
            let captured = await attempt("hold_captures", tenant) { try await market.payments.runHoldCaptures(in: tenant.id) }
            let purged = await attempt("identity_purge", tenant) { try await market.identity.purgeExpiredRecords(in: tenant.id) }
            // After the others: the events they wrote are told in the same round.
            let notified = await attempt("notifications", tenant) { try await notify(tenant) }
            if approved + settled + captured + purged + notified > 0 {
                logger.info(
                    "Scheduled work done",
                    metadata: [
                        "tradeskit.tenant": "\(tenant.id)", "tradeskit.approved": "\(approved)", "tradeskit.settled": "\(settled)",
                        "tradeskit.captured": "\(captured)", "tradeskit.purged": "\(purged)", "tradeskit.notified": "\(notified)",
                    ])
            }
        }
    }

    /// Delivers the tenant's pending notices, batch after batch while batches come back full, up to
    /// ``notificationsPerRound`` events; answers how many events were handled.
    private func notify(_ tenant: Tenant) async throws -> Int {
        guard let notifications else { return 0 }
        var handled = 0
        while handled < notificationsPerRound {
            let report = try await notifications.deliverPending(in: tenant.id, limit: min(Self.notificationBatch, notificationsPerRound - handled))
            let count = report.delivered + report.retried + report.deadLettered
            handled += count
            if count < Self.notificationBatch { break }
        }
        return handled
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
