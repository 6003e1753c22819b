import Foundation

/// `defaults.notify` and `routes`: where alerts of rules that name no receivers of their own go.
extension ConfigurationParser {
    /// Parses `routes` (a list of `{"match": [...], "notify": [...], "continue": false}`) and
    /// checks `defaults.notify` and every route's receivers against those declared.
    static func parseRoutes(_ fields: [String: NodeReader], into config: inout Configuration) {
        var declared: [String] = []
        if case .object(let members)? = fields["receivers"]?.node.value { declared = members.map(\.key) }
        if let notify = Self.member(fields["defaults"], "notify") {
            for (index, name) in config.defaults.notify.enumerated() where !declared.contains(name) {
                reportUnknownReceiver(name, at: notify.element(index), known: declared)
            }
        }
        if let escalate = Self.member(fields["defaults"], "escalate"), let steps = escalate.array() {
            // Parsed with the defaults; here only whether its receivers exist.
            for step in steps {
                // A notify of the wrong shape was reported with the defaults.
                guard let notify = Self.member(step, "notify"),
                    let names = notify.node.value.receiverNames
                else { continue }
                for (position, name) in names.enumerated() where !declared.contains(name) {
                    reportUnknownReceiver(name, at: notify.element(position), known: declared)
                }
            }
        }
        guard let routes = fields["routes"], let list = routes.array() else { return }
        for (index, entry) in list.enumerated() {
            guard let parts = entry.object(known: ["match", "notify", "continue"]) else { continue }
            var route = Configuration.Route()
            if let match = parts["match"], let texts = match.stringOrList("a matcher such as severity=critical") {
                for (position, text) in texts.enumerated() {
                    switch Silence.Matcher.parse(text) {
                    case .success(let matcher): route.match.append(matcher)
                    case .failure(let error): match.element(position).report("\(error)")
                    }
                }
            }
            if let notify = parts["notify"], let names = notify.stringOrList("a receiver name or a list of them") {
                route.notify = names
                for (position, name) in names.enumerated() where !declared.contains(name) {
                    reportUnknownReceiver(name, at: notify.element(position), known: declared)
                }
                if names.isEmpty { notify.report("a route needs at least one receiver to notify") }
            } else if parts["notify"] == nil {
                entry.report("route \(index + 1) needs \"notify\": the receivers its alerts go to")
            }
            route.continues = parts["continue"]?.bool() ?? false
            config.routes.append(route)
        }
    }

    private static func member(_ reader: NodeReader?, _ key: String) -> NodeReader? {
        guard let reader, case .object(let members) = reader.node.value,
            let node = members.first(where: { $0.key == key })?.value
        else { return nil }
        return reader.child(key, node)
    }

    /// `escalate`: `[{"after": "30m", "notify": ["pagerduty-oncall"]}, ...]`, each step later
    /// than the one before, its receivers declared (when `receivers` is known).
    public static func parseEscalation(_ reader: NodeReader, receivers: Set<String>?) -> [EscalationStep]? {
        guard let entries = reader.array() else { return nil }
        var steps: [EscalationStep] = []
        var valid = true
        for entry in entries {
            guard let parts = entry.object(known: ["after", "notify"]) else {
                valid = false
                continue
            }
            let after = parts["after"]?.duration()
            if parts["after"] == nil {
                entry.report("an escalation step needs \"after\": how long it fires unacknowledged first, e.g. 30m")
            }
            if let after, let previous = steps.last, after <= previous.after {
                parts["after"]?.report("each escalation step must come after the one before it")
                valid = false
            }
            var names: [String] = []
            if let notify = parts["notify"], let list = notify.stringOrList("a receiver name or a list of them") {
                names = list
                for (index, name) in list.enumerated() {
                    if let receivers, !receivers.contains(name) {
                        reportUnknownReceiver(name, at: notify.element(index), known: Array(receivers))
                        valid = false
                    }
                }
            } else if parts["notify"] == nil {
                entry.report("an escalation step needs \"notify\": the receivers to tell")
            }
            guard let after, after > .zero, !names.isEmpty else {
                valid = false
                continue
            }
            steps.append(EscalationStep(after: after, notify: names))
        }
        return valid ? steps : nil
    }
}

extension JSONNode.Value {
    /// A string or a list of strings, without reporting anything.
    fileprivate var receiverNames: [String]? {
        switch self {
        case .string(let name): return [name]
        case .array(let items):
            return items.compactMap { if case .string(let name) = $0.value { name } else { nil } }
        default: return nil
        }
    }
}
