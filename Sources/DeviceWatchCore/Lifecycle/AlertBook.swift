import Foundation

/// Every alert instance and what is known about each workspace's devices: the state the
/// lifecycle works on. Pure data; the shell persists it.
///
/// Every durable change goes through a mutating method that writes it into the book's
/// ``Journal`` as it is made: the journal is what a cycle commits (``StateChanges``), and what a
/// failed commit rolls back. Nothing is found by comparing the book with an older copy of itself.
public struct AlertBook: Sendable, Equatable {
    public private(set) var alerts: [AlertKey: AlertInstance] = [:]
    /// When devicewatch first saw each device, per workspace (for `unknown_for` without `created_at`).
    public internal(set) var firstSeen: [String: [String: Date]] = [:]
    /// Poll health per workspace (blind spots).
    public internal(set) var health: [String: WorkspaceHealth] = [:]
    /// Each listed device's status at its latest poll and a digest of its facts, per workspace:
    /// what the status log's newest row and the device facts table say of it, so a poll writes a
    /// row only for a device whose status or facts changed.
    var observations: [String: [String: Observation]] = [:]
    /// The span over which devicewatch has seen each workspace lately, as written.
    public internal(set) var coverage: [String: CoverageSpan] = [:]
    /// Each workspace's latest successful poll (not durable: a restart reads the span's end).
    var lastPoll: [String: Date] = [:]
    /// Each workspace's devices in the order of its latest poll, with what was observed of each
    /// (``list(workspace:devices:at:)``): not durable, and not part of the book's equality.
    var listings: [String: Listing] = [:]
    /// What changed since the cycle began.
    public internal(set) var journal = Journal()

    /// The durable changes of one cycle, written as they are made, with what they replaced.
    public struct Journal: Sendable {
        /// Each alert that existed as it was before its first durable change this cycle. Keeping
        /// these few, rather than the whole book as it was, spares every poll of a long outage a
        /// copy of all its alerts.
        var alertsBefore: [AlertKey: AlertInstance] = [:]
        /// The alerts that did not exist before the cycle: only their keys (an outage's 10,000 new
        /// alerts would otherwise each take an alert-sized slot of nothing, 4 MB).
        var alertsAdded: Set<AlertKey> = []
        var firstSeenAdded: [(workspace: String, deviceID: String, at: Date)] = []
        var firstSeenRemoved: [(workspace: String, deviceID: String)] = []
        /// Each workspace's first sightings as they were before the cycle changed them.
        var firstSeenBefore: [String: [String: Date]?] = [:]
        var healthBefore: [String: WorkspaceHealth?] = [:]
        /// Rows for the device status log, in the order the devices were met.
        var statusChanges: [StatusChange] = []
        /// Each workspace's observations as they were before the cycle changed them.
        var observationsBefore: [String: [String: Observation]?] = [:]
        /// Devices whose facts changed (or that are new), in the order they were met.
        var factsChanged: [KnownDevice] = []
        /// The episodes of alerts removed this cycle, as they ended.
        var episodesEnded: [AlertEpisode] = []
        /// Each workspace's coverage span as it was before the cycle changed it.
        var coverageBefore: [String: CoverageSpan?] = [:]
        /// The workspaces whose health changed in a way worth writing (not a success after a success).
        var healthChanged: Set<String> = []
        /// Whether an alert changed in what planning reads but is not durable: refreshed with
        /// another device (beyond its heartbeat) or fleet, or starting or ending a recovery
        /// through `keep_firing_for` (see ``AlertBook/planningInputChanged()``).
        var changedWhatPlanningReads = false

        /// Whether planning would see the alerts as the previous cycle left them: none changed
        /// durably, nor in what planning reads (``changedWhatPlanningReads``).
        var leavesPlanningInputs: Bool {
            alertsBefore.isEmpty && alertsAdded.isEmpty && !changedWhatPlanningReads
        }

        public var isEmpty: Bool {
            alertsBefore.isEmpty && alertsAdded.isEmpty && firstSeenAdded.isEmpty && firstSeenRemoved.isEmpty
                && healthChanged.isEmpty
                && firstSeenBefore.isEmpty && healthBefore.isEmpty && statusChanges.isEmpty
                && observationsBefore.isEmpty
                && factsChanged.isEmpty && coverageBefore.isEmpty && episodesEnded.isEmpty
        }
    }

    public init() {}

    /// A book as loaded from a store: no journal.
    public init(
        alerts: some Sequence<AlertInstance>, firstSeen: [String: [String: Date]] = [:],
        health: [String: WorkspaceHealth] = [:], statuses: [String: [String: DeviceStatus]] = [:],
        facts: some Sequence<KnownDevice> = [], coverage: some Sequence<CoverageSpan> = []
    ) {
        for alert in alerts { self.alerts[alert.key] = alert }
        self.firstSeen = firstSeen
        self.health = health
        var digests: [String: [String: Int]] = [:]
        for fact in facts { digests[fact.workspace, default: [:]][fact.deviceID] = fact.digest }
        for (workspace, devices) in statuses {
            let known = digests[workspace] ?? [:]
            observations[workspace] = devices.mapValues { Observation(status: $0, facts: 0) }
            for id in devices.keys { observations[workspace]?[id]?.facts = known[id] ?? 0 }
        }
        for span in coverage { self.coverage[span.workspace] = span }
    }

    /// A listed device's status at its latest poll, and a digest of its facts then.
    struct Observation: Sendable, Equatable {
        var status: DeviceStatus
        var facts: Int
    }

    /// Each listed device's status at its latest poll, per workspace.
    public var statuses: [String: [String: DeviceStatus]] { observations.mapValues { $0.mapValues(\.status) } }

    /// The digest of a listed device's facts at its latest poll (``KnownDevice/digest``).
    public func factsDigest(workspace: String, deviceID: String) -> Int? { observations[workspace]?[deviceID]?.facts }

    /// Equal alerts, first sightings, health, statuses and facts, and coverage; the journal is
    /// the cycle's bookkeeping.
    public static func == (lhs: AlertBook, rhs: AlertBook) -> Bool {
        lhs.alerts == rhs.alerts && lhs.firstSeen == rhs.firstSeen && lhs.health == rhs.health
            && lhs.observations == rhs.observations && lhs.coverage == rhs.coverage
    }

    // MARK: Alerts

    /// Adds or changes an alert durably (state, labels, times of its life, message).
    public mutating func set(_ alert: AlertInstance) {
        keepOriginal(alert.key)
        alerts[alert.key] = alert
    }

    public mutating func remove(_ key: AlertKey) {
        keepOriginal(key)
        // An alert forgotten in the cycle it resolved in was never written resolved: its
        // episode's end is journaled here (again, harmlessly, for one resolved earlier).
        if let alert = alerts.removeValue(forKey: key), var episode = AlertEpisode(alert) {
            if episode.resolvedAt == nil { episode.resolvedAt = alert.evaluatedAt }
            journal.episodesEnded.append(episode)
        }
    }

    /// Updates an alert's per-poll bookkeeping only (when its condition last held, the device's
    /// facts, the evaluation time): not a durable change, so not journaled.
    public mutating func refresh(_ alert: AlertInstance) {
        guard let index = alerts.index(forKey: alert.key) else {
            assertionFailure("refresh(_:) of \(alert.key), which is not in the book; use set(_:)")
            return set(alert)
        }
        let old = alerts.values[index]
        assert(old.durablyEqual(alert), "refresh(_:) changed \(alert.key) durably; use set(_:)")
        if !old.device.equalsIgnoringHeartbeat(alert.device) || old.fleet != alert.fleet {
            journal.changedWhatPlanningReads = true
        }
        alerts.values[index] = alert
    }

    /// Notes a change planning reads that is not durable (a firing alert whose condition stopped
    /// or started holding again while `keep_firing_for` keeps it firing): the cycle must plan.
    mutating func planningInputChanged() {
        journal.changedWhatPlanningReads = true
    }

    private mutating func keepOriginal(_ key: AlertKey) {
        guard journal.alertsBefore.index(forKey: key) == nil, !journal.alertsAdded.contains(key) else { return }
        if let alert = alerts[key] { journal.alertsBefore[key] = alert } else { journal.alertsAdded.insert(key) }
    }

    // MARK: Cycles

    /// Forgets the journal: the cycle is committed (or is starting).
    public mutating func endCycle() {
        journal = Journal()
    }

    /// Puts everything changed durably this cycle back as it was (per-poll bookkeeping stays).
    public mutating func rollBack() {
        for (key, original) in journal.alertsBefore { alerts[key] = original }
        for key in journal.alertsAdded { alerts.removeValue(forKey: key) }
        for (workspace, original) in journal.firstSeenBefore { firstSeen[workspace] = original }
        for (workspace, original) in journal.healthBefore { health[workspace] = original }
        for (workspace, original) in journal.observationsBefore { observations[workspace] = original }
        for (workspace, original) in journal.coverageBefore { coverage[workspace] = original }
        // The listings describe the first sightings and observations now put back.
        listings = [:]
        endCycle()
    }

    /// The alerts to write and to delete, per the journal, in key order.
    func journaledAlerts() -> (upsert: [AlertKey], delete: [AlertKey]) {
        var upsert: [AlertKey] = []
        var delete: [AlertKey] = []
        for key in journal.alertsBefore.keys {
            if alerts[key] != nil { upsert.append(key) } else { delete.append(key) }
        }
        for key in journal.alertsAdded where alerts[key] != nil { upsert.append(key) }
        return (upsert.sorted(), delete.sorted())
    }
}

/// Whether a workspace can be seen, and since when it cannot.
public struct WorkspaceHealth: Sendable, Equatable, Codable {
    public var lastSuccess: Date?
    public var failingSince: Date?
    /// Why the latest poll failed, in words a person acts on.
    public var failure: String?
    /// The latest failure was a 401/403: the meta alert fires at once.
    public var authFailure = false

    public init(lastSuccess: Date? = nil, failingSince: Date? = nil, failure: String? = nil, authFailure: Bool = false)
    {
        self.lastSuccess = lastSuccess
        self.failingSince = failingSince
        self.failure = failure
        self.authFailure = authFailure
    }
}
