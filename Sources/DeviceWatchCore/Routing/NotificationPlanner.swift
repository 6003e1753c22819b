import Foundation

/// Decides what to send now, in named stages: route (``AlertRouter``: each alert into its
/// receivers' groups), inhibit and silence (``Muting``), group timing (``GroupTimer``) and
/// retention (``Retention``). Pure: the alert book, rules, silences and time are arguments;
/// intents are the result.
///
/// Per (receiver, group): the first notification goes out `group_wait` after the group appears,
/// later changes at most every `group_interval`, and an unchanged firing group again every
/// `repeat_every`. Muted (silenced or inhibited) alerts are tracked, not sent; but a receiver told
/// that an alert fired is always told when it resolves, muted or not.
enum NotificationPlanner {
    /// Plans the notifications due at `now`, handing each intent to `emit` as soon as it is
    /// planned, in group order: a caller that writes them out never holds a large outage's
    /// notifications all at once.
    /// - Returns: when a notification may next be due if nothing else changes (a group's
    ///   `group_wait`, `group_interval` or `repeat_every` running out, a silence ending); nil
    ///   when none is waiting. Until then, planning again without a poll finds nothing to send.
    @discardableResult
    static func plan(
        book: inout AlertBook, state: inout RoutingState, rules: RuleSet, defaults: RoutingDefaults,
        silences: [Silence], acknowledgements: [Acknowledgement] = [], at now: Date,
        emit: (NotificationIntent) -> Void
    ) -> Date? {
        var nextDue: Date?
        func soonest(_ time: Date?) {
            guard let time else { return }
            nextDue = min(nextDue ?? time, time)
        }
        let rulesByID = rules.byID
        let muting = Muting(
            book: book, rules: rules, silences: silences, at: now, timeIntervals: defaults.timeIntervals)
        let acknowledged = Acknowledgements(acknowledgements, at: now)
        var nextEscalation: Date?
        let members = AlertRouter.members(
            book: book, rules: rulesByID, defaults: defaults, known: state, acknowledgements: acknowledged, now: now,
            nextEscalation: &nextEscalation)
        soonest(nextEscalation)
        // An acknowledgement that expires lets repeats and escalation go on.
        for acknowledgement in acknowledged.active { soonest(acknowledgement.endsAt) }

        // Snapshots are not cached across groups: each intent keeps its own copy anyway. Their
        // text is: rendered once per alert and cycle, its strings shared by every receiver's copy.
        // Only alerts in more than one group are cached: grouped by device with one receiver, a
        // 10,000-device outage would otherwise hold a table of 10,000 texts used once each.
        let sharedAlerts = inSeveralGroups(members)
        var texts: [AlertKey: AlertText?] = [:]
        func snapshotOf(_ key: AlertKey) -> AlertSnapshot {
            guard let alert = book.alerts[key] else { return removedSnapshot(key, at: now) }
            var made = snapshot(alert)
            made.acknowledgement = acknowledged.of(alert)?.note
            if let text = texts[key] {
                made.text = text
            } else {
                made.text = rules.text(of: alert)
                if sharedAlerts.contains(key) { texts[key] = made.text }
            }
            return made
        }

        for id in Set(members.keys).union(state.groups.keys).sorted() {
            let membership = members[id]
            var group =
                state.groups[id]
                ?? NotificationGroup(
                    id: id, receiver: membership!.receiver, labels: membership!.labels, createdAt: now,
                    lastSentAt: nil, told: [], sequence: 0)
            // What the receiver is to hear: firing alerts not muted, and those told before that
            // are muted now (held: they are not repeated, but their resolve is still told).
            var firing: [AlertKey] = []
            var held: [AlertKey] = []
            var newlyFiring = 0
            // Told alerts whose flapping is news: started flapping, or settled firing.
            var newlyFlapping = 0, settled = 0
            let toldFlapping = group.toldFlapping ?? []
            for alertKey in membership?.alerts ?? [] {
                guard let alert = book.alerts[alertKey], alert.state == .firing else { continue }
                let told = group.told.contains(alertKey)
                // Firing only through keep_firing_for (its condition stopped holding at the latest
                // poll) and never told here: it is recovering, and announcing it would page for
                // nothing (a site's cameras coming back just after the site's alert resolved).
                if !told, alert.isRecovering(lastPoll: book.health[alertKey.workspace]?.lastSuccess) { continue }
                if !muting.mutes(alert) {
                    firing.append(alertKey)
                    if !told { newlyFiring += 1 }
                    let flapping = alert.flappingSince != nil
                    if flapping, !toldFlapping.contains(alertKey) { newlyFlapping += 1 }
                    if !flapping, told, toldFlapping.contains(alertKey) { settled += 1 }
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

            let timer = GroupTimer(
                groupWait: defaults.groupWait, groupInterval: defaults.groupInterval,
                repeatEvery: repeatEvery(firing, rulesByID, defaults))
            var timing = GroupTimer.Group(
                createdAt: group.createdAt, lastSentAt: group.lastSentAt, firing: !firing.isEmpty,
                changed: newlyFiring > 0 || !resolves.isEmpty || newlyFlapping > 0 || settled > 0,
                acknowledged: !acknowledged.active.isEmpty && !firing.isEmpty
                    && firing.allSatisfy { book.alerts[$0].map { acknowledged.of($0) != nil } ?? false })
            if var reason = timer.reason(timing, at: now) {
                // Only flapping is news (alerts the receiver knows, or new ones that flap): say so.
                let flappingNews = firing.filter { book.alerts[$0]?.flappingSince != nil && !toldFlapping.contains($0) }
                if newlyFlapping > 0, resolves.isEmpty, settled == 0, reason != .repeat,
                    newlyFiring == flappingNews.filter({ !group.told.contains($0) }).count
                {
                    reason = .flapping
                }
                firing.sort()
                group.sequence += 1
                emit(
                    NotificationIntent(
                        id: Fingerprint.ofGroup(id, createdAt: group.createdAt) + "-\(group.sequence)",
                        receiver: group.receiver, groupKey: group.groupKey, groupLabels: group.labels,
                        firing: firing.map(snapshotOf), resolved: resolves.map(snapshotOf), reason: reason,
                        createdAt: now))
                group.told = ToldAlerts(firing + held)
                let flapping = Set(firing.filter { book.alerts[$0]?.flappingSince != nil })
                    .union(held.filter { toldFlapping.contains($0) })
                group.toldFlapping = flapping.isEmpty ? nil : flapping
                group.lastSentAt = now
                timing.lastSentAt = now
                timing.changed = false
            }
            soonest(timer.nextDue(timing))

            if Retention.keeps(group, firing: firing, membership: membership, book: book) {
                state.set(group)
            } else {
                state.remove(id)
            }
        }

        // A silence that ends unmutes what it held.
        for silence in muting.silences { soonest(silence.endsAt) }
        // A window that ends tells what it held back at once.
        for end in muting.mutedRules.values { soonest(end) }
        for end in muting.windowEnds { soonest(end) }
        Retention.forgetResolved(in: &book, toldBy: state, rules: rulesByID, at: now)
        return nextDue
    }

    /// The alerts that are members of more than one group (several receivers, or escalation).
    private static func inSeveralGroups(_ members: [String: AlertRouter.Membership]) -> Set<AlertKey> {
        var seen = Set<AlertKey>()
        var several = Set<AlertKey>()
        for membership in members.values {
            for key in membership.alerts where !seen.insert(key).inserted { several.insert(key) }
        }
        return several
    }

    private static func repeatEvery(_ firing: [AlertKey], _ rules: [String: Rule], _ defaults: RoutingDefaults)
        -> Duration
    {
        firing.compactMap { rules[$0.ruleID]?.repeatEvery }.min() ?? defaults.repeatEvery
    }

    static func snapshot(_ alert: AlertInstance) -> AlertSnapshot {
        AlertSnapshot(
            key: alert.key, status: alert.state, severity: alert.severity,
            labels: alert.ownLabels.values,
            startsAt: alert.firingSince ?? alert.activeSince, endsAt: alert.resolvedAt,
            resolveReason: alert.resolveReason?.rawValue,
            device: alert.device, evaluatedAt: alert.evaluatedAt, firstSeen: alert.firstSeen, message: alert.message,
            fleet: alert.fleet,
            flapping: alert.flappingSince.map { FlappingState(since: $0, changes: alert.flips?.count ?? 0) })
    }

    private static func removedSnapshot(_ key: AlertKey, at now: Date) -> AlertSnapshot {
        AlertSnapshot(
            key: key, status: .resolved,
            severity: .info, labels: [:], startsAt: now, endsAt: now,
            resolveReason: "forgotten", device: Device(id: key.deviceID), evaluatedAt: now, firstSeen: nil,
            message: "\(key.ruleID) on \(key.deviceID) is no longer tracked")
    }
}
