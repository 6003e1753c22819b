import Foundation

/// One device that one rule matches at one evaluation.
///
/// Cheap by design: why it matched and its summary text are worked out on demand
/// (``RuleSet/reasons(for:)``, ``RuleSet/summary(of:)``), only for findings someone reads.
public struct Finding: Sendable, Equatable {
    public var workspace: String
    public var ruleID: String
    public var severity: Severity
    public var device: Device
    /// The evaluation time.
    public var evaluatedAt: Date
    /// When devicewatch first saw the device, if known (for `unknown_for` without `created_at`).
    public var firstSeen: Date?
    /// For a fleet rule's group: the group (``device`` then stands for the group, named by its key).
    public var fleet: FleetFacts?

    public init(
        workspace: String, ruleID: String, severity: Severity, device: Device, evaluatedAt: Date,
        firstSeen: Date? = nil,
        fleet: FleetFacts? = nil
    ) {
        self.workspace = workspace
        self.ruleID = ruleID
        self.severity = severity
        self.device = device
        self.evaluatedAt = evaluatedAt
        self.firstSeen = firstSeen
        self.fleet = fleet
    }

    public var deviceID: String { device.id }
}

/// What one evaluation of a workspace found.
public struct Evaluation: Sendable {
    /// In rule order, then in the order of the device list.
    public var findings: [Finding]
    /// Devices whose `rfdm_version` is missing or unparseable, where a rule compares versions:
    /// those never match `rfdm_version_below` (device id -> the raw value, nil when missing).
    public var unversionedDevices: [(deviceID: String, raw: String?)]
    /// Matching devices per rule id, every rule present (for a fleet rule: its groups that hold).
    public var matchCounts: [String: Int]
    /// Every group of every fleet rule, in rule order then by key: those that hold carry their
    /// members; the others too when the evaluation was asked for them (``RuleSet/evaluate(workspace:devices:firstSeen:at:fleetMembers:)``).
    public var fleetGroups: [FleetGroup] = []
}

/// One group of one fleet rule at one evaluation.
public struct FleetGroup: Sendable, Equatable {
    public var ruleID: String
    public var facts: FleetFacts
    /// Whether the rule's `fleet.when` holds for the group (and it has `min_devices`).
    public var holds: Bool

    /// The stand-in device a fleet alert carries: its id and name are the group's key.
    public static func device(for group: String) -> Device { Device(id: group, name: group) }
}
