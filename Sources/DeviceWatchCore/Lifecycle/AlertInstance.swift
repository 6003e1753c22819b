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
    /// See ``Fingerprint``.
    public var fingerprint: String
    public var state: State
    public var severity: Severity
    /// `rule`, `workspace`, `device`, `severity` and the rule's own labels.
    public var labels: [String: String]
    /// When the condition started to hold, this time round.
    public var activeSince: Date
    public var firingSince: Date?
    /// The latest evaluation at which the condition held.
    public var lastTrue: Date
    public var resolvedAt: Date?
    /// `recovered`, `device removed`, `rule removed`, or why a meta alert resolved.
    public var resolveReason: String?
    /// The device as last seen (for templates and receivers).
    public var device: Device
    /// The evaluation time of the latest update.
    public var evaluatedAt: Date
    public var firstSeen: Date?
    /// For devicewatch's own alerts: what is wrong, in words.
    public var message: String?

    public var isMeta: Bool { key.ruleID.hasPrefix("devicewatch.") }

    /// The finding this instance stands for, for explanations and summaries.
    public var finding: Finding {
        Finding(workspace: key.workspace, ruleID: key.ruleID, severity: severity, device: device, evaluatedAt: evaluatedAt, firstSeen: firstSeen)
    }
}

/// A change of an alert's state, with why.
public struct Transition: Sendable, Equatable, Codable {
    public var key: AlertKey
    public var fingerprint: String
    /// nil: the alert was inactive.
    public var from: AlertInstance.State?
    /// nil: the alert became inactive (a pending alert whose condition stopped holding).
    public var to: AlertInstance.State?
    public var at: Date
    public var reason: String
}
