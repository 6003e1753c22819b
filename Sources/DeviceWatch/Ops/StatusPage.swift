import DeviceWatchCore
import Foundation
import Mustache

/// The status page at `/`: what a person on call opens first. Server-rendered HTML with no
/// external assets, readable on a phone, refreshing itself every 15 seconds. Every value is
/// HTML-escaped by Mustache, so a hostile device name renders as text.
enum StatusPage {
    static let template: MustacheTemplate = {
        do {
            return try MustacheTemplate(string: source)
        } catch {
            preconditionFailure("the built-in status page template does not parse: \(error)")
        }
    }()

    /// - Parameters:
    ///   - acknowledgement: the acknowledgement holding for an alert, if any.
    ///   - askForToken: the acknowledge buttons' forms ask for the admin token.
    static func render(
        status: WorkerStatus, notifications: [OutboxEntry], silences: [Silence], history: String = "",
        acknowledgement: (AlertInstance) -> Acknowledgement? = { _ in nil }, askForToken: Bool = false
    )
        -> String
    {
        var values = values(
            status: status, notifications: notifications, silences: silences, acknowledgement: acknowledgement)
        values["ask_token"] = askForToken
        values["style"] = style
        values["history_html"] = history
        return template.render(values)
    }

    static func values(
        status: WorkerStatus, notifications: [OutboxEntry], silences: [Silence],
        acknowledgement: (AlertInstance) -> Acknowledgement? = { _ in nil }
    ) -> [String: Any] {
        let now = status.now
        let firing = status.alerts.filter { $0.state == .firing }.sorted {
            ($0.severity, $1.firingSince ?? $1.activeSince) > ($1.severity, $0.firingSince ?? $0.activeSince)
        }
        let pending = status.alerts.filter { $0.state == .pending }.count
        let workspaces: [[String: Any]] = status.workspaces.sorted().map { workspace in
            let counts = status.fleet[workspace]
            let health = status.health[workspace]
            var values: [String: Any] = [
                "id": workspace, "blind": status.blindWorkspaces.contains(workspace), "polled": counts != nil,
                "online": counts?.online ?? 0, "offline": counts?.offline ?? 0, "unknown": counts?.unknown ?? 0,
                "total": counts?.total ?? 0,
                "firing": firing.filter { $0.key.workspace == workspace }.count,
            ]
            if let last = health?.lastSuccess { values["last_poll"] = ago(last, now: now) }
            if let failure = health?.failure, health?.failingSince != nil { values["failure"] = failure }
            // Several workers: who polls it (its device counts are that worker's to show).
            if let lease = status.lease, let held = lease.leases.first(where: { $0.workspace == workspace }),
                held.secondsLeft > 0
            {
                values["holder"] = held.owner == lease.owner ? "this worker" : held.owner
                values["elsewhere"] = held.owner != lease.owner
            }
            return values
        }
        let workers: [[String: Any]] = (status.lease?.workers ?? []).map { worker in
            let holds = (status.lease?.leases ?? []).filter { $0.owner == worker && $0.secondsLeft > 0 }
            return [
                "id": worker, "me": worker == status.lease?.owner,
                "holds": holds.map { "\($0.workspace) (epoch \($0.epoch))" }.joined(separator: ", "),
                "idle": holds.isEmpty,
            ]
        }
        // A site outage is hundreds of rows: a count per rule first, then the most severe and oldest.
        var byRule: [String: (severity: Severity, count: Int)] = [:]
        for alert in firing {
            let current = byRule[alert.key.ruleID]
            byRule[alert.key.ruleID] = (
                max(current?.severity ?? alert.severity, alert.severity), (current?.count ?? 0) + 1
            )
        }
        let ruleSummary: [[String: Any]] = byRule.sorted {
            ($0.value.severity, $0.value.count, $1.key) > ($1.value.severity, $1.value.count, $0.key)
        }
        .map { ["rule": $0.key, "severity": $0.value.severity.rawValue, "count": $0.value.count] }
        let alerts: [[String: Any]] = firing.prefix(alertRows).map { alert in
            let since = alert.firingSince ?? alert.activeSince
            var values: [String: Any] = [
                "fingerprint": alert.fingerprint, "severity": alert.severity.rawValue, "rule": alert.key.ruleID,
                "workspace": alert.key.workspace,
                "device": InertText.line(alert.device.displayName), "summary": status.rules.summary(of: alert),
                "since": ago(since, now: now), "since_at": Timestamp.format(since),
            ]
            if let group = alert.fleet {
                values["hostname"] = "\(group.matching) of \(group.total) devices"
            } else if let hostname = alert.device.hostname, hostname != alert.device.displayName {
                values["hostname"] = InertText.line(hostname)
            }
            if let description = status.rules.description(of: alert) { values["description"] = description }
            if alert.flappingSince != nil {
                values["flapping"] = "flapping: \(alert.flips?.count ?? 0) changes, held firing until stable"
            }
            if let acknowledged = acknowledgement(alert) { values["acknowledged"] = acknowledged.note.text }
            return values
        }
        let recent: [[String: Any]] = notifications.map { entry in
            var values: [String: Any] = [
                "receiver": entry.intent.receiver, "reason": entry.intent.reason.rawValue,
                "state": entry.state.rawValue,
                "firing": entry.intent.firing.count, "resolved": entry.intent.resolved.count,
                "attempts": entry.attempts,
                "when": ago(entry.createdAt, now: Date()), "when_at": Timestamp.format(entry.createdAt),
                "title": entry.intent.groupLabelPairs.labels.map { "\($0.name)=\($0.value)" }.joined(separator: " "),
            ]
            if let error = entry.lastError, entry.state != .sent { values["error"] = error }
            if entry.attempts > 0, entry.state != .sent {
                values["attempts_note"] = "\(entry.attempts) failed attempt(s)"
            }
            return values
        }
        let muted: [[String: Any]] = silences.map { silence in
            [
                "id": silence.id,
                "matchers": silence.matchers.map(\.description).joined(separator: " ")
                    + (silence.during.map { " during " + $0.joined(separator: ", ") } ?? ""),
                "author": silence.author,
                "comment": silence.comment, "ends": Timestamp.format(silence.endsAt),
                "ends_in": DurationText.format(seconds: max(0, silence.endsAt.timeIntervalSince(now))),
                "state": silence.isActive(at: now) ? "active" : "future",
            ]
        }
        let outbox = status.outbox
        var values: [String: Any] = [
            "ready": status.readiness.ready, "problems": status.readiness.problems,
            "reload_failed": !status.reload.succeeded,
            "reload_problems": status.reload.problems, "workspaces": workspaces, "alerts": alerts,
            "firing_count": firing.count,
            "pending_count": pending, "notifications": recent, "silences": muted, "updated": Timestamp.format(now),
            "outbox_pending": outbox?[.pending] ?? 0, "outbox_dead": outbox?[.dead] ?? 0,
        ]
        values["rule_summary"] = ruleSummary
        values["workers"] = workers
        values["has_workers"] = !workers.isEmpty
        if let lease = status.lease { values["database"] = lease.database }
        values["more_alerts"] = firing.count > alertRows ? firing.count - alertRows : 0
        values["has_more_alerts"] = firing.count > alertRows
        values["title_prefix"] = firing.isEmpty ? "" : "(\(firing.count)) "
        values["has_alerts"] = !alerts.isEmpty
        values["has_notifications"] = !recent.isEmpty
        values["has_silences"] = !muted.isEmpty
        values["has_dead"] = (outbox?[.dead] ?? 0) > 0
        return values
    }

    /// Firing alerts listed on the page; the rest are counted, and all are in `/api/v1/alerts`.
    static let alertRows = 25

    /// "4m ago", "2h ago".
    static func ago(_ date: Date, now: Date) -> String {
        let seconds = now.timeIntervalSince(date)
        guard seconds >= 1 else { return "just now" }
        return DurationText.format(seconds: seconds.rounded(.down)) + " ago"
    }
}
