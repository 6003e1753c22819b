import Foundation

/// The notification groups of every receiver.
///
/// Changed only through ``set(_:)`` and ``remove(_:)``, which journal each change as it is made
/// (with what it replaced), as ``AlertBook`` does for alerts.
public struct RoutingState: Sendable, Equatable {
    public private(set) var groups: [String: NotificationGroup] = [:]
    /// Each group as it was before its first change this cycle; nil when it did not exist.
    private var groupsBefore: [String: NotificationGroup?] = [:]

    public init() {}

    /// The groups as loaded from a store: no journal.
    public init(groups: some Sequence<NotificationGroup>) {
        for group in groups { self.groups[group.id] = group }
    }

    public static func == (lhs: RoutingState, rhs: RoutingState) -> Bool { lhs.groups == rhs.groups }

    /// Adds or changes a group; the same value again is no change.
    public mutating func set(_ group: NotificationGroup) {
        guard groups[group.id] != group else { return }
        keepOriginal(group.id)
        groups[group.id] = group
    }

    public mutating func remove(_ id: String) {
        guard groups[id] != nil else { return }
        keepOriginal(id)
        groups.removeValue(forKey: id)
    }

    public var journalIsEmpty: Bool { groupsBefore.isEmpty }

    /// Forgets the journal: the cycle is committed (or is starting).
    public mutating func endCycle() { groupsBefore = [:] }

    /// Puts every group changed this cycle back as it was.
    public mutating func rollBack() {
        for (id, original) in groupsBefore {
            if let original { groups[id] = original } else { groups.removeValue(forKey: id) }
        }
        endCycle()
    }

    /// The groups to write and to delete, per the journal, in id order.
    func journaledGroups() -> (upsert: [String], delete: [String]) {
        var upsert: [String] = []
        var delete: [String] = []
        for (id, original) in groupsBefore {
            if groups[id] != nil {
                upsert.append(id)
            } else if original != nil {
                delete.append(id)
            }
        }
        return (upsert.sorted(), delete.sorted())
    }

    private mutating func keepOriginal(_ id: String) {
        guard groupsBefore.index(forKey: id) == nil else { return }
        groupsBefore[id] = .some(groups[id])
    }
}
