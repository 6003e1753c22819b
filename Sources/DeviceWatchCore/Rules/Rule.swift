/// How loud an alert is.
public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
    case critical, error, warning, info

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! > allCases.firstIndex(of: rhs)!
    }
}

/// A place in a source file: 1-based line and column (columns count characters).
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public var description: String { "\(line):\(column)" }
}

/// One alerting rule: which devices (`where`), what is wrong (`when`), who hears about it (`notify`).
public struct Rule: Sendable, Equatable {
    public var id: String
    /// Mustache template of the one-line summary.
    public var summary: String?
    public var description: String?
    public var severity: Severity
    public var selector: Condition?
    /// The per-device condition; for a fleet rule, the one its groups count (``FleetCondition/of``).
    public var condition: Condition
    /// Set for a fleet rule: it judges groups of devices, one alert per group, not each device.
    public var fleet: FleetCondition?
    /// A device rule's flap detection (see ``FlappingPolicy``).
    public var flapping: FlappingPolicy?
    /// How long the condition must hold before the alert fires.
    public var pendingFor: Duration?
    /// How long a firing alert stays firing through a recovery.
    public var keepFiringFor: Duration?
    /// Receiver names.
    public var notify: [String]
    public var repeatEvery: Duration?
    /// Receivers told too while an alert still fires unacknowledged some time after it began;
    /// nil: the defaults' (``Configuration/Defaults/escalate``).
    public var escalate: [EscalationStep]?
    /// Names of `time_intervals` during which this rule's alerts are muted (tracked, not sent).
    public var muteDuring: [String] = []
    public var sendResolved: Bool?
    public var labels: [String: String]
    public var groupBy: [String]?
    /// Rule ids whose alerts are not sent while this rule fires on a matching alert.
    public var inhibits: [String]
    /// Labels that must be equal between this rule's firing alert and an inhibited one
    /// (`workspace`, `device`, `severity`, `label:NAME`).
    public var inhibitEqual: [String]
    /// The file the rule came from, as named in the configuration.
    public var file: String
    /// Where the rule's `id` stands in its file (for problems that involve two files).
    public var definedAt: SourcePosition?

    public init(
        id: String, summary: String? = nil, description: String? = nil, severity: Severity = .warning,
        selector: Condition? = nil, condition: Condition, pendingFor: Duration? = nil, keepFiringFor: Duration? = nil,
        notify: [String] = [], repeatEvery: Duration? = nil, sendResolved: Bool? = nil, labels: [String: String] = [:],
        groupBy: [String]? = nil, inhibits: [String] = [], inhibitEqual: [String] = [], file: String = "",
        definedAt: SourcePosition? = nil, fleet: FleetCondition? = nil, flapping: FlappingPolicy? = nil,
        escalate: [EscalationStep]? = nil, muteDuring: [String] = []
    ) {
        self.escalate = escalate
        self.muteDuring = muteDuring
        self.fleet = fleet
        self.flapping = flapping
        self.id = id
        self.summary = summary
        self.description = description
        self.severity = severity
        self.selector = selector
        self.condition = condition
        self.pendingFor = pendingFor
        self.keepFiringFor = keepFiringFor
        self.notify = notify
        self.repeatEvery = repeatEvery
        self.sendResolved = sendResolved
        self.labels = labels
        self.groupBy = groupBy
        self.inhibits = inhibits
        self.inhibitEqual = inhibitEqual
        self.file = file
        self.definedAt = definedAt
    }

    /// The summary used when a rule gives none.
    public static let defaultSummary = "{{device.name}} ({{device.id}}): {{rule.id}}"
    /// The summary used when a fleet rule gives none.
    public static let defaultFleetSummary = "{{group.key}}: {{group.matching}} of {{group.total}} devices ({{rule.id}})"

    public var isFleet: Bool { fleet != nil }
}

/// One step of an escalation: after `after` of firing unacknowledged, `notify` is told too
/// (once, then on its own repeat schedule; its resolve like any receiver's).
public struct EscalationStep: Sendable, Equatable {
    public var after: Duration
    public var notify: [String]

    public init(after: Duration, notify: [String]) {
        self.after = after
        self.notify = notify
    }
}
