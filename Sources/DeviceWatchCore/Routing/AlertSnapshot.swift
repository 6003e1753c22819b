import Foundation

/// An alert as a notification tells it: its facts frozen when the notification is planned.
///
/// Its text (summary, description, reasons) is rendered once, when the notification is planned,
/// from the rule that fired (``text``): what it says never changes with a later reload.
public struct AlertSnapshot: Sendable, Equatable, Codable {
    public var key: AlertKey
    public var status: AlertInstance.State
    public var severity: Severity
    /// The rule's own labels; see ``labels``.
    var ownLabels: OwnLabels
    public var startsAt: Date
    public var endsAt: Date?
    public var resolveReason: String?
    public var device: Device
    /// The evaluation time the facts are from.
    public var evaluatedAt: Date
    public var firstSeen: Date?
    /// For devicewatch's own alerts: what is wrong, in words.
    public var message: String?
    /// What the notification says about it, fixed when planned; nil for devicewatch's own
    /// alerts (see ``message``), and in notifications written before this field existed.
    public var text: AlertText?
    /// For a fleet rule's alert: its group as planned (see ``AlertInstance/fleet``).
    public var fleet: FleetFacts?
    /// Set while the alert is flapping (held firing until it has been stable).
    public var flapping: FlappingState?
    /// Who acknowledged it and when, while an acknowledgement holds.
    public var acknowledgement: Acknowledgement.Note?

    public init(
        key: AlertKey, status: AlertInstance.State, severity: Severity, labels: [String: String],
        startsAt: Date,
        endsAt: Date?, resolveReason: String?, device: Device, evaluatedAt: Date, firstSeen: Date?, message: String?,
        text: AlertText? = nil, fleet: FleetFacts? = nil, flapping: FlappingState? = nil
    ) {
        self.fleet = fleet
        self.flapping = flapping
        self.key = key
        self.status = status
        self.severity = severity
        self.ownLabels = OwnLabels(labels)
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.resolveReason = resolveReason
        self.device = device
        self.evaluatedAt = evaluatedAt
        self.firstSeen = firstSeen
        self.message = message
        self.text = text
    }

    /// `rule`, `workspace`, `device` (when the alert is about a device), `severity` and the rule's own labels.
    public var labels: [String: String] { ownLabels.all(key: key, severity: severity, isFleet: fleet != nil) }

    /// See ``Fingerprint``. Derived from the key when asked, as ``AlertInstance/fingerprint`` is,
    /// and written with the snapshot for its readers.
    public var fingerprint: String {
        Fingerprint.of(workspace: key.workspace, ruleID: key.ruleID, deviceID: key.deviceID)
    }

    enum CodingKeys: String, CodingKey {
        case key, fingerprint, status, severity, ownLabels = "labels", startsAt, endsAt, resolveReason, device,
            evaluatedAt, firstSeen, message, text, fleet, flapping
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            key: try container.decode(AlertKey.self, forKey: .key),
            status: try container.decode(AlertInstance.State.self, forKey: .status),
            severity: try container.decode(Severity.self, forKey: .severity), labels: [:],
            startsAt: try container.decode(Date.self, forKey: .startsAt),
            endsAt: try container.decodeIfPresent(Date.self, forKey: .endsAt),
            resolveReason: try container.decodeIfPresent(String.self, forKey: .resolveReason),
            device: try container.decode(Device.self, forKey: .device),
            evaluatedAt: try container.decode(Date.self, forKey: .evaluatedAt),
            firstSeen: try container.decodeIfPresent(Date.self, forKey: .firstSeen),
            message: try container.decodeIfPresent(String.self, forKey: .message),
            text: try container.decodeIfPresent(AlertText.self, forKey: .text),
            fleet: try container.decodeIfPresent(FleetFacts.self, forKey: .fleet),
            flapping: try container.decodeIfPresent(FlappingState.self, forKey: .flapping))
        ownLabels = try container.decode(OwnLabels.self, forKey: .ownLabels)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(status, forKey: .status)
        try container.encode(severity, forKey: .severity)
        try container.encode(ownLabels, forKey: .ownLabels)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encodeIfPresent(endsAt, forKey: .endsAt)
        try container.encodeIfPresent(resolveReason, forKey: .resolveReason)
        try container.encode(device, forKey: .device)
        try container.encode(evaluatedAt, forKey: .evaluatedAt)
        try container.encodeIfPresent(firstSeen, forKey: .firstSeen)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(text, forKey: .text)
        try container.encodeIfPresent(fleet, forKey: .fleet)
        try container.encodeIfPresent(flapping, forKey: .flapping)
    }

    /// The finding the snapshot stands for, for rendering its text.
    public var finding: Finding {
        Finding(
            workspace: key.workspace, ruleID: key.ruleID, severity: severity, device: device, evaluatedAt: evaluatedAt,
            firstSeen: firstSeen, fleet: fleet)
    }
}

extension RuleSet {
    /// The alert with the text its notification tells: the text fixed when it was planned; for
    /// notifications planned before texts were kept, its rule's templates now, or plain words
    /// when the rule is gone; for devicewatch's own alerts, their message.
    public func withText(_ alert: AlertSnapshot) -> AlertSnapshot {
        guard alert.text == nil else { return alert }
        var told = alert
        let isRule = alert.message == nil && rule(alert.key.ruleID) != nil
        told.text = AlertText(
            summary: summary(key: alert.key, message: alert.message, finding: alert.finding),
            description: isRule ? description(of: alert.finding) : nil,
            reasons: isRule && alert.status == .firing ? reasons(for: alert.finding) : [])
        return told
    }

    /// The summary of an alert as it stands (the status page and the alerts API).
    public func summary(of alert: AlertInstance) -> String {
        summary(key: alert.key, message: alert.message, finding: alert.finding)
    }

    private func summary(key: AlertKey, message: String?, finding: @autoclosure () -> Finding) -> String {
        // devicewatch's own alerts quote the API's error message: inert too.
        if let message { return InertText.block(message) }
        let finding = finding()
        guard rule(key.ruleID) != nil else { return "\(key.ruleID) on \(InertText.line(finding.device.displayName))" }
        return summary(of: finding)
    }

    /// The rendered description of an alert as it stands (nil without one, and for devicewatch's own alerts).
    public func description(of alert: AlertInstance) -> String? {
        guard alert.message == nil, rule(alert.key.ruleID) != nil else { return nil }
        return description(of: alert.finding)
    }
}
