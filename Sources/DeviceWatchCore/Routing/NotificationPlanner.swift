import Foundation

/// Routes alerts to receivers, groups them, applies silences and inhibition, and decides what to
/// send now. Pure: the alert book, rules, silences and time are arguments; intents are the result.
///
/// Per (receiver, group): the first notification goes out `group_wait` after the group appears,
/// later changes at most every `group_interval`, and an unchanged firing group again every
/// `repeat_every`. Muted (silenced or inhibited) alerts are tracked, not sent; but a receiver told
/// that an alert fired is always told when it resolves, muted or not.
public enum NotificationPlanner {
    public static func plan(
        book: inout AlertBook, state: inout RoutingState, rules: RuleSet, defaults: RoutingDefaults,
        silences: [Silence], at now: Date
    ) -> [NotificationIntent] {
        var intents: [NotificationIntent] = []
        plan(book: &book, state: &state, rules: rules, defaults: defaults, silences: silences, at: now) {
            intents.append($0)
        }
        return intents
    }

    /// The same, handing each intent to `emit` as soon as it is planned, in group order: a caller
    /// that writes them out never holds a large outage's notifications all at once.
    /// - Returns: when a notification may next be due if nothing else changes (a group's
    ///   `group_wait`, `group_interval` or `repeat_every` running out, a silence ending); nil
    ///   when none is waiting. Until then, planning again without a poll finds nothing to send.
    @discardableResult
    public static func plan(
        book: inout AlertBook, state: inout RoutingState, rules: RuleSet, defaults: RoutingDefaults,
        silences: [Silence], at now: Date,
        emit: (NotificationIntent) -> Void
    ) -> Date? {
        var nextDue: Date?
        func soonest(_ time: Date) { nextDue = min(nextDue ?? time, time) }
        let rulesByID = Dictionary(rules.rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let inhibited = inhibitedAlerts(book: book, rules: rulesByID)
        let activeSilences = silences.filter { $0.isActive(at: now) }

        // Membership: every firing or resolved alert in each of its receivers' groups. A group's
        // labels are built once, when its first member is met; an alert adds only its group key.
        var members: [String: (receiver: String, labels: GroupLabels, alerts: [AlertKey])] = [:]
        var sortedGroupBy: [[String]: [(label: String, name: String)]] = [:]
        for (alertKey, alert) in book.alerts where alert.state != .pending {
            let rule = rulesByID[alertKey.ruleID]
            let receivers = alert.isMeta ? defaults.metaReceivers : (rule?.notify ?? [])
            guard !receivers.isEmpty else { continue }
            let groupBy = alert.isMeta ? ["rule", "workspace"] : (rule?.groupBy ?? defaults.groupBy)
            let names =
                sortedGroupBy[groupBy]
                ?? {
                    let names = groupLabelNames(groupBy)
                    sortedGroupBy[groupBy] = names
                    return names
                }()
            let values = names.map { labelValue($0.name, alert) ?? "" }
            let key = groupKeyParts(names, values)
            for receiver in receivers {
                let id = exactString([receiver, ":"] + key)
                if members[id] == nil {
                    // A known group's labels are its own (shared), not built again every cycle.
                    let labels =
                        state.groups[id]?.labels
                        ?? GroupLabels(sorted: zip(names, values).map { GroupLabels.Label(name: $0.label, value: $1) })
                    members[id] = (receiver, labels, [alertKey])
                } else {
                    members[id]!.alerts.append(alertKey)
                }
            }
        }

        // Not cached across groups: each intent keeps its own copy of a snapshot anyway, and a
        // cache of 10,000 snapshots would only add to a large cycle's peak memory.
        func snapshotOf(_ key: AlertKey) -> AlertSnapshot {
            book.alerts[key].map(snapshot) ?? removedSnapshot(key, at: now)
        }

        for id in Set(members.keys).union(state.groups.keys).sorted() {
            let membership = members[id]
            var group =
                state.groups[id]
                ?? NotificationGroup(
                    id: id, receiver: membership!.receiver, labels: membership!.labels, createdAt: now,
                    lastSentAt: nil, told: [], sequence: 0)
            var firing: [AlertKey] = []
            var held: [AlertKey] = []
            var newlyFiring = 0
            for alertKey in membership?.alerts ?? [] {
                guard let alert = book.alerts[alertKey], alert.state == .firing else { continue }
                let muted = inhibited.contains(alertKey) || activeSilences.contains { $0.mutes(alert, at: now) }
                let told = group.told.contains(alertKey)
                if !muted {
                    firing.append(alertKey)
                    if !told { newlyFiring += 1 }
                } else if told {
                    held.append(alertKey)
                }
            }
            // Some told alert is neither firing nor held: it resolved, or left.
            let someGone = group.told.count > (firing.count - newlyFiring) + held.count
            var resolves: [AlertKey] = []
            if someGone {
                let keep = Set(firing).union(held)
                let gone = group.told.filter { !keep.contains($0) }
                // Resolves a rule does not want sent are forgotten without a message.
                resolves = gone.filter { key in
                    key.ruleID.hasPrefix("devicewatch.")
                        ? defaults.sendResolved : (rulesByID[key.ruleID]?.sendResolved ?? defaults.sendResolved)
                }.sorted()
                if resolves.isEmpty { group.told.subtract(gone) }
            }
            let changed = newlyFiring > 0 || !resolves.isEmpty

            var reason: NotificationIntent.Reason?
            if let last = group.lastSentAt {
                if changed, now.timeIntervalSince(last) >= defaults.groupInterval {
                    reason = firing.isEmpty ? .resolved : .changed
                } else if !changed, !firing.isEmpty,
                    now.timeIntervalSince(last) >= repeatEvery(firing, rulesByID, defaults)
                {
                    reason = .repeat
                }
            } else if !firing.isEmpty, now.timeIntervalSince(group.createdAt) >= defaults.groupWait {
                reason = .new
            } else if firing.isEmpty, !resolves.isEmpty {
                reason = .resolved
            }

            if let reason {
                firing.sort()
                group.sequence += 1
                emit(
                    NotificationIntent(
                        id: Fingerprint.ofGroup(id, createdAt: group.createdAt) + "-\(group.sequence)",
                        receiver: group.receiver, groupKey: group.groupKey, groupLabels: group.labels,
                        firing: firing.map(snapshotOf), resolved: resolves.map(snapshotOf), reason: reason,
                        createdAt: now))
                group.told = ToldAlerts(firing + held)
                group.lastSentAt = now
            }
            // When this group may next need a notification, if nothing else changes.
            if let last = group.lastSentAt {
                if reason == nil, changed {
                    soonest(last.addingTimeInterval(defaults.groupInterval))
                } else if !firing.isEmpty {
                    soonest(last.addingTimeInterval(repeatEvery(firing, rulesByID, defaults)))
                }
            } else if !firing.isEmpty {
                soonest(group.createdAt.addingTimeInterval(defaults.groupWait))
            }
            if group.told.isEmpty, firing.isEmpty,
                membership?.alerts.contains(where: { book.alerts[$0]?.state == .firing }) != true
            {
                state.groups.removeValue(forKey: id)
            } else if state.groups[id] != group {
                state.groups[id] = group
            }
        }

        // A silence that ends unmutes what it held.
        for silence in activeSilences { soonest(silence.endsAt) }

        // Resolved alerts no receiver still has to hear about are done.
        guard book.alerts.values.contains(where: { $0.state == .resolved }) else { return nextDue }
        let stillTold = Set(state.groups.values.flatMap(\.told))
        for (key, alert) in book.alerts where alert.state == .resolved && !stillTold.contains(key) {
            book.remove(key)
        }
        return nextDue
    }

    private static func repeatEvery(_ firing: [AlertKey], _ rules: [String: Rule], _ defaults: RoutingDefaults)
        -> Double
    {
        firing.compactMap { rules[$0.ruleID]?.repeatEvery }.min() ?? defaults.repeatEvery
    }

    /// A group's label names in key order, each with the `group_by` entry it comes from (the
    /// last entry wins when two name the same label).
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
        switch name {
        case "rule": alert.key.ruleID
        case "workspace": alert.key.workspace
        case "device": alert.key.deviceID
        case "severity": alert.severity.rawValue
        default: name.hasPrefix("label:") ? alert.label(String(name.dropFirst(6))) : nil
        }
    }

    /// Alerts of rules listed in a firing alert's `inhibits`, with equal `inhibit_equal` labels.
    static func inhibitedAlerts(book: AlertBook, rules: [String: Rule]) -> Set<AlertKey> {
        let sources = rules.values.filter { !$0.inhibits.isEmpty }
        guard !sources.isEmpty else { return [] }
        var muted: Set<AlertKey> = []
        for source in sources {
            var signatures: Set<[String?]> = []
            for alert in book.alerts.values where alert.key.ruleID == source.id && alert.state == .firing {
                signatures.insert(source.inhibitEqual.map { labelValue($0, alert) })
            }
            guard !signatures.isEmpty else { continue }
            let targets = Set(source.inhibits)
            for (key, alert) in book.alerts where targets.contains(key.ruleID) && key.ruleID != source.id {
                if signatures.contains(source.inhibitEqual.map { labelValue($0, alert) }) { muted.insert(key) }
            }
        }
        return muted
    }

    static func snapshot(_ alert: AlertInstance) -> AlertSnapshot {
        AlertSnapshot(
            key: alert.key, fingerprint: alert.fingerprint, status: alert.state, severity: alert.severity,
            labels: alert.ownLabels.values,
            startsAt: alert.firingSince ?? alert.activeSince, endsAt: alert.resolvedAt,
            resolveReason: alert.resolveReason,
            device: alert.device, evaluatedAt: alert.evaluatedAt, firstSeen: alert.firstSeen, message: alert.message)
    }

    private static func removedSnapshot(_ key: AlertKey, at now: Date) -> AlertSnapshot {
        AlertSnapshot(
            key: key, fingerprint: Fingerprint.of(workspace: key.workspace, ruleID: key.ruleID, deviceID: key.deviceID),
            status: .resolved,
            severity: .info, labels: [:], startsAt: now, endsAt: now,
            resolveReason: "forgotten", device: Device(id: key.deviceID), evaluatedAt: now, firstSeen: nil,
            message: "\(key.ruleID) on \(key.deviceID) is no longer tracked")
    }
}
