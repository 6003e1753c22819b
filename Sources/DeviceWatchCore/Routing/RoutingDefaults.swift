import Foundation

/// Grouping and timing settings (the configuration's `defaults`, and `meta_receivers`).
public struct RoutingDefaults: Sendable, Equatable {
    public var groupBy: [String]
    public var groupWait: Duration
    public var groupInterval: Duration
    public var repeatEvery: Duration
    public var sendResolved: Bool
    public var metaReceivers: [String]
    /// Every group is of one workspace (`workspace` is added to any `group_by` without it): on
    /// PostgreSQL with several workers, where each workspace is planned by the worker holding it.
    public var groupsPerWorkspace = false
    /// Where alerts of rules without their own `notify` go: the first matching route (and the
    /// ones after it while they say `continue`), else `notify`.
    public var routes: [CompiledRoute] = []
    public var notify: [String] = []
    /// Escalation for rules without their own.
    public var escalate: [EscalationStep] = []
    /// Named recurring windows (``Rule/muteDuring``).
    public var timeIntervals = TimeIntervals()

    /// A route with its patterns compiled once.
    public struct CompiledRoute: Sendable, Equatable {
        public var matchers: [(name: String, glob: Glob)]
        public var notify: [String]
        public var continues: Bool

        init(_ route: Configuration.Route) {
            matchers = route.match.map { ($0.name, Glob($0.pattern)) }
            notify = route.notify
            continues = route.continues
        }

        public static func == (lhs: CompiledRoute, rhs: CompiledRoute) -> Bool {
            lhs.notify == rhs.notify && lhs.continues == rhs.continues
                && lhs.matchers.map(\.name) == rhs.matchers.map(\.name)
                && lhs.matchers.map(\.glob) == rhs.matchers.map(\.glob)
        }

        /// Whether every matcher holds for the alert.
        public func matches(_ alert: AlertInstance) -> Bool {
            matchers.allSatisfy { matcher in
                switch matcher.name {
                case "rule": return matcher.glob.matches(alert.key.ruleID)
                case "workspace": return matcher.glob.matches(alert.key.workspace)
                case "device": return matcher.glob.matches(alert.key.deviceID)
                case "severity": return matcher.glob.matches(alert.severity.rawValue)
                case "tag": return alert.device.tags.contains(where: matcher.glob.matches)
                default:
                    guard matcher.name.hasPrefix("label:"), let value = alert.label(String(matcher.name.dropFirst(6)))
                    else { return false }
                    return matcher.glob.matches(value)
                }
            }
        }
    }

    /// The receivers of an alert whose rule names none: by the routes, else `notify`.
    public func routedReceivers(_ alert: AlertInstance) -> [String] {
        var receivers: [String] = []
        for route in routes where route.matches(alert) {
            for name in route.notify where !receivers.contains(name) { receivers.append(name) }
            if !route.continues { break }
        }
        return receivers.isEmpty ? notify : receivers
    }

    public init(
        _ defaults: Configuration.Defaults = .init(), metaReceivers: [String] = [], groupsPerWorkspace: Bool = false
    ) {
        self.groupsPerWorkspace = groupsPerWorkspace
        groupBy = defaults.groupBy
        groupWait = defaults.groupWait
        groupInterval = defaults.groupInterval
        repeatEvery = defaults.repeatEvery
        sendResolved = defaults.sendResolved
        self.metaReceivers = metaReceivers
        routes = defaults.routes.map(CompiledRoute.init)
        notify = defaults.notify
        escalate = defaults.escalate
        timeIntervals = defaults.timeIntervals
    }
}
