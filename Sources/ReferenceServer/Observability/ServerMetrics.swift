import Foundation
import HTTPTypes
public import Prometheus

/// The server's Prometheus metrics: requests and latency by route template and status, and business counters.
///
/// Everything is recorded on one ``Prometheus/PrometheusCollectorRegistry`` that `/metrics` exports. Business
/// counters are counted here on successful requests rather than through the global swift-metrics system, so that a
/// server (and each test) owns its numbers.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` exports.
    public let registry: PrometheusCollectorRegistry
    let jobsPosted: Counter
    let bidsSubmitted: Counter
    let bidsAccepted: Counter

    private static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
    ]

    /// Creates the metrics on `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        jobsPosted = registry.makeCounter(descriptor: Self.name("jobs_posted", unit: "total", help: "Jobs posted through the API."))
        bidsSubmitted = registry.makeCounter(descriptor: Self.name("bids_submitted", unit: "total", help: "Bids submitted through the API."))
        bidsAccepted = registry.makeCounter(descriptor: Self.name("bids_accepted", unit: "total", help: "Bids accepted through the API."))
    }

    /// Records one answered request. `route` is a template (`/v1/jobs/{id}`), never a raw path, to bound cardinality.
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests answered."), labels: labels)
            .increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", unit: "seconds", help: "Time to answer HTTP requests."),
            labels: [("method", method), ("route", route)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    /// The exposition text.
    func exposition() -> String { registry.emitToString() }

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "tradeskit", metricName: metric, unitName: unit, helpText: help)
    }
}
