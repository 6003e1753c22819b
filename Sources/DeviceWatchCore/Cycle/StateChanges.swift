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
    /// Rows for the device status log: one per device whose status changed.
    public var statusChanges: [StatusChange] = []
    /// Devices whose facts (name, type, platform, tags) changed, or that are new.
    public var upsertFacts: [KnownDevice] = []
    /// Workspaces whose coverage span started or reached further.
    public var upsertCoverage: [CoverageSpan] = []
    /// Alert history rows: one per alert that fired, changed while firing, or resolved.
    public var upsertEpisodes: [AlertEpisode] = []
    public var intents: [NotificationIntent] = []

    public init() {}

    public var isEmpty: Bool {
        upsertAlerts.isEmpty && deleteAlerts.isEmpty && upsertGroups.isEmpty && deleteGroups.isEmpty
            && addFirstSeen.isEmpty
            && deleteFirstSeen.isEmpty && upsertHealth.isEmpty && upsertClockOffsets.isEmpty && intents.isEmpty
            && statusChanges.isEmpty && upsertFacts.isEmpty && upsertCoverage.isEmpty && upsertEpisodes.isEmpty
    }

    public static func == (lhs: StateChanges, rhs: StateChanges) -> Bool {
        lhs.upsertAlerts == rhs.upsertAlerts && lhs.deleteAlerts == rhs.deleteAlerts
            && lhs.upsertGroups == rhs.upsertGroups
            && lhs.deleteGroups == rhs.deleteGroups && lhs.intents == rhs.intents
            // First sightings in any order: a cycle lists them as it meets them.
            && lhs.addFirstSeen.map { "\($0.workspace)/\($0.deviceID)@\($0.at.timeIntervalSince1970)" }.sorted()
                == rhs.addFirstSeen.map { "\($0.workspace)/\($0.deviceID)@\($0.at.timeIntervalSince1970)" }.sorted()
            && lhs.deleteFirstSeen.map { "\($0.workspace)/\($0.deviceID)" }.sorted()
                == rhs.deleteFirstSeen.map { "\($0.workspace)/\($0.deviceID)" }.sorted()
            && lhs.upsertHealth.map(\.workspace) == rhs.upsertHealth.map(\.workspace)
            && lhs.upsertHealth.map(\.health) == rhs.upsertHealth.map(\.health)
            && lhs.upsertClockOffsets == rhs.upsertClockOffsets
            // Status changes in any order too: a cycle lists them in the device list's order.
            && lhs.statusChanges.map(\.description).sorted() == rhs.statusChanges.map(\.description).sorted()
            && lhs.upsertFacts.sorted(by: Self.byDevice) == rhs.upsertFacts.sorted(by: Self.byDevice)
            && lhs.upsertCoverage.sorted { $0.workspace < $1.workspace }
                == rhs.upsertCoverage.sorted { $0.workspace < $1.workspace }
            && lhs.upsertEpisodes == rhs.upsertEpisodes
    }

    private static func byDevice(_ lhs: KnownDevice, _ rhs: KnownDevice) -> Bool {
        (lhs.workspace, lhs.deviceID) < (rhs.workspace, rhs.deviceID)
    }

    /// The changes journaled in `book` and `routing` since their cycle began: selected by key
    /// from the state as it now is, not copied out of it (10,000 copies of alerts held megabytes
    /// at once).
    public init(journalOf book: AlertBook, routing: RoutingState) {
        let alerts = book.journaledAlerts()
        upsertAlerts = Selection(alerts.upsert, from: book.alerts)
        deleteAlerts = alerts.delete
        let groups = routing.journaledGroups()
        upsertGroups = Selection(groups.upsert, from: routing.groups)
        deleteGroups = groups.delete
        addFirstSeen = book.journal.firstSeenAdded
        deleteFirstSeen = book.journal.firstSeenRemoved
        statusChanges = book.journal.statusChanges
        upsertFacts = book.journal.factsChanged
        upsertCoverage = book.journal.coverageBefore.keys.sorted().compactMap { book.coverage[$0] }
        // Built in place at its final size: after a 10,000-device outage, growing it (and adding
        // the ended ones to a copy) held twice its megabytes at the cycle's peak.
        var episodes: [AlertEpisode] = []
        episodes.reserveCapacity(upsertAlerts.count + book.journal.episodesEnded.count)
        episodes.append(contentsOf: upsertAlerts.lazy.compactMap(AlertEpisode.init))
        episodes.append(contentsOf: book.journal.episodesEnded.sorted { $0.key < $1.key })
        upsertEpisodes = episodes
        upsertHealth = book.journal.healthChanged.sorted().compactMap { workspace in
            book.health[workspace].map { (workspace, $0) }
        }
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
