import DeviceWatchCore
import Foundation
import Prometheus
import Synchronization

/// The worker's metrics, in a Prometheus registry of its own (no global bootstrap, so several
/// workers in one test process keep separate figures), every family with its `# HELP` text.
///
/// Events (polls, deliveries, retries) are counted where they happen; levels (devices, alerts,
/// outbox, reload status) are set from a snapshot just before each scrape.
public final class WorkerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Gauges set at the latest refresh, so a label set that disappears reads 0 rather than its last value.
    private let levels = Mutex<[String: Prometheus.Gauge]>([:])

    /// What each family counts, and in what unit: the `# HELP` line Prometheus tools expect.
    public static let help: [String: String] = [
        "devicewatch_polls_total": "Polls of a workspace's device list, by outcome (success or failure after retries).",
        "devicewatch_poll_duration_seconds": "Time one poll of a workspace took, retries included, in seconds.",
        "devicewatch_last_successful_poll_timestamp_seconds":
            "When a workspace was last polled successfully, in seconds since the epoch (the API's clock).",
        "devicewatch_workspace_blind":
            "1 when a workspace has not been seen for stale_after (at once on 401, 403 or a missing scope), else 0.",
        "devicewatch_devices": "Devices of a workspace at its latest successful poll, by status.",
        "devicewatch_alerts": "Alerts devicewatch tracks, by rule, severity and state.",
        "devicewatch_alerts_flapping":
            "Alerts held firing as flapping (no page per flip until they are stable), by rule with flapping.",
        "devicewatch_notifications_total":
            "Delivery attempts of notifications, by receiver and outcome (sent, retry, dead).",
        "devicewatch_dispatcher_retries_total": "Delivery attempts that failed and will be tried again, by receiver.",
        "devicewatch_outbox_pending": "Notifications waiting in the outbox to be delivered.",
        "devicewatch_outbox_dead": "Notifications given up on (dead letters) still kept in the outbox.",
        "devicewatch_config_reload_success":
            "1 when the configuration files on disk are the ones running, 0 after a refused edit.",
        "devicewatch_config_reload_timestamp_seconds":
            "When the configuration was last loaded or a reload was attempted, in seconds since the epoch.",
        "devicewatch_ready": "1 when devicewatch is ready (as /readyz answers 200), else 0.",
        "devicewatch_store_failing":
            "1 while the state store keeps failing (devicewatch exits after store.give_up_after of it), else 0.",
        "devicewatch_store_errors_total": "State store operations that failed, by operation.",
        "devicewatch_leases_held": "Workspace leases this worker holds (PostgreSQL, several workers).",
        "devicewatch_lease_takeovers_total":
            "Workspaces this worker took over from another worker whose lease ran out or was given up.",
        "devicewatch_leases_lost_total": "Workspace leases this worker lost to another worker.",
        "devicewatch_fenced_cycles_total":
            "Cycles abandoned because another worker had taken their workspace over: nothing of them was written.",
        "devicewatch_outbox_claims_total": "Outbox rows this worker claimed for delivery (PostgreSQL).",
        "devicewatch_outbox_claims_lost_total":
            "Outcomes not recorded because another worker had claimed the row meanwhile: notifications that may have gone twice.",
    ]

    static let pollBuckets: [Duration] = [
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    public init() {}

    /// The whole name as the descriptor's `metricName`, with no unit appended: the exposition
    /// names each metric exactly as `name`.
    private func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.help[name] ?? "")
    }

    private func counter(_ name: String, _ labels: [(String, String)]) -> Prometheus.Counter {
        registry.makeCounter(descriptor: descriptor(name), labels: labels)
    }

    private func gauge(_ name: String, _ labels: [(String, String)]) -> Prometheus.Gauge {
        labels.isEmpty
            ? registry.makeGauge(descriptor: descriptor(name))
            : registry.makeGauge(descriptor: descriptor(name), labels: labels)
    }

    // MARK: Events

    /// One poll of a workspace and how it went (`success` or `failure`).
    public func poll(workspace: String, succeeded: Bool, duration: Duration) {
        counter("devicewatch_polls_total", [("workspace", workspace), ("outcome", succeeded ? "success" : "failure")])
            .increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "devicewatch_poll_duration_seconds", unitName: "",
                helpText: Self.help["devicewatch_poll_duration_seconds"]!),
            labels: [("workspace", workspace)], buckets: Self.pollBuckets
        ).record(duration)
    }

    /// What became of delivery attempts to one receiver.
    public func deliveries(receiver: String, sent: Int, retried: Int, dead: Int) {
        for (outcome, count) in [("sent", sent), ("retry", retried), ("dead", dead)] where count > 0 {
            counter("devicewatch_notifications_total", [("receiver", receiver), ("outcome", outcome)]).increment(
                by: Int64(count))
        }
        if retried > 0 {
            counter("devicewatch_dispatcher_retries_total", [("receiver", receiver)]).increment(by: Int64(retried))
        }
    }

    /// A workspace taken over from another worker.
    public func takeover() { counter("devicewatch_lease_takeovers_total", []).increment() }

    /// A workspace lease lost to another worker.
    public func leaseLost() { counter("devicewatch_leases_lost_total", []).increment() }

    /// A cycle abandoned at its fenced commit.
    public func fencedCycle() { counter("devicewatch_fenced_cycles_total", []).increment() }

    /// How many workspace leases this worker holds now.
    public func leases(held: Int) { gauge("devicewatch_leases_held", []).set(Double(held)) }

    /// Outbox rows claimed, and outcomes lost to another worker's claim.
    public func claims(claimed: Int, lost: Int) {
        if claimed > 0 { counter("devicewatch_outbox_claims_total", []).increment(by: Int64(claimed)) }
        if lost > 0 { counter("devicewatch_outbox_claims_lost_total", []).increment(by: Int64(lost)) }
    }

    /// A state store operation that failed.
    public func storeFailed(operation: String) {
        counter("devicewatch_store_errors_total", [("operation", operation)]).increment()
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
            values.append(
                ("devicewatch_alerts", [("rule", key[0]), ("severity", key[1]), ("state", key[2])], Double(count)))
        }
        var flapping: [String: Int] = [:]
        for rule in status.rules.rules where rule.flapping != nil { flapping[rule.id] = 0 }
        for alert in status.alerts where alert.flappingSince != nil { flapping[alert.key.ruleID, default: 0] += 1 }
        for (rule, count) in flapping {
            values.append(("devicewatch_alerts_flapping", [("rule", rule)], Double(count)))
        }
        for workspace in status.workspaces {
            let health = status.health[workspace]
            if let last = health?.lastSuccess {
                values.append(
                    (
                        "devicewatch_last_successful_poll_timestamp_seconds", [("workspace", workspace)],
                        last.timeIntervalSince1970
                    ))
            }
            values.append(
                (
                    "devicewatch_workspace_blind", [("workspace", workspace)],
                    status.blindWorkspaces.contains(workspace) ? 1 : 0
                ))
        }
        if let outbox = status.outbox {
            values.append(("devicewatch_outbox_pending", [], Double(outbox[.pending] ?? 0)))
            values.append(("devicewatch_outbox_dead", [], Double(outbox[.dead] ?? 0)))
        }
        values.append(("devicewatch_config_reload_success", [], status.reload.succeeded ? 1 : 0))
        values.append(("devicewatch_config_reload_timestamp_seconds", [], status.reload.at.timeIntervalSince1970))
        values.append(("devicewatch_ready", [], status.readiness.ready ? 1 : 0))
        values.append(("devicewatch_store_failing", [], status.store.failingSince == nil ? 0 : 1))

        levels.withLock { gauges in
            var seen = Set<String>()
            for value in values {
                let key = value.label + "|" + value.dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
                seen.insert(key)
                let gauge = gauges[key] ?? self.gauge(value.label, value.dimensions)
                gauge.set(value.value)
                gauges[key] = gauge
            }
            for (key, gauge) in gauges where !seen.contains(key) {
                registry.unregisterGauge(gauge)
                gauges[key] = nil
            }
        }
    }

    /// The Prometheus text exposition of everything.
    public func exposition() -> String { registry.emitToString() }
}
