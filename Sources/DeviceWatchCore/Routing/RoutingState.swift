import Foundation

/// The notification groups of every receiver.
///
/// Changed only through ``set(_:)`` and ``remove(_:)``, which journal each change as it is made
/// (with what it replaced), as ``AlertBook`` does for alerts.
public struct RoutingState: Sendable, Equatable {
    public private(set) var groups: [String: NotificationGroup] = [:]
    /// Each group that existed as it was before its first change this cycle.
    private var groupsBefore: [String: NotificationGroup] = [:]
    /// The groups this cycle made. Kept apart from ``groupsBefore``: as a `nil` original there,
    /// each new group would take a whole group's slot, and a 10,000-device outage makes 10,000.
    private var groupsAdded: Set<String> = []

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

    public var journalIsEmpty: Bool { groupsBefore.isEmpty && groupsAdded.isEmpty }

    /// Forgets the journal: the cycle is committed (or is starting).
    public mutating func endCycle() {
        groupsBefore = [:]
        groupsAdded = []
    }

    /// Puts every group changed this cycle back as it was.
    public mutating func rollBack() {
        for id in groupsAdded { groups.removeValue(forKey: id) }
        for (id, original) in groupsBefore { groups[id] = original }
        endCycle()
    }

    /// The groups to write and to delete, per the journal, in id order.
    func journaledGroups() -> (upsert: [String], delete: [String]) {
        var upsert: [String] = []
        var delete: [String] = []
        for id in groupsAdded where groups[id] != nil { upsert.append(id) }
        for id in groupsBefore.keys {
            if groups[id] != nil { upsert.append(id) } else { delete.append(id) }
        }
        return (upsert.sorted(), delete.sorted())
    }

    private mutating func keepOriginal(_ id: String) {
        guard groupsBefore.index(forKey: id) == nil, !groupsAdded.contains(id) else { return }
        if let original = groups[id] { groupsBefore[id] = original } else { groupsAdded.insert(id) }
    }
}
