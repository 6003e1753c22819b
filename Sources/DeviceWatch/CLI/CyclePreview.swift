import DeviceWatchCore
import Foundation

/// What the worker's next cycle would do with one poll, as `devicewatch eval` shows it: the same
/// ``AlertCycle`` the worker runs, on the worker's stored state (or on none before its first run),
/// kept in memory only.
public struct CyclePreview: Sendable {
    /// Whether it started from the worker's stored state (false: no state yet, a first run).
    public var fromStoredState: Bool
    public var transitions: [Transition]
    public var notifications: [NotificationIntent]
    /// Firing alerts held back by inhibition after the cycle (a firing site mutes its cameras).
    public var inhibited: [AlertKey] = []
    /// Alerts flapping after the cycle.
    public var flapping: [AlertKey] = []
    /// The escalation schedule of each firing alert whose rule (or the defaults) escalates.
    public var escalations: [Escalation] = []

    /// When an alert's escalation steps are due, and whether an acknowledgement stops them.
    public struct Escalation: Sendable, Equatable {
        public var key: AlertKey
        public var steps: [(receivers: [String], at: Date)]
        public var acknowledgedBy: String?

        public static func == (lhs: Escalation, rhs: Escalation) -> Bool {
            lhs.key == rhs.key && lhs.acknowledgedBy == rhs.acknowledgedBy
                && lhs.steps.map(\.receivers) == rhs.steps.map(\.receivers)
                && lhs.steps.map(\.at) == rhs.steps.map(\.at)
        }
    }

    /// Runs one poll of `workspace` through the cycle on `state` (changed as the worker's would
    /// be, so several workspaces follow one another as the worker's polls do).
    public static func run(
        _ state: inout AlertState, fromStoredState: Bool, workspace: String, devices: [Device], at: Date,
        settings: AlertCycle.Settings, silences: [Silence], acknowledgements: [Acknowledgement] = []
    ) -> CyclePreview {
        let (result, intents) = AlertCycle.run(
            &state, .poll(workspace: workspace, devices: devices, at: at), settings: settings,
            silences: silences.filter { $0.endsAt > at }, acknowledgements: acknowledgements)
        var escalations: [Escalation] = []
        for alert in state.book.alerts.values.sorted(by: { $0.key < $1.key })
        where alert.key.workspace == workspace && alert.state == .firing {
            let steps = settings.rules.rule(alert.key.ruleID)?.escalate ?? settings.defaults.escalate
            guard !steps.isEmpty, let since = alert.firingSince else { continue }
            escalations.append(
                Escalation(
                    key: alert.key, steps: steps.map { ($0.notify, since + $0.after) },
                    acknowledgedBy: acknowledgements.last { $0.covers(alert, at: at) }?.author))
        }
        let inhibited = settings.rules.inhibitedAlerts(in: state.book).filter {
            state.book.alerts[$0]?.state == .firing
        }
        return CyclePreview(
            fromStoredState: fromStoredState, transitions: result.transitions, notifications: intents,
            inhibited: inhibited.sorted(),
            flapping: state.book.alerts.values.filter { $0.flappingSince != nil }.map(\.key).sorted(),
            escalations: escalations, at: at)
    }

    /// The evaluation time, for the escalation schedule.
    public var at: Date = Date(timeIntervalSince1970: 0)

    /// The lines of the text report.
    func lines(clean: (String) -> String) -> [String] {
        var lines = [
            "the worker's next cycle on this poll ("
                + (fromStoredState ? "from its stored state" : "from no state: as at its first run") + "):"
        ]
        if transitions.isEmpty { lines.append("  no alert changes state") }
        for transition in transitions {
            // Firing to firing: it started flapping, or settled.
            let why = transition.from == transition.to ? " (\(clean(transition.reason)))" : ""
            lines.append(
                "  \(transition.key.ruleID) on \(clean(transition.key.deviceID)): "
                    + "\(transition.from?.rawValue ?? "inactive") -> \(transition.to?.rawValue ?? "inactive")\(why)")
        }
        for intent in notifications {
            lines.append(
                "  would notify \(intent.receiver) \(clean(intent.groupKey)): \(intent.firing.count) firing, "
                    + "\(intent.resolved.count) resolved (\(intent.reason.rawValue))")
        }
        if !flapping.isEmpty {
            lines.append(
                "  flapping (held firing, no page per flip until stable): "
                    + flapping.prefix(10).map { "\($0.ruleID) on \(clean($0.deviceID))" }.joined(separator: ", ")
                    + (flapping.count > 10 ? ", …" : ""))
        }
        if !inhibited.isEmpty {
            let shown = inhibited.prefix(10).map { "\($0.ruleID) on \(clean($0.deviceID))" }.joined(separator: ", ")
            lines.append(
                "  held back by inhibition while the alert inhibiting them fires: \(inhibited.count): "
                    + shown + (inhibited.count > 10 ? ", …" : ""))
        }
        for escalation in escalations.prefix(20) {
            let steps = escalation.steps.map { step in
                step.receivers.joined(separator: ", ") + " at " + Timestamp.format(step.at)
                    + (step.at <= at
                        ? " (due)" : " (in \(DurationText.format(seconds: step.at.timeIntervalSince(at))))")
            }
            let held = escalation.acknowledgedBy.map { "; acknowledged by \(clean($0)): no further steps" } ?? ""
            lines.append(
                "  escalation of \(escalation.key.ruleID) on \(clean(escalation.key.deviceID)): "
                    + steps.joined(separator: "; ") + held)
        }
        if escalations.count > 20 { lines.append("  and \(escalations.count - 20) more escalating alerts") }
        if notifications.isEmpty {
            lines.append(
                "  no notification now (group_wait, group_interval, repeat_every or silences may send one later)")
        }
        return lines
    }

    struct JSON: Encodable, Sendable {
        struct Change: Encodable, Sendable {
            var rule: String
            var device: String
            var from: String
            var to: String
        }

        struct Notification: Encodable, Sendable {
            var receiver: String
            var group: String
            var reason: String
            var firing: Int
            var resolved: Int
        }

        var fromStoredState: Bool
        var transitions: [Change]
        var notifications: [Notification]
        var inhibited: [Held]
        var flapping: [Held]
        var escalations: [EscalationJSON]

        struct EscalationJSON: Encodable, Sendable {
            struct Step: Encodable, Sendable {
                var notify: [String]
                var at: String
                var due: Bool
            }
            var rule: String
            var device: String
            var steps: [Step]
            var acknowledgedBy: String?
        }

        struct Held: Encodable, Sendable {
            var rule: String
            var device: String
        }
    }

    var json: JSON {
        JSON(
            fromStoredState: fromStoredState,
            transitions: transitions.map {
                .init(
                    rule: $0.key.ruleID, device: $0.key.deviceID, from: $0.from?.rawValue ?? "inactive",
                    to: $0.to?.rawValue ?? "inactive")
            },
            notifications: notifications.map {
                .init(
                    receiver: $0.receiver, group: $0.groupKey, reason: $0.reason.rawValue, firing: $0.firing.count,
                    resolved: $0.resolved.count)
            },
            inhibited: inhibited.map { .init(rule: $0.ruleID, device: $0.deviceID) },
            flapping: flapping.map { .init(rule: $0.ruleID, device: $0.deviceID) },
            escalations: escalations.map { escalation in
                .init(
                    rule: escalation.key.ruleID, device: escalation.key.deviceID,
                    steps: escalation.steps.map {
                        .init(notify: $0.receivers, at: Timestamp.format($0.at), due: $0.at <= at)
                    }, acknowledgedBy: escalation.acknowledgedBy)
            })
    }
}
