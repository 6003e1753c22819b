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

    public init(
        workspace: String, ruleID: String, severity: Severity, device: Device, evaluatedAt: Date, firstSeen: Date? = nil
    ) {
        self.workspace = workspace
        self.ruleID = ruleID
        self.severity = severity
        self.device = device
        self.evaluatedAt = evaluatedAt
        self.firstSeen = firstSeen
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
    /// Matching devices per rule id, every rule present.
    public var matchCounts: [String: Int]
}
