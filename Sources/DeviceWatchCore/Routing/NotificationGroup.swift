import Foundation

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
    /// The told alerts the receiver was told are flapping (nil: none).
    public var toldFlapping: Set<AlertKey>?

    /// The group's key, `{label="value",...}`: the end of ``id``, not stored apart from it (one
    /// string less per group; grouping by device makes a group per alert).
    public var groupKey: String { String(id.utf8.dropFirst(receiver.utf8.count + 1))! }

    enum CodingKeys: String, CodingKey {
        case id, receiver, labels, createdAt, lastSentAt, told, sequence, toldFlapping
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
