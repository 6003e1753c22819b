import DeviceWatchCore
import Foundation

/// A notification as receivers show it.
struct NotificationView {
    var intent: NotificationIntent
    var firing: [AlertSnapshot]
    var resolved: [AlertSnapshot]
    var externalURL: String?

    /// Renders at most `limit` alerts of each kind: a 15,000-device outage renders what is shown.
    init(_ intent: NotificationIntent, context: RenderContext, limit: Int = .max) {
        self.intent = intent
        firing = intent.firing.prefix(limit).map(context.rules.withText)
        resolved = intent.resolved.prefix(limit).map(context.rules.withText)
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
