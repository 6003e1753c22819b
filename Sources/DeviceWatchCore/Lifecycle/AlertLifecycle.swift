import Foundation

/// The alert state machine: inactive -> pending (only with `for`) -> firing -> resolved.
/// Pure: the book, the evaluation and the time are arguments; transitions are the result.
public enum AlertLifecycle {
    /// The rule id of devicewatch's own alert for a workspace it cannot see.
    public static let unreachableRule = "devicewatch.workspace_unreachable"

    /// Applies one successful poll of a workspace: its evaluation, the devices listed, the time.
    ///
    /// - A finding starts or continues an alert; `for` delays firing.
    /// - An alert whose condition stopped holding resolves (`recovered`), unless it is firing and
    ///   `keep_firing_for` has not run out since the condition last held.
    /// - A device no longer listed resolves its alerts (`device removed`); a rule no longer loaded
    ///   resolves its alerts (`rule removed`). A rule changed under the same id keeps its alerts.
    /// - The workspace counts as seen again: its unreachable meta alert resolves.
    static func apply(
        _ evaluation: Evaluation, workspace: String, devices: [Device], rules: RuleSet, to book: inout AlertBook,
        at now: Date
    ) -> [Transition] {
        var transitions: [Transition] = []
        let rulesByID = rules.byID
        var holding: Set<AlertKey> = []
        holding.reserveCapacity(evaluation.findings.count)
        // The workspace's previous successful poll: a firing alert whose condition did not hold
        // then is recovering (planning keeps an untold one quiet).
        let previousPoll = book.health[workspace]?.lastSuccess
        /// A finding (of a device, or of a fleet rule's group) starts or continues its alert.
        func holds(
            _ key: AlertKey, severity: Severity, device: Device, firstSeen: Date?, fleet: FleetFacts?
        ) {
            holding.insert(key)
            let rule = rulesByID[key.ruleID]
            if var alert = book.alerts[key], alert.state != .resolved {
                let heldBefore = alert.heldAtLastEvaluation
                if alert.isRecovering(lastPoll: previousPoll) { book.planningInputChanged() }
                alert.lastTrue = now
                alert.device = device
                alert.evaluatedAt = now
                alert.firstSeen = firstSeen
                alert.fleet = fleet
                if alert.state == .pending, now.duration(since: alert.activeSince) >= (rule?.pendingFor ?? .zero) {
                    alert.state = .firing
                    alert.firingSince = now
                    transitions.append(
                        Transition(
                            key: key, from: .pending, to: .firing, at: now,
                            reason: "held for \(DurationText.format(rule?.pendingFor ?? .zero))"))
                    transitions += flip(&alert, rule?.flapping, at: now)
                    book.set(alert)
                } else if alert.flappingSince != nil, let policy = rule?.flapping {
                    // Flapping: the alert stays firing; a start is counted, and stable long enough it settles.
                    if !heldBefore { alert.flips = policy.adding(now, to: alert.flips ?? []) }
                    if now.duration(since: alert.flips?.last ?? now) >= policy.stableFor {
                        // Settled: its changes are counted afresh from here.
                        alert.flappingSince = nil
                        alert.flips = []
                        transitions.append(
                            Transition(
                                key: key, from: .firing, to: .firing, at: now,
                                reason: "settled firing after \(DurationText.format(policy.stableFor)) stable")
                        )
                    }
                    if heldBefore, alert.flappingSince != nil { book.refresh(alert) } else { book.set(alert) }
                } else if alert.flappingSince != nil || alert.flips != nil, rule?.flapping == nil {
                    // Its rule no longer watches for flapping (a reload): an ordinary alert from here.
                    alert.flappingSince = nil
                    alert.flips = nil
                    book.set(alert)
                } else {
                    book.refresh(alert)
                }
                return
            }
            let fires = (rule?.pendingFor ?? .zero) <= .zero
            let previous = book.alerts[key]
            var alert = AlertInstance(
                key: key, state: fires ? .firing : .pending, severity: severity,
                // The rule's labels as they are: every alert of the rule shares their storage.
                labels: rule?.labels ?? [:],
                activeSince: now, firingSince: fires ? now : nil, lastTrue: now, resolvedAt: nil, resolveReason: nil,
                device: device, evaluatedAt: now, firstSeen: firstSeen, fleet: fleet)
            // A rule that watches for flapping remembers the alert's recent fires and resolves.
            alert.flips = rule?.flapping != nil ? previous?.flips : nil
            transitions.append(
                Transition(
                    key: key,
                    from: previous?.state == .resolved ? .resolved : nil,
                    to: alert.state, at: now, reason: "condition holds"))
            if fires { transitions += flip(&alert, rule?.flapping, at: now) }
            book.set(alert)
        }
        for finding in evaluation.findings {
            holds(
                AlertKey(workspace: workspace, ruleID: finding.ruleID, deviceID: finding.deviceID),
                severity: finding.severity, device: finding.device, firstSeen: finding.firstSeen, fleet: nil)
        }
        // One alert per fleet rule and group; the group's key stands where a device id would.
        for group in evaluation.fleetGroups where group.holds {
            guard let rule = rulesByID[group.ruleID] else { continue }
            holds(
                AlertKey(workspace: workspace, ruleID: group.ruleID, deviceID: group.facts.group),
                severity: rule.severity, device: FleetGroup.device(for: group.facts.group), firstSeen: nil,
                fleet: group.facts)
        }
        // Every group as it is now, for fleet alerts that resolve: built only when one does.
        var groups: [AlertKey: FleetFacts]?
        func currentGroup(_ key: AlertKey) -> FleetFacts? {
            if groups == nil {
                groups = Dictionary(
                    evaluation.fleetGroups.map {
                        (AlertKey(workspace: workspace, ruleID: $0.ruleID, deviceID: $0.facts.group), $0.facts)
                    }, uniquingKeysWith: { first, _ in first })
            }
            return groups![key]
        }

        /// A firing alert that did not hold, kept by `keep_firing_for`: new to planning when it
        /// held at the previous poll.
        func startsRecovering(_ alert: AlertInstance) {
            if !alert.isRecovering(lastPoll: previousPoll) { book.planningInputChanged() }
        }

        // Built only when some alert stopped holding: a no-change cycle must stay cheap.
        var index: [String: Int]?
        func listedIndex(_ id: String) -> Int? {
            if index == nil {
                index = Dictionary(devices.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
            }
            return index![id]
        }
        for (key, alert) in book.alerts where key.workspace == workspace && !holding.contains(key) && !alert.isMeta {
            guard alert.state != .resolved else { continue }
            let rule = rulesByID[key.ruleID]
            if alert.state == .firing, let policy = rule?.flapping, alert.fleet == nil,
                listedIndex(key.deviceID) != nil,
                now.duration(since: alert.lastTrue) >= (rule?.keepFiringFor ?? .zero),
                holdsFlapping(alert, policy: policy, book: &book, transitions: &transitions, at: now)
            {
                continue
            }
            let reason: ResolveReason
            if rule == nil || rule?.isFleet != (alert.fleet != nil) {
                // Gone, or now judging devices where it judged groups (or the other way round).
                reason = .ruleRemoved
            } else if alert.fleet != nil {
                if alert.state == .firing, now.duration(since: alert.lastTrue) < (rule?.keepFiringFor ?? .zero) {
                    startsRecovering(alert)
                    continue
                }
                reason = .recovered
            } else if listedIndex(key.deviceID) == nil {
                reason = .deviceRemoved
            } else {
                if alert.state == .firing, now.duration(since: alert.lastTrue) < (rule?.keepFiringFor ?? .zero) {
                    startsRecovering(alert)
                    continue
                }
                reason = .recovered
            }
            if alert.state == .pending {
                book.remove(key)
                transitions.append(
                    Transition(
                        key: key, from: .pending, to: nil, at: now,
                        reason: reason.rawValue))
                continue
            }
            var resolved = alert
            resolved.state = .resolved
            resolved.resolvedAt = now
            resolved.resolveReason = reason
            if let policy = rule?.flapping, reason == .recovered, alert.state == .firing {
                // The resolve is a change too (a flapping alert that settles resolved counted its stop already).
                // Settling resolved, its changes are counted afresh from here.
                resolved.flips = alert.flappingSince == nil ? policy.adding(now, to: alert.flips ?? []) : []
                resolved.flappingSince = nil
            } else {
                resolved.flappingSince = nil
            }
            if alert.fleet != nil {
                // The group as it is now, with nobody counted when it has emptied.
                resolved.fleet =
                    currentGroup(key) ?? FleetFacts(group: key.deviceID, total: 0, matching: 0, members: [])
            } else if reason == .recovered, let position = listedIndex(key.deviceID) {
                resolved.device = devices[position]
            }
            resolved.evaluatedAt = now
            book.set(resolved)
            transitions.append(
                Transition(
                    key: key, from: .firing, to: .resolved, at: now,
                    reason: reason.rawValue))
        }

        book.list(workspace: workspace, devices: devices, at: now)
        book.setHealth(WorkspaceHealth(lastSuccess: now), of: workspace)
        transitions += resolveMeta(workspace: workspace, in: &book, at: now)
        return transitions
    }

    /// Records a failed poll. The workspace's alerts neither fire nor resolve on stale data; after
    /// `staleAfter` (at once for 401/403) a meta alert says devicewatch cannot see the workspace.
    static func pollFailed(
        workspace: String, reason: String, isAuthFailure: Bool, staleAfter: Duration, book: inout AlertBook,
        at now: Date
    ) -> [Transition] {
        var health = book.health[workspace] ?? WorkspaceHealth()
        if health.failingSince == nil { health.failingSince = now }
        health.failure = reason
        health.authFailure = isAuthFailure
        book.setHealth(health, of: workspace)
        let blindFor = now.duration(since: health.failingSince ?? now)
        guard isAuthFailure || blindFor >= staleAfter else { return [] }

        let key = AlertKey(workspace: workspace, ruleID: unreachableRule, deviceID: "")
        let message = "devicewatch cannot see workspace \(workspace): \(reason)"
        if var alert = book.alerts[key], alert.state == .firing {
            alert.lastTrue = now
            alert.evaluatedAt = now
            if alert.message == message {
                book.refresh(alert)
            } else {
                alert.message = message
                book.set(alert)
            }
            return []
        }
        book.set(
            AlertInstance(
                key: key, state: .firing, severity: .critical,
                labels: [:],
                activeSince: health.failingSince ?? now, firingSince: now, lastTrue: now, resolvedAt: nil,
                resolveReason: nil,
                device: Device(id: "", name: "workspace \(workspace)"), evaluatedAt: now, firstSeen: nil,
                message: message))
        return [Transition(key: key, from: nil, to: .firing, at: now, reason: message)]
    }

    private static func resolveMeta(workspace: String, in book: inout AlertBook, at now: Date) -> [Transition] {
        let reason = ResolveReason.pollingRecovered
        let key = AlertKey(workspace: workspace, ruleID: unreachableRule, deviceID: "")
        guard var alert = book.alerts[key], alert.state == .firing else { return [] }
        alert.state = .resolved
        alert.resolvedAt = now
        alert.resolveReason = reason
        alert.evaluatedAt = now
        book.set(alert)
        return [
            Transition(
                key: key, from: .firing, to: .resolved, at: now, reason: reason.rawValue
            )
        ]
    }

    /// Resolves the alerts of workspaces no longer configured (`workspace removed`).
    static func retainWorkspaces(_ workspaces: Set<String>, in book: inout AlertBook, at now: Date)
        -> [Transition]
    {
        var transitions: [Transition] = []
        for (key, alert) in book.alerts where !workspaces.contains(key.workspace) && alert.state != .resolved {
            if alert.state == .pending {
                book.remove(key)
                continue
            }
            var resolved = alert
            resolved.state = .resolved
            resolved.resolvedAt = now
            resolved.resolveReason = .workspaceRemoved
            book.set(resolved)
            transitions.append(
                Transition(
                    key: key, from: .firing, to: .resolved, at: now,
                    reason: "workspace removed"))
        }
        return transitions
    }
}
