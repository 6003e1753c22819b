import Foundation

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
        /// What is new is that an alert started flapping: it is held firing, and no notification
        /// follows each further flip until it settles.
        case flapping
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
