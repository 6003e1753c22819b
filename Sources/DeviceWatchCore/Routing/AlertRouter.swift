import Foundation

/// The route stage: which receivers' groups each alert belongs to, by its rule's `notify` and
/// `group_by` (devicewatch's own alerts go to the meta receivers, by rule and workspace).
enum AlertRouter {
    /// A receiver's group and the alerts in it.
    struct Membership {
        var receiver: String
        var labels: GroupLabels
        var alerts: [AlertKey]
    }

    /// Every firing or resolved alert in each of its receivers' groups, by group id. A group's
    /// labels are built once, when its first member is met (a known group keeps its own, shared);
    /// an alert adds only its key.
    ///
    /// An alert firing unacknowledged longer than an escalation step's `after` is in the step's
    /// receivers' groups too; acknowledged, it escalates no further, but stays where it was told
    /// (so those receivers hear its resolve). `nextEscalation` is lowered to the next step due.
    static func members(
        book: AlertBook, rules: [String: Rule], defaults: RoutingDefaults, known: RoutingState,
        acknowledgements: Acknowledgements? = nil, now: Date? = nil, nextEscalation: inout Date?
    ) -> [String: Membership] {
        var members: [String: Membership] = [:]
        var sortedGroupBy: [[String]: [(label: String, name: String)]] = [:]
        var globs: [String: Glob] = [:]
        for (alertKey, alert) in book.alerts where alert.state != .pending {
            let rule = rules[alertKey.ruleID]
            // A rule's own `notify` bypasses the routes.
            let own = rule?.notify ?? []
            var receivers =
                alert.isMeta
                ? defaults.metaReceivers
                : !own.isEmpty || (defaults.routes.isEmpty && defaults.notify.isEmpty)
                    ? own : defaults.routedReceivers(alert)
            let steps = alert.isMeta ? [] : rule?.escalate ?? defaults.escalate
            guard !receivers.isEmpty || !steps.isEmpty else { continue }
            let groupBy = alert.isMeta ? ["rule", "workspace"] : (rule?.groupBy ?? defaults.groupBy)
            let names =
                sortedGroupBy[groupBy]
                ?? {
                    // Several workers: each workspace is planned by the worker holding it, so no
                    // group may span two (see ``RoutingDefaults/groupsPerWorkspace``).
                    let names = groupLabelNames(
                        defaults.groupsPerWorkspace && !groupBy.contains("workspace")
                            ? groupBy + ["workspace"] : groupBy)
                    sortedGroupBy[groupBy] = names
                    return names
                }()
            let values = names.map { GroupKey.value($0.name, alert, globs: &globs) ?? "" }
            let key = groupKeyParts(names, values)
            if !steps.isEmpty, alert.state == .firing, let since = alert.firingSince, let now {
                let acknowledged = acknowledgements?.of(alert) != nil
                for step in steps {
                    let due = since + step.after
                    guard due <= now else {
                        if !acknowledged { nextEscalation = min(nextEscalation ?? due, due) }
                        break
                    }
                    for receiver in step.notify where !receivers.contains(receiver) {
                        if acknowledged,
                            known.groups[exactString([receiver, ":"] + key)]?.told.contains(alertKey) != true
                        {
                            continue
                        }
                        receivers.append(receiver)
                    }
                }
            }
            for receiver in receivers {
                let id = exactString([receiver, ":"] + key)
                if members[id] == nil {
                    let labels =
                        known.groups[id]?.labels
                        ?? GroupLabels(sorted: zip(names, values).map { GroupLabels.Label(name: $0.label, value: $1) })
                    members[id] = Membership(receiver: receiver, labels: labels, alerts: [alertKey])
                } else {
                    members[id]!.alerts.append(alertKey)
                }
            }
        }
        return members
    }

    /// A group's label names in key order, each with the `group_by` entry it comes from (the
    /// last entry wins when two name the same label). `label:NAME` is the label NAME; every other
    /// entry (`tag:site-*` too) is its own label name.
    static func groupLabelNames(_ groupBy: [String]) -> [(label: String, name: String)] {
        var byLabel: [String: String] = [:]
        for name in groupBy { byLabel[name.hasPrefix("label:") ? String(name.dropFirst(6)) : name] = name }
        return byLabel.sorted { $0.key < $1.key }.map { (label: $0.key, name: $0.value) }
    }

    /// The parts of a group key, `{label="value",...}` in label order.
    static func groupKeyParts(_ names: [(label: String, name: String)], _ values: [String]) -> [String] {
        var parts = ["{"]
        for (index, (name, value)) in zip(names, values).enumerated() {
            parts += [index > 0 ? "," : "", name.label, "=\"", value, "\""]
        }
        parts.append("}")
        return parts
    }

    /// The parts joined in a string stored at exactly its length: appending grows a string's
    /// storage in steps, and one group id is kept per group.
    static func exactString(_ parts: [String]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count })
        for part in parts { bytes += part.utf8 }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func labelValue(_ name: String, _ alert: AlertInstance) -> String? {
        var globs: [String: Glob] = [:]
        return GroupKey.value(name, alert, globs: &globs)
    }
}
