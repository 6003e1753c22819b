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
    public private(set) var firstSeen: [String: [String: Date]] = [:]
    /// Poll health per workspace (blind spots).
    public private(set) var health: [String: WorkspaceHealth] = [:]
    /// Each listed device's status at its latest poll and a digest of its facts, per workspace:
    /// what the status log's newest row and the device facts table say of it, so a poll writes a
    /// row only for a device whose status or facts changed.
    private var observations: [String: [String: Observation]] = [:]
    /// The span over which devicewatch has seen each workspace lately, as written.
    public private(set) var coverage: [String: CoverageSpan] = [:]
    /// Each workspace's latest successful poll (not durable: a restart reads the span's end).
    private var lastPoll: [String: Date] = [:]
    /// What changed since the cycle began.
    public private(set) var journal = Journal()

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
        assert(
            alerts[alert.key].map { $0.durablyEqual(alert) } == true,
            "refresh(_:) changed \(alert.key) durably; use set(_:)")
        alerts[alert.key] = alert
    }

    private mutating func keepOriginal(_ key: AlertKey) {
        guard journal.alertsBefore.index(forKey: key) == nil, !journal.alertsAdded.contains(key) else { return }
        if let alert = alerts[key] { journal.alertsBefore[key] = alert } else { journal.alertsAdded.insert(key) }
    }

    // MARK: Workspaces

    /// Records a workspace's devices as seen at `now`: new ones are first seen now, and devices
    /// no longer listed are forgotten (a device that returns counts as new).
    public mutating func see(workspace: String, deviceIDs: some Collection<String>, at now: Date) {
        let existing = firstSeen.removeValue(forKey: workspace)
        // Copied (by `seen`'s first write) only in a cycle that sees or loses a device.
        var seen = existing ?? [:]
        var changed = false
        for id in deviceIDs where seen[id] == nil {
            seen[id] = now
            journal.firstSeenAdded.append((workspace, id, now))
            changed = true
        }
        if seen.count > deviceIDs.count {
            let listed = Set(deviceIDs)
            let gone = seen.keys.filter { !listed.contains($0) }
            for id in gone {
                seen.removeValue(forKey: id)
                journal.firstSeenRemoved.append((workspace, id))
            }
            changed = true
        }
        if changed, journal.firstSeenBefore.index(forKey: workspace) == nil {
            journal.firstSeenBefore[workspace] = .some(existing)
        }
        firstSeen[workspace] = seen
    }

    /// Records each listed device's status and facts at a poll of `now` (on the API's clock): a
    /// device whose status differs from its last (or that is new) gets a status log row, one
    /// whose facts changed a facts row, and a device no longer listed gets a `gone` row. A poll
    /// in which nothing changed journals nothing.
    public mutating func observe(workspace: String, devices: [Device], at now: Date) {
        // Lookups first: a poll in which no device changed (the steady state) must not copy the
        // workspace's observations, which a write would, since the journal keeps the original.
        var firstChange = devices.startIndex
        if let known = observations[workspace] {
            while firstChange < devices.endIndex {
                let device = devices[firstChange]
                let seen = Observation(
                    status: device.observedStatus(at: now), facts: KnownDevice.digest(of: device))
                guard known[device.id] == seen else { break }
                firstChange += 1
            }
            if firstChange == devices.endIndex, known.count <= devices.count { return }
        }
        let existing = observations.removeValue(forKey: workspace)
        var known = existing ?? [:]
        var changed = false
        for device in devices[firstChange...] {
            let status = device.observedStatus(at: now)
            let seen = Observation(status: status, facts: KnownDevice.digest(of: device))
            // One lookup: the old value comes back from the write.
            let old = known.updateValue(seen, forKey: device.id)
            guard old != seen else { continue }
            changed = true
            if old?.status != status {
                journal.statusChanges.append(
                    StatusChange(workspace: workspace, deviceID: device.id, status: status, at: now))
            }
            if old?.facts != seen.facts {
                journal.factsChanged.append(KnownDevice(workspace: workspace, device: device))
            }
        }
        if known.count > devices.count {
            let listed = Set(devices.lazy.map(\.id))
            for id in known.keys.sorted() where !listed.contains(id) {
                known.removeValue(forKey: id)
                journal.statusChanges.append(StatusChange(workspace: workspace, deviceID: id, status: nil, at: now))
            }
            changed = true
        }
        if changed, journal.observationsBefore.index(forKey: workspace) == nil {
            journal.observationsBefore[workspace] = .some(existing)
        }
        observations[workspace] = known
    }

    /// Records a successful poll of `now` in the workspace's coverage: the span goes on when the
    /// previous poll was at most `gap` before (its end written at most every
    /// ``Coverage/writeEvery``), else a new span starts (what lies between is a blind spot).
    public mutating func cover(workspace: String, at now: Date, gap: Duration) {
        let previous = lastPoll[workspace] ?? coverage[workspace]?.end
        lastPoll[workspace] = now
        var span: CoverageSpan
        if let current = coverage[workspace], let previous, now >= previous, now.duration(since: previous) <= gap {
            guard now.duration(since: current.end) >= Coverage.writeEvery else { return }
            span = current
            span.end = now
        } else {
            span = CoverageSpan(workspace: workspace, start: now, end: now)
        }
        if journal.coverageBefore.index(forKey: workspace) == nil {
            journal.coverageBefore[workspace] = .some(coverage[workspace])
        }
        coverage[workspace] = span
    }

    /// Sets a workspace's poll health. A success after a success is not news and is not
    /// journaled; the first success, and every change in failure, is.
    public mutating func setHealth(_ new: WorkspaceHealth, of workspace: String) {
        let old = health[workspace]
        if journal.healthBefore.index(forKey: workspace) == nil { journal.healthBefore[workspace] = .some(old) }
        health[workspace] = new
        let news =
            old?.failingSince != new.failingSince || old?.failure != new.failure
            || old?.authFailure != new.authFailure || (old?.lastSuccess == nil && new.lastSuccess != nil)
        if news { journal.healthChanged.insert(workspace) }
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
