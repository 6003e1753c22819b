import Foundation

/// Identifies an alert instance: one rule on one device of one workspace.
public struct AlertKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var workspace: String
    public var ruleID: String
    public var deviceID: String

    public init(workspace: String, ruleID: String, deviceID: String) {
        self.workspace = workspace
        self.ruleID = ruleID
        self.deviceID = deviceID
    }

    public static func < (lhs: AlertKey, rhs: AlertKey) -> Bool {
        (lhs.workspace, lhs.ruleID, lhs.deviceID) < (rhs.workspace, rhs.ruleID, rhs.deviceID)
    }

    public var description: String { "\(workspace)/\(ruleID)/\(deviceID)" }
}

/// One alert's life: pending (only with `for`), firing, resolved. Absent means inactive.
public struct AlertInstance: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case pending, firing, resolved
    }

    public var key: AlertKey
    public var state: State
    public var severity: Severity
    /// The rule's own labels; see ``labels``.
    var ownLabels: OwnLabels
    /// When the condition started to hold, this time round.
    public var activeSince: Date
    public var firingSince: Date?
    /// The latest evaluation at which the condition held.
    public var lastTrue: Date
    public var resolvedAt: Date?
    /// Why it resolved.
    public var resolveReason: ResolveReason?
    /// The device as last seen (for templates and receivers).
    public var device: Device
    /// The evaluation time of the latest update.
    public var evaluatedAt: Date
    public var firstSeen: Date?
    /// For devicewatch's own alerts: what is wrong, in words.
    public var message: String?
    /// For a fleet rule's alert: its group at the latest evaluation (``device`` stands for the
    /// group, and the key's `deviceID` is the group's key). Per-poll bookkeeping, like ``device``.
    public var fleet: FleetFacts?
    /// For a rule with `flapping`: when the alert fired and resolved lately (within the rule's
    /// window, at most as many as make it flapping).
    public var flips: [Date]?
    /// When it started flapping; nil when it is not.
    public var flappingSince: Date?

    public var isMeta: Bool { key.ruleID.hasPrefix("devicewatch.") }

    /// See ``Fingerprint``. Derived from the key when asked, not kept: 32 characters a string
    /// must store apart, for every alert of a large outage.
    public var fingerprint: String {
        Fingerprint.of(workspace: key.workspace, ruleID: key.ruleID, deviceID: key.deviceID)
    }

    /// `rule`, `workspace`, `device` (when the alert is about a device), `severity` and the rule's own labels.
    public var labels: [String: String] { ownLabels.all(key: key, severity: severity, isFleet: fleet != nil) }

    /// One label of ``labels``, without building them all.
    public func label(_ name: String) -> String? {
        ownLabels.value(name, key: key, severity: severity, isFleet: fleet != nil)
    }

    enum CodingKeys: String, CodingKey {
        case key, state, severity, ownLabels = "labels", activeSince, firingSince, lastTrue, resolvedAt, resolveReason
        case device, evaluatedAt, firstSeen, message, fleet, flips, flappingSince
    }

    /// - Parameter labels: the rule's own labels; built-in names in it (rule, workspace, device, group,
    ///   severity) are dropped, since ``labels`` derives them from the key and severity.
    public init(
        key: AlertKey, state: State, severity: Severity, labels: [String: String], activeSince: Date,
        firingSince: Date?, lastTrue: Date, resolvedAt: Date?, resolveReason: ResolveReason?, device: Device,
        evaluatedAt: Date,
        firstSeen: Date?, message: String? = nil, fleet: FleetFacts? = nil
    ) {
        self.fleet = fleet
        self.key = key
        self.state = state
        self.severity = severity
        self.ownLabels = OwnLabels(labels)
        self.activeSince = activeSince
        self.firingSince = firingSince
        self.lastTrue = lastTrue
        self.resolvedAt = resolvedAt
        self.resolveReason = resolveReason
        self.device = device
        self.evaluatedAt = evaluatedAt
        self.firstSeen = firstSeen
        self.message = message
    }

    /// Whether its condition held at the poll that last evaluated it (a flapping alert is
    /// evaluated on while its condition does not hold).
    var heldAtLastEvaluation: Bool { lastTrue >= evaluatedAt }

    /// Whether a firing alert's condition did not hold at the workspace's latest successful poll
    /// (`lastPoll`): it fires on only through `keep_firing_for`.
    public func isRecovering(lastPoll: Date?) -> Bool {
        guard state == .firing, flappingSince == nil, let lastPoll else { return false }
        return lastTrue < lastPoll
    }

    /// The finding this instance stands for, for explanations and summaries.
    public var finding: Finding {
        Finding(
            workspace: key.workspace, ruleID: key.ruleID, severity: severity, device: device, evaluatedAt: evaluatedAt,
            firstSeen: firstSeen, fleet: fleet)
    }
}

/// An alert's own labels: its rule's, without the ones every alert derives from what it is
/// (rule, workspace, device or group, severity).
///
/// Kept apart so that all alerts of a rule share one dictionary: with the built-in labels in it,
/// each of a 10,000-device outage's alerts carried its own (about 340 bytes each).
struct OwnLabels: Sendable, Equatable, Codable {
    private(set) var values: [String: String]

    static func isBuiltIn(_ name: String) -> Bool {
        name == "rule" || name == "workspace" || name == "device" || name == "severity" || name == "group"
    }

    /// The labels without built-in names; the same dictionary (its storage shared) when it has none.
    init(_ labels: [String: String]) {
        values = labels.keys.contains(where: Self.isBuiltIn) ? labels.filter { !Self.isBuiltIn($0.key) } : labels
    }

    init(from decoder: any Decoder) throws {
        self.init(try [String: String](from: decoder))
    }

    /// Writes only the own labels: reading them back derives the rest again.
    func encode(to encoder: any Encoder) throws {
        try values.encode(to: encoder)
    }

    /// A fleet alert's key names its group, not a device: its label is `group`.
    func value(_ name: String, key: AlertKey, severity: Severity, isFleet: Bool) -> String? {
        switch name {
        case "rule": key.ruleID
        case "workspace": key.workspace
        case "device": key.deviceID.isEmpty || isFleet ? nil : key.deviceID
        case "group": isFleet ? key.deviceID : nil
        case "severity": severity.rawValue
        default: values[name]
        }
    }

    func all(key: AlertKey, severity: Severity, isFleet: Bool) -> [String: String] {
        var labels = values
        labels["rule"] = key.ruleID
        labels["workspace"] = key.workspace
        if isFleet {
            labels["group"] = key.deviceID
        } else if !key.deviceID.isEmpty {
            labels["device"] = key.deviceID
        }
        labels["severity"] = severity.rawValue
        return labels
    }
}

/// A change of an alert's state, with why.
public struct Transition: Sendable, Equatable {
    public var key: AlertKey
    /// nil: the alert was inactive.
    public var from: AlertInstance.State?
    /// nil: the alert became inactive (a pending alert whose condition stopped holding).
    public var to: AlertInstance.State?
    public var at: Date
    public var reason: String

    public init(key: AlertKey, from: AlertInstance.State?, to: AlertInstance.State?, at: Date, reason: String) {
        self.key = key
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
    }

    /// The alert's ``Fingerprint``, derived from the key when asked: a large outage's 10,000
    /// transitions need not hold 10,000 of them.
    public var fingerprint: String {
        Fingerprint.of(workspace: key.workspace, ruleID: key.ruleID, deviceID: key.deviceID)
    }
}

extension AlertInstance {
    /// Equal in everything that is persisted as a change (not the per-poll bookkeeping).
    public func durablyEqual(_ other: AlertInstance) -> Bool {
        key == other.key && state == other.state && severity == other.severity
            && ownLabels == other.ownLabels && activeSince == other.activeSince && firingSince == other.firingSince
            && resolvedAt == other.resolvedAt && resolveReason == other.resolveReason && message == other.message
            && flips == other.flips && flappingSince == other.flappingSince
    }
}
