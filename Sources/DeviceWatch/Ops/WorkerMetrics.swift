import DeviceWatchCore
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The worker's metrics, through swift-metrics into a Prometheus registry of its own (no global
/// bootstrap, so several workers in one test process keep separate figures).
///
/// Events (polls, deliveries, retries) are counted where they happen; levels (devices, alerts,
/// outbox, reload status) are set from a snapshot just before each scrape.
public final class WorkerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// Gauges set at the latest refresh, so a label set that disappears reads 0 rather than its last value.
    private let levels = Mutex<[String: Metrics.Gauge]>([:])

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["devicewatch_poll_duration_seconds"] = [
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    // MARK: Events

    /// One poll of a workspace and how it went (`success` or `failure`).
    public func poll(workspace: String, succeeded: Bool, duration: Duration) {
        Counter(label: "devicewatch_polls_total", dimensions: [("workspace", workspace), ("outcome", succeeded ? "success" : "failure")],
            factory: factory).increment()
        Metrics.Timer(label: "devicewatch_poll_duration_seconds", dimensions: [("workspace", workspace)], factory: factory)
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// What became of delivery attempts to one receiver.
    public func deliveries(receiver: String, sent: Int, retried: Int, dead: Int) {
        for (outcome, count) in [("sent", sent), ("retry", retried), ("dead", dead)] where count > 0 {
            Counter(label: "devicewatch_notifications_total", dimensions: [("receiver", receiver), ("outcome", outcome)], factory: factory)
                .increment(by: count)
        }
        if retried > 0 {
            Counter(label: "devicewatch_dispatcher_retries_total", dimensions: [("receiver", receiver)], factory: factory).increment(by: retried)
        }
    }

    // MARK: Levels

    /// Sets every level from one snapshot of the worker.
    public func refresh(_ status: WorkerStatus) {
        var values: [(label: String, dimensions: [(String, String)], value: Double)] = []
        for (workspace, counts) in status.fleet {
            for (state, count) in counts.byStatus {
                values.append(("devicewatch_devices", [("workspace", workspace), ("status", state)], Double(count)))
            }
        }
        var alerts: [[String]: Int] = [:]
        for alert in status.alerts {
            alerts[[alert.key.ruleID, alert.severity.rawValue, alert.state.rawValue], default: 0] += 1
        }
        for (key, count) in alerts {
            values.append(("devicewatch_alerts", [("rule", key[0]), ("severity", key[1]), ("state", key[2])], Double(count)))
        }
        for workspace in status.workspaces {
            let health = status.health[workspace]
            if let last = health?.lastSuccess {
                values.append(("devicewatch_last_successful_poll_timestamp_seconds", [("workspace", workspace)], last.timeIntervalSince1970))
            }
            values.append(("devicewatch_workspace_blind", [("workspace", workspace)], status.blindWorkspaces.contains(workspace) ? 1 : 0))
        }
        if let outbox = status.outbox {
            values.append(("devicewatch_outbox_pending", [], Double(outbox[.pending] ?? 0)))
            values.append(("devicewatch_outbox_dead", [], Double(outbox[.dead] ?? 0)))
        }
        values.append(("devicewatch_config_reload_success", [], status.reload.succeeded ? 1 : 0))
        values.append(("devicewatch_config_reload_timestamp_seconds", [], status.reload.at.timeIntervalSince1970))
        values.append(("devicewatch_ready", [], status.readiness.ready ? 1 : 0))

        levels.withLock { gauges in
            var seen = Set<String>()
            for value in values {
                let key = value.label + "|" + value.dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
                seen.insert(key)
                let gauge = gauges[key] ?? Metrics.Gauge(label: value.label, dimensions: value.dimensions, factory: factory)
                gauge.record(value.value)
                gauges[key] = gauge
            }
            for (key, gauge) in gauges where !seen.contains(key) {
                gauge.destroy()
                gauges[key] = nil
            }
        }
    }

    /// The Prometheus text exposition of everything.
    public func exposition() -> String { registry.emitToString() }
}
