import Foundation

/// What must be written after a cycle: only what changed durably since the last commit, so a
/// cycle with no changes writes nothing.
///
/// The per-poll bookkeeping of a firing alert (`lastTrue`, `evaluatedAt`, the device snapshot) is
/// deliberately not a durable change: it is rewritten only with the alert's next real change.
public struct StateChanges: Sendable, Equatable {
    public var upsertAlerts = Selection<AlertKey, AlertInstance>()
    public var deleteAlerts: [AlertKey] = []
    public var upsertGroups = Selection<String, NotificationGroup>()
    public var deleteGroups: [String] = []
    public var addFirstSeen: [(workspace: String, deviceID: String, at: Date)] = []
    public var deleteFirstSeen: [(workspace: String, deviceID: String)] = []
    public var upsertHealth: [(workspace: String, health: WorkspaceHealth)] = []
    /// Where the API's clock stands against the local one, for workspaces where that moved.
    public var upsertClockOffsets: [ClockOffset] = []
    public var intents: [NotificationIntent] = []

    public init() {}

    public var isEmpty: Bool {
        upsertAlerts.isEmpty && deleteAlerts.isEmpty && upsertGroups.isEmpty && deleteGroups.isEmpty
            && addFirstSeen.isEmpty
            && deleteFirstSeen.isEmpty && upsertHealth.isEmpty && upsertClockOffsets.isEmpty && intents.isEmpty
    }

    public static func == (lhs: StateChanges, rhs: StateChanges) -> Bool {
        lhs.upsertAlerts == rhs.upsertAlerts && lhs.deleteAlerts == rhs.deleteAlerts
            && lhs.upsertGroups == rhs.upsertGroups
            && lhs.deleteGroups == rhs.deleteGroups && lhs.intents == rhs.intents
            && lhs.addFirstSeen.map { "\($0.workspace)/\($0.deviceID)@\($0.at.timeIntervalSince1970)" }
                == rhs.addFirstSeen.map { "\($0.workspace)/\($0.deviceID)@\($0.at.timeIntervalSince1970)" }
            && lhs.deleteFirstSeen.map { "\($0.workspace)/\($0.deviceID)" }
                == rhs.deleteFirstSeen.map { "\($0.workspace)/\($0.deviceID)" }
            && lhs.upsertHealth.map(\.workspace) == rhs.upsertHealth.map(\.workspace)
            && lhs.upsertHealth.map(\.health) == rhs.upsertHealth.map(\.health)
            && lhs.upsertClockOffsets == rhs.upsertClockOffsets
    }

    /// The changes from `old` to `new` (both the book and the routing state), plus the intents to enqueue.
    public static func between(
        _ old: (book: AlertBook, routing: RoutingState), _ new: (book: AlertBook, routing: RoutingState),
        intents: [NotificationIntent]
    ) -> StateChanges {
        var changedAlerts: [AlertKey] = []
        for (key, alert) in new.book.alerts {
            if let previous = old.book.alerts[key], previous.durablyEqual(alert) { continue }
            changedAlerts.append(key)
        }
        let deleted = old.book.alerts.keys.filter { new.book.alerts[$0] == nil }
        return assemble(
            changedAlerts: changedAlerts, deletedAlerts: deleted,
            old: (old.book.firstSeen, old.book.health, old.routing), new, intents: intents)
    }

    /// What a cycle's state was when it began, besides its alerts (whose originals the book keeps).
    public struct CycleStart: Sendable {
        public var firstSeen: [String: [String: Date]]
        public var health: [String: WorkspaceHealth]
        public var routing: RoutingState

        public init(book: AlertBook, routing: RoutingState) {
            firstSeen = book.firstSeen
            health = book.health
            self.routing = routing
        }
    }

    /// The changes of a cycle begun with ``AlertBook/beginCycle()``: the alerts from the book's
    /// ``AlertBook/originals`` and ``AlertBook/added`` (only those changed durably are looked at), the rest against their
    /// values at `start`. The same as ``between(_:_:intents:)`` with the whole book as it was.
    public static func since(
        _ start: CycleStart, _ new: (book: AlertBook, routing: RoutingState), intents: [NotificationIntent]
    ) -> StateChanges {
        var changedAlerts: [AlertKey] = []
        var deletedAlerts: [AlertKey] = []
        for (key, original) in new.book.originals {
            if let alert = new.book.alerts[key] {
                if !original.durablyEqual(alert) { changedAlerts.append(key) }
            } else {
                deletedAlerts.append(key)
            }
        }
        for key in new.book.added where new.book.alerts[key] != nil { changedAlerts.append(key) }
        return assemble(
            changedAlerts: changedAlerts, deletedAlerts: deletedAlerts,
            old: (start.firstSeen, start.health, start.routing), new,
            intents: intents)
    }

    private static func assemble(
        changedAlerts: [AlertKey], deletedAlerts: [AlertKey],
        old: (firstSeen: [String: [String: Date]], health: [String: WorkspaceHealth], routing: RoutingState),
        _ new: (book: AlertBook, routing: RoutingState), intents: [NotificationIntent]
    ) -> StateChanges {
        var changes = StateChanges()
        changes.intents = intents
        // Changed alerts and groups are selected by key from the new state, not copied out of it:
        // 10,000 copies of alerts held megabytes at once.
        changes.upsertAlerts = Selection(changedAlerts.sorted(), from: new.book.alerts)
        changes.deleteAlerts = deletedAlerts.sorted()
        var changedGroups: [String] = []
        for (id, group) in new.routing.groups where old.routing.groups[id] != group { changedGroups.append(id) }
        changes.upsertGroups = Selection(changedGroups.sorted(), from: new.routing.groups)
        changes.deleteGroups = old.routing.groups.keys.filter { new.routing.groups[$0] == nil }.sorted()
        for (workspace, devices) in new.book.firstSeen {
            let before = old.firstSeen[workspace] ?? [:]
            guard before.count != devices.count || devices.contains(where: { before[$0.key] == nil }) else { continue }
            for (id, at) in devices where before[id] == nil { changes.addFirstSeen.append((workspace, id, at)) }
            for id in before.keys where devices[id] == nil { changes.deleteFirstSeen.append((workspace, id)) }
        }
        for (workspace, devices) in old.firstSeen where new.book.firstSeen[workspace] == nil {
            for id in devices.keys { changes.deleteFirstSeen.append((workspace, id)) }
        }
        for (workspace, health) in new.book.health {
            let before = old.health[workspace]
            // A successful poll after a success is not news; the first one, and every failure change, is.
            if before?.failingSince == health.failingSince, before?.failure == health.failure,
                before?.authFailure == health.authFailure, before?.lastSuccess != nil || health.lastSuccess == nil
            {
                continue
            }
            changes.upsertHealth.append((workspace, health))
        }
        changes.upsertHealth.sort { $0.workspace < $1.workspace }
        return changes
    }
}

/// Values of a dictionary picked by key, in the keys' order, read from the dictionary rather than
/// copied out of it (its storage is shared with the state the selection was made from).
public struct Selection<Key: Hashable & Sendable, Value: Sendable>: RandomAccessCollection, Sendable {
    public private(set) var keys: [Key]
    private let source: [Key: Value]

    /// - Parameter keys: keys of `source`, each once.
    public init(_ keys: [Key] = [], from source: [Key: Value] = [:]) {
        // Checked in debug builds only: in release it would look every key up once more per commit.
        assert(keys.allSatisfy { source[$0] != nil }, "a selection names a key its source lacks")
        self.keys = keys
        self.source = source
    }

    public var startIndex: Int { keys.startIndex }
    public var endIndex: Int { keys.endIndex }
    public subscript(position: Int) -> Value { source[keys[position]]! }
}

extension Selection: Equatable where Value: Equatable {
    public static func == (lhs: Selection, rhs: Selection) -> Bool { lhs.elementsEqual(rhs) }
}

extension AlertInstance {
    /// Equal in everything that is persisted as a change (not the per-poll bookkeeping).
    public func durablyEqual(_ other: AlertInstance) -> Bool {
        key == other.key && state == other.state && severity == other.severity
            && ownLabels == other.ownLabels && activeSince == other.activeSince && firingSince == other.firingSince
            && resolvedAt == other.resolvedAt && resolveReason == other.resolveReason && message == other.message
    }
}
