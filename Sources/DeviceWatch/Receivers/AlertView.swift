import DeviceWatchCore
import Foundation

/// One alert as receivers show it: its text rendered from the snapshot's facts, every piece of
/// device- or API-controlled text inert (``InertText``); receivers escape their own markup on top.
struct AlertView {
    var snapshot: AlertSnapshot
    var summary: String
    /// The rule's description, rendered with the values the summary sees.
    var description: String?
    var reasons: [String]
    var deviceName: String
    var deviceID: String

    init(_ snapshot: AlertSnapshot, context: RenderContext) {
        self.snapshot = snapshot
        deviceName = InertText.line(snapshot.device.displayName)
        // A fleet alert stands for its group: named by its key, with its size where a device's id goes.
        deviceID = snapshot.fleet.map { "group of \($0.total)" } ?? InertText.line(snapshot.device.id)
        // A rule's summary describes the problem ("offline for 17m"); rendered with a recovered
        // device's facts it would read "offline for 6s", so a resolve says what resolved instead.
        if snapshot.status == .resolved, snapshot.message == nil {
            summary = "\(deviceName): \(snapshot.key.ruleID) resolved"
        } else {
            summary = context.rules.summary(of: snapshot)
        }
        description = context.rules.description(of: snapshot)
        reasons = context.rules.reasons(for: snapshot)
    }

    var isFiring: Bool { snapshot.status != .resolved }
    /// Why it resolved, inert (`recovered`, `device removed`, ...).
    var resolveReason: String { InertText.line(snapshot.resolveReason ?? "recovered") }

    /// The values a Mustache template sees for one alert, each string escaped by `escape` (the
    /// receiver's markup), so a template's own text may be markup while device text stays inert.
    func templateValues(escaping escape: (String) -> String) -> [String: Any] {
        let device = snapshot.device
        var values: [String: Any] = [
            "id": escape(deviceID), "name": escape(deviceName),
            "tags": escape(InertText.line(device.tags.joined(separator: ", "))),
        ]
        for (key, value) in [
            ("hostname", device.hostname), ("rfdm_version", device.rfdmVersion), ("type", device.type),
        ] {
            if let value { values[key] = escape(InertText.line(value)) }
        }
        if let heartbeat = device.lastHeartbeat { values["last_heartbeat"] = Timestamp.format(heartbeat) }
        var alert: [String: Any] = [
            "summary": escape(summary), "severity": snapshot.severity.rawValue, "rule": snapshot.key.ruleID,
            "workspace": escape(snapshot.key.workspace), "fingerprint": snapshot.fingerprint,
            "status": isFiring ? "firing" : "resolved",
            "starts_at": Timestamp.format(snapshot.startsAt), "device": values,
            "reasons": escape(reasons.joined(separator: "; ")),
            "labels": snapshot.labels.mapValues { escape(InertText.line($0)) },
        ]
        if let description { alert["description"] = escape(description) }
        if let group = snapshot.fleet {
            alert["group"] =
                [
                    "key": escape(InertText.line(group.group)), "total": group.total, "matching": group.matching,
                    "percent": FleetFacts.percent(group.fraction),
                    "members": escape(group.memberList(fitting: TextLimit(2000))),
                ] as [String: Any]
        }
        if let ends = snapshot.endsAt { alert["ends_at"] = Timestamp.format(ends) }
        if snapshot.resolveReason != nil { alert["resolve_reason"] = escape(resolveReason) }
        return alert
    }
}

extension FleetFacts {
    /// The members meeting the rule's condition (those that do not, with `all`) as one line,
    /// `name (id) status; ...`, every name inert, cut between members to fit `limit` with the
    /// rest counted (`; and 12 more`).
    func memberList(fitting limit: TextLimit, all: Bool = false) -> String {
        let shown = all ? members : members.filter(\.matches)
        var text = ""
        for (index, member) in shown.enumerated() {
            let entry =
                (text.isEmpty ? "" : "; ")
                + "\(InertText.line(member.name)) (\(InertText.line(member.id))) \(InertText.line(member.status))"
            let rest = shown.count - index - 1
            let tail = rest > 0 ? "; and \(rest) more" : ""
            if (text + entry + tail).fits(limit) {
                text += entry
            } else {
                return text + (text.isEmpty ? "" : "; ") + "and \(shown.count - index) more"
            }
        }
        return text
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

    /// `rule` and `workspace` of the group, or of the first alert; inert.
    var title: String {
        let rule =
            intent.groupLabelPairs["rule"] ?? intent.firing.first?.key.ruleID ?? intent.resolved.first?.key.ruleID
            ?? "alerts"
        let workspace =
            intent.groupLabelPairs["workspace"] ?? intent.firing.first?.key.workspace
            ?? intent.resolved.first?.key.workspace
        return InertText.line(workspace.map { "\(rule) in \($0)" } ?? rule)
    }

    /// The group's workspace, inert.
    var workspace: String {
        InertText.line(
            intent.groupLabelPairs["workspace"] ?? intent.firing.first?.key.workspace ?? intent.resolved.first?.key
                .workspace ?? "-")
    }

    /// `[FIRING:3] production-offline in acme` (with `, 2 resolved` when some resolved).
    var headline: String { headline(escaping: { $0 }) }

    /// The headline with its title (group labels: device text when grouped by device or label)
    /// escaped by `escape`, the receiver's markup.
    func headline(escaping escape: (String) -> String) -> String {
        var text = isFiring ? "[FIRING:\(firingCount)] \(escape(title))" : "[RESOLVED] \(escape(title))"
        if isFiring, resolvedCount > 0 { text += ", \(resolvedCount) resolved" }
        return text
    }

    /// The values a receiver's Mustache template sees, device text escaped by `escape`.
    func templateValues(escaping escape: (String) -> String) -> [String: Any] {
        [
            "status": isFiring ? "firing" : "resolved", "receiver": intent.receiver,
            "group_key": escape(InertText.line(intent.groupKey)),
            "group_labels": intent.groupLabels.mapValues { escape(InertText.line($0)) }, "title": escape(title),
            "headline": headline(escaping: escape),
            "severity": severity.rawValue,
            "firing": firing.map { $0.templateValues(escaping: escape) },
            "resolved": resolved.map { $0.templateValues(escaping: escape) },
            "firing_count": firingCount, "resolved_count": resolvedCount,
            "more_firing": max(0, firingCount - firing.count), "more_resolved": max(0, resolvedCount - resolved.count),
            "external_url": externalURL ?? "", "reason": intent.reason.rawValue,
        ]
    }
}
