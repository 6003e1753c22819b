/// One device that one rule matches now, with why.
public struct Finding: Sendable, Equatable {
    public var workspace: String
    public var ruleID: String
    public var severity: Severity
    public var device: Device
    /// The facts that made it match, e.g. `last heartbeat 17m ago (at least 15m)`, `tags include production`.
    public var reasons: [String]
    /// The rule's summary template rendered for this device.
    public var summary: String

    public init(workspace: String, ruleID: String, severity: Severity, device: Device, reasons: [String], summary: String) {
        self.workspace = workspace
        self.ruleID = ruleID
        self.severity = severity
        self.device = device
        self.reasons = reasons
        self.summary = summary
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
