import Foundation

/// Where each rule's alerts go, worked out from the configuration alone (`devicewatch check
/// --routes`): a rule's own `notify`, or the routes that match it (those whose matchers depend on
/// the alert's device or workspace say when), else `defaults.notify`.
public enum RouteTable {
    public static func describe(_ rules: [Rule], defaults: RoutingDefaults) -> [String] {
        rules.map { rule in
            if !rule.notify.isEmpty { return "\(rule.id): \(rule.notify.joined(separator: ", ")) (its own notify)" }
            var parts: [String] = []
            // Whether a route surely matches: then defaults.notify is never used.
            var matched = false
            for route in defaults.routes {
                var conditions: [String] = []
                var possible = true
                for matcher in route.matchers {
                    switch matcher.name {
                    case "rule": possible = possible && matcher.glob.matches(rule.id)
                    case "severity": possible = possible && matcher.glob.matches(rule.severity.rawValue)
                    default:
                        let label = String(matcher.name.dropFirst(6))
                        if matcher.name.hasPrefix("label:"), !["workspace", "device", "group"].contains(label) {
                            // A rule's own label, fixed per rule (rule and severity are too).
                            let value =
                                label == "rule"
                                ? rule.id : label == "severity" ? rule.severity.rawValue : rule.labels[label]
                            possible = possible && value.map(matcher.glob.matches) == true
                        } else {
                            conditions.append("\(matcher.name)=\(matcher.glob.pattern)")
                        }
                    }
                }
                guard possible else { continue }
                let receivers = route.notify.joined(separator: ", ")
                if conditions.isEmpty {
                    parts.append(receivers)
                    matched = true
                    if !route.continues { break }
                } else {
                    parts.append("\(receivers) when \(conditions.joined(separator: " and "))")
                }
            }
            if !matched {
                let fallback = defaults.notify.isEmpty ? "nowhere" : defaults.notify.joined(separator: ", ")
                parts.append(
                    parts.isEmpty ? fallback + " (defaults.notify)" : "otherwise \(fallback) (defaults.notify)")
            }
            return "\(rule.id): " + parts.joined(separator: "; ")
        }
    }
}
