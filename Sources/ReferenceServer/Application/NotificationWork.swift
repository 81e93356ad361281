import Logging
import ServiceLifecycle
import TradesKit

/// The notices of the tenants the server serves, sent every ``ServerConfiguration/notificationInterval`` through a
/// ``TradesKit/NotificationService``. A loop of its own, apart from ``ScheduledWork``: a slow e-mail or SMS provider
/// must not hold up the captures that keep a card authorisation from lapsing, and notices should not wait a minute.
///
/// A service of the application: it stops at the graceful shutdown, between rounds or by cancelling the wait; a round
/// cut short leaves its events claimed, and a later round sends them.
struct NotificationWork: PeriodicService {
    let notifications: NotificationService
    let market: Marketplace
    let mode: ServerConfiguration.Mode
    let interval: Duration
    let logger: Logger
    /// The most events one round handles per tenant, in batches of ``batch``: a backlog drains over rounds rather than
    /// holding up the other tenants.
    var eventsPerRound = 1_000
    static let batch = 200

    /// One round over the served tenants; a tenant's failure is logged and the round goes on.
    func runOnce() async {
        guard let tenants = await mode.servedTenants(of: market, logger: logger) else { return }
        for tenant in tenants where !Task.isCancelled {
            var report = NotificationService.Report()
            do {
                while report.handled < eventsPerRound {
                    let batch = try await notifications.deliverPending(in: tenant.id, limit: min(Self.batch, eventsPerRound - report.handled))
                    report.add(batch)
                    if batch.handled < Self.batch { break }
                }
            } catch {
                logger.warning(
                    "Notifications failed for a tenant",
                    metadata: ["tradeskit.tenant": "\(tenant.id)", "tradeskit.error": "\((error as? TradesKitError)?.code.rawValue ?? "unknown")"])
            }
            if report.handled > 0 {
                logger.info(
                    "Notifications sent",
                    metadata: [
                        "tradeskit.tenant": "\(tenant.id)", "tradeskit.delivered": "\(report.delivered)", "tradeskit.expired": "\(report.expired)",
                        "tradeskit.retried": "\(report.retried)", "tradeskit.dead_lettered": "\(report.deadLettered)",
                        "tradeskit.emails": "\(report.emails)", "tradeskit.sms": "\(report.sms)", "tradeskit.rejected": "\(report.rejected)",
                    ])
            }
        }
    }
}

extension NotificationService.Report {
    mutating func add(_ other: Self) {
        delivered += other.delivered
        expired += other.expired
        retried += other.retried
        deadLettered += other.deadLettered
        emails += other.emails
        sms += other.sms
        rejected += other.rejected
    }
}
