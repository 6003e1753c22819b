import DeviceWatchCore
import Foundation

/// One alert as receivers show it: its text rendered from the snapshot's facts.
struct AlertView {
    var snapshot: AlertSnapshot
    var summary: String
    var description: String?
    var reasons: [String]

    init(_ snapshot: AlertSnapshot, context: RenderContext) {
        self.snapshot = snapshot
        // A rule's summary describes the problem ("offline for 17m"); rendered with a recovered
        // device's facts it would read "offline for 6s", so a resolve says what resolved instead.
        if snapshot.status == .resolved, snapshot.message == nil {
            summary = "\(snapshot.device.displayName): \(snapshot.key.ruleID) resolved"
        } else {
            summary = context.rules.summary(of: snapshot)
        }
        description = context.rules.rule(snapshot.key.ruleID)?.description
        reasons = context.rules.reasons(for: snapshot)
    }

    var isFiring: Bool { snapshot.status != .resolved }
    var deviceName: String { snapshot.device.displayName }

    /// The values a Mustache template sees for one alert.
    var templateValues: [String: Any] {
        var device: [String: Any] = ["id": snapshot.device.id, "name": deviceName, "tags": snapshot.device.tags.joined(separator: ", ")]
        if let hostname = snapshot.device.hostname { device["hostname"] = hostname }
        if let version = snapshot.device.rfdmVersion { device["rfdm_version"] = version }
        if let type = snapshot.device.type { device["type"] = type }
        if let heartbeat = snapshot.device.lastHeartbeat { device["last_heartbeat"] = Timestamp.format(heartbeat) }
        var values: [String: Any] = [
            "summary": summary, "severity": snapshot.severity.rawValue, "rule": snapshot.key.ruleID,
            "workspace": snapshot.key.workspace, "fingerprint": snapshot.fingerprint, "status": isFiring ? "firing" : "resolved",
            "starts_at": Timestamp.format(snapshot.startsAt), "device": device, "reasons": reasons.joined(separator: "; "),
            "labels": snapshot.labels,
        ]
        if let description { values["description"] = description }
        if let ends = snapshot.endsAt { values["ends_at"] = Timestamp.format(ends) }
        if let reason = snapshot.resolveReason { values["resolve_reason"] = reason }
        return values
    }
}

/// A notification as receivers show it.
struct NotificationView {
    var intent: NotificationIntent
    var firing: [AlertView]
    var resolved: [AlertView]
    var externalURL: String?

    /// Renders at most `limit` alerts of each kind: a 15,000-device outage renders what is shown.
    init(_ intent: NotificationIntent, context: RenderContext, limit: Int = .max) {
        self.intent = intent
        firing = intent.firing.prefix(limit).map { AlertView($0, context: context) }
        resolved = intent.resolved.prefix(limit).map { AlertView($0, context: context) }
        externalURL = context.externalURL
    }

    var isFiring: Bool { !intent.firing.isEmpty }
    var firingCount: Int { intent.firing.count }
    var resolvedCount: Int { intent.resolved.count }

    /// The highest severity among firing alerts (resolved ones when none fire).
    var severity: Severity {
        (intent.firing.isEmpty ? intent.resolved : intent.firing).map(\.severity).max() ?? .info
    }

    /// `rule` and `workspace` of the group, or of the first alert.
    var title: String {
        let rule = intent.groupLabelPairs["rule"] ?? intent.firing.first?.key.ruleID ?? intent.resolved.first?.key.ruleID ?? "alerts"
        let workspace = intent.groupLabelPairs["workspace"] ?? intent.firing.first?.key.workspace ?? intent.resolved.first?.key.workspace
        return workspace.map { "\(rule) in \($0)" } ?? rule
    }

    /// `[FIRING:3] production-offline in acme` (with `, 2 resolved` when some resolved).
    var headline: String {
        var text = isFiring ? "[FIRING:\(firingCount)] \(title)" : "[RESOLVED] \(title)"
        if isFiring, resolvedCount > 0 { text += ", \(resolvedCount) resolved" }
        return text
    }

    /// The values a receiver's Mustache template sees.
    var templateValues: [String: Any] {
        [
            "status": isFiring ? "firing" : "resolved", "receiver": intent.receiver, "group_key": intent.groupKey,
            "group_labels": intent.groupLabels, "title": title, "headline": headline, "severity": severity.rawValue,
            "firing": firing.map(\.templateValues), "resolved": resolved.map(\.templateValues),
            "firing_count": firingCount, "resolved_count": resolvedCount,
            "more_firing": max(0, firingCount - firing.count), "more_resolved": max(0, resolvedCount - resolved.count),
            "external_url": externalURL ?? "", "reason": intent.reason.rawValue,
        ]
    }
}

extension String {
    /// At most `limit` characters, ending in `…` when cut.
    func truncated(to limit: Int) -> String {
        count <= limit ? self : String(prefix(max(0, limit - 1))) + "…"
    }
}
