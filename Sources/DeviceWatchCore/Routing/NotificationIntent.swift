import Foundation

/// An alert as a notification tells it: its facts frozen when the notification is planned.
///
/// Text (summary, description, reasons) is rendered from these facts when the notification is
/// delivered, and only for the alerts a receiver shows: a 15,000-device outage stores facts,
/// not 15,000 rendered summaries. See ``RuleSet/summary(of:)-(AlertSnapshot)``.
public struct AlertSnapshot: Sendable, Equatable, Codable {
    public var key: AlertKey
    public var fingerprint: String
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

    public init(
        key: AlertKey, fingerprint: String, status: AlertInstance.State, severity: Severity, labels: [String: String],
        startsAt: Date,
        endsAt: Date?, resolveReason: String?, device: Device, evaluatedAt: Date, firstSeen: Date?, message: String?
    ) {
        self.key = key
        self.fingerprint = fingerprint
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
    }

    /// `rule`, `workspace`, `device` (when the alert is about a device), `severity` and the rule's own labels.
    public var labels: [String: String] { ownLabels.all(key: key, severity: severity) }

    enum CodingKeys: String, CodingKey {
        case key, fingerprint, status, severity, ownLabels = "labels", startsAt, endsAt, resolveReason, device,
            evaluatedAt, firstSeen, message
    }

    /// The finding the snapshot stands for, for rendering its text.
    public var finding: Finding {
        Finding(
            workspace: key.workspace, ruleID: key.ruleID, severity: severity, device: device, evaluatedAt: evaluatedAt,
            firstSeen: firstSeen)
    }
}

extension RuleSet {
    /// The summary of an alert in a notification: its rule's template, or for devicewatch's own
    /// alerts their message, or plain words when the rule is gone.
    public func summary(of alert: AlertSnapshot) -> String {
        summary(key: alert.key, message: alert.message, finding: alert.finding)
    }

    /// The same for an alert as it stands (the status page and the alerts API).
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

    /// The rendered description of an alert in a notification (nil without one, and for resolves
    /// and devicewatch's own alerts).
    public func description(of alert: AlertSnapshot) -> String? {
        guard alert.message == nil, rule(alert.key.ruleID) != nil else { return nil }
        return description(of: alert.finding)
    }

    /// The same for an alert as it stands (the status page and the alerts API).
    public func description(of alert: AlertInstance) -> String? {
        guard alert.message == nil, rule(alert.key.ruleID) != nil else { return nil }
        return description(of: alert.finding)
    }

    /// Why a firing alert matched (empty for resolved and meta alerts).
    public func reasons(for alert: AlertSnapshot) -> [String] {
        guard alert.status == .firing, alert.message == nil, rule(alert.key.ruleID) != nil else { return [] }
        return reasons(for: alert.finding)
    }
}

/// One message to one receiver about one group of alerts, and why it is sent.
public struct NotificationIntent: Sendable, Equatable, Codable {
    public enum Reason: String, Sendable, Codable {
        /// The first notification of a new group (after `group_wait`).
        case new
        /// Alerts joined or left the group (after `group_interval`).
        case changed
        /// Nothing changed and the group still fires (after `repeat_every`).
        case `repeat`
        /// Only resolves to tell.
        case resolved
    }

    /// Stable and attempt-independent: the group's id and its notification number.
    public var id: String
    public var receiver: String
    public var groupKey: String
    /// The group's labels, as the group keeps them (shared with it).
    public var groupLabelPairs: GroupLabels
    public var firing: [AlertSnapshot]
    public var resolved: [AlertSnapshot]
    public var reason: Reason
    public var createdAt: Date

    /// The labels named in the group's `group_by`, with their values.
    public var groupLabels: [String: String] { groupLabelPairs.dictionary }

    enum CodingKeys: String, CodingKey {
        case id, receiver, groupKey, groupLabelPairs = "groupLabels", firing, resolved, reason, createdAt
    }

    public init(
        id: String, receiver: String, groupKey: String, groupLabels: GroupLabels, firing: [AlertSnapshot],
        resolved: [AlertSnapshot],
        reason: Reason, createdAt: Date
    ) {
        self.id = id
        self.receiver = receiver
        self.groupKey = groupKey
        self.groupLabelPairs = groupLabels
        self.firing = firing
        self.resolved = resolved
        self.reason = reason
        self.createdAt = createdAt
    }
}

/// What one receiver has been told about one group, for grouping decisions across cycles.
public struct NotificationGroup: Sendable, Equatable, Codable {
    /// `receiver:groupKey`.
    public private(set) var id: String
    public private(set) var receiver: String
    public var labels: GroupLabels
    public var createdAt: Date
    public var lastSentAt: Date?
    /// The alerts the receiver was told are firing (and not yet told resolved).
    public var told: ToldAlerts
    /// Notifications planned so far, numbering intent ids.
    public var sequence: Int

    /// The group's key, `{label="value",...}`: the end of ``id``, not stored apart from it (one
    /// string less per group; grouping by device makes a group per alert).
    public var groupKey: String { String(id.utf8.dropFirst(receiver.utf8.count + 1))! }

    enum CodingKeys: String, CodingKey {
        case id, receiver, labels, createdAt, lastSentAt, told, sequence
    }

    /// - Parameter id: `receiver:groupKey`.
    public init(
        id: String, receiver: String, labels: GroupLabels, createdAt: Date, lastSentAt: Date?, told: ToldAlerts,
        sequence: Int
    ) {
        precondition(
            id.utf8.starts(with: receiver.utf8) && id.utf8.dropFirst(receiver.utf8.count).first == UInt8(ascii: ":"),
            "a group's id is receiver:groupKey")
        self.id = id
        self.receiver = receiver
        self.labels = labels
        self.createdAt = createdAt
        self.lastSentAt = lastSentAt
        self.told = told
        self.sequence = sequence
    }
}

/// A group's labels as name/value pairs in name order.
///
/// A dictionary costs about 270 bytes for a single label, and grouping by device makes one group
/// per alert: 10,000 of them in a large outage. Encoded as a JSON object, as a dictionary was.
public struct GroupLabels: Sendable, Equatable, Codable, ExpressibleByDictionaryLiteral {
    public struct Label: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    /// In name order, each name once.
    public private(set) var labels: [Label]

    public init(_ labels: [String: String]) {
        self.labels = labels.sorted { $0.key < $1.key }.map { Label(name: $0.key, value: $0.value) }
    }

    /// - Parameter labels: already in name order, each name once.
    init(sorted labels: [Label]) {
        self.labels = labels
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public init(from decoder: any Decoder) throws {
        self.init(try [String: String](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try dictionary.encode(to: encoder)
    }

    public var dictionary: [String: String] {
        Dictionary(labels.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(name: String) -> String? {
        labels.first { $0.name == name }?.value
    }
}

/// The alerts a receiver was told are firing, as a sorted array searched by bisection.
///
/// A set's hash table costs about 170 bytes for a single alert, and grouping by device makes one
/// group per alert: 10,000 of them in a large outage. Encoded as a JSON array, as a set was.
public struct ToldAlerts: Sendable, Equatable, Codable, Sequence, ExpressibleByArrayLiteral {
    /// Sorted, without repeats.
    public private(set) var keys: [AlertKey]

    public init(_ keys: some Sequence<AlertKey>) {
        var sorted = keys.sorted()
        var kept = 0
        for key in sorted where kept == 0 || sorted[kept - 1] != key {
            sorted[kept] = key
            kept += 1
        }
        sorted.removeLast(sorted.count - kept)
        self.keys = sorted
    }

    public init(arrayLiteral keys: AlertKey...) {
        self.init(keys)
    }

    public init(from decoder: any Decoder) throws {
        self.init(try [AlertKey](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try keys.encode(to: encoder)
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public func contains(_ key: AlertKey) -> Bool {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < keys.count && keys[low] == key
    }

    public mutating func subtract(_ gone: some Sequence<AlertKey>) {
        let gone = Set(gone)
        keys.removeAll { gone.contains($0) }
    }

    public func makeIterator() -> IndexingIterator<[AlertKey]> { keys.makeIterator() }
}

/// The notification groups of every receiver.
public struct RoutingState: Sendable, Equatable {
    public var groups: [String: NotificationGroup] = [:]

    public init() {}
}

/// Grouping and timing settings (the configuration's `defaults`, and `meta_receivers`).
public struct RoutingDefaults: Sendable, Equatable {
    public var groupBy: [String]
    public var groupWait: Double
    public var groupInterval: Double
    public var repeatEvery: Double
    public var sendResolved: Bool
    public var metaReceivers: [String]

    public init(_ defaults: Configuration.Defaults = .init(), metaReceivers: [String] = []) {
        groupBy = defaults.groupBy
        groupWait = defaults.groupWait
        groupInterval = defaults.groupInterval
        repeatEvery = defaults.repeatEvery
        sendResolved = defaults.sendResolved
        self.metaReceivers = metaReceivers
    }
}
