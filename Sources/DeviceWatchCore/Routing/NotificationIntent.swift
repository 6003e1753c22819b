import Foundation

/// An alert as a notification tells it: frozen when the notification is planned.
public struct AlertSnapshot: Sendable, Equatable, Codable {
    public var key: AlertKey
    public var fingerprint: String
    public var status: AlertInstance.State
    public var severity: Severity
    public var labels: [String: String]
    public var summary: String
    public var description: String?
    /// Why the rule matched, e.g. `last heartbeat 17m ago (at least 15m)`.
    public var reasons: [String]
    public var startsAt: Date
    public var endsAt: Date?
    public var resolveReason: String?
    public var device: Device
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
    public var groupLabels: [String: String]
    public var firing: [AlertSnapshot]
    public var resolved: [AlertSnapshot]
    public var reason: Reason
    public var createdAt: Date
}

/// What one receiver has been told about one group, for grouping decisions across cycles.
public struct NotificationGroup: Sendable, Equatable, Codable {
    public var id: String
    public var receiver: String
    public var groupKey: String
    public var labels: [String: String]
    public var createdAt: Date
    public var lastSentAt: Date?
    /// The alerts the receiver was told are firing (and not yet told resolved).
    public var told: Set<AlertKey>
    /// Notifications planned so far, numbering intent ids.
    public var sequence: Int
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
