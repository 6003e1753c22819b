import Foundation

/// Every alert instance and what is known about each workspace's devices: the state the
/// lifecycle works on. Pure data; the shell persists it.
public struct AlertBook: Sendable, Equatable {
    /// Changed only through ``set(_:)``, ``remove(_:)`` and ``refresh(_:)``, which keep ``originals``.
    public private(set) var alerts: [AlertKey: AlertInstance] = [:]
    /// When devicewatch first saw each device, per workspace (for `unknown_for` without `created_at`).
    public var firstSeen: [String: [String: Date]] = [:]
    /// Poll health per workspace (blind spots).
    public var health: [String: WorkspaceHealth] = [:]
    /// Each alert as it was before its first durable change since ``beginCycle()``, and the alerts
    /// that did not exist then: what a cycle's diff and its rollback need. Keeping these few,
    /// rather than the whole book as it was, spares every poll of a long outage a copy of all its
    /// alerts.
    public private(set) var originals: [AlertKey: AlertInstance] = [:]
    public private(set) var added: Set<AlertKey> = []

    public init() {}

    public init(
        alerts: some Sequence<AlertInstance>, firstSeen: [String: [String: Date]] = [:],
        health: [String: WorkspaceHealth] = [:]
    ) {
        for alert in alerts { self.alerts[alert.key] = alert }
        self.firstSeen = firstSeen
        self.health = health
    }

    /// Equal alerts, first sightings and health; ``originals`` and ``added`` are the cycle's bookkeeping.
    public static func == (lhs: AlertBook, rhs: AlertBook) -> Bool {
        lhs.alerts == rhs.alerts && lhs.firstSeen == rhs.firstSeen && lhs.health == rhs.health
    }

    /// Adds or changes an alert durably (state, labels, times of its life, message).
    public mutating func set(_ alert: AlertInstance) {
        keepOriginal(alert.key)
        alerts[alert.key] = alert
    }

    public mutating func remove(_ key: AlertKey) {
        keepOriginal(key)
        alerts.removeValue(forKey: key)
    }

    /// Updates an alert's per-poll bookkeeping only (when its condition last held, the device's
    /// facts, the evaluation time): not a durable change, so nothing to keep.
    public mutating func refresh(_ alert: AlertInstance) {
        assert(
            alerts[alert.key].map { $0.durablyEqual(alert) } == true,
            "refresh(_:) changed \(alert.key) durably; use set(_:)")
        alerts[alert.key] = alert
    }

    /// Starts a cycle, or ends one (committed): nothing is kept from the last.
    public mutating func beginCycle() {
        originals = [:]
        added = []
    }

    /// Puts every alert changed durably this cycle back as it was (per-poll bookkeeping stays).
    public mutating func rollBackAlerts() {
        for (key, original) in originals { alerts[key] = original }
        for key in added { alerts.removeValue(forKey: key) }
        beginCycle()
    }

    private mutating func keepOriginal(_ key: AlertKey) {
        guard originals[key] == nil, !added.contains(key) else { return }
        if let alert = alerts[key] { originals[key] = alert } else { added.insert(key) }
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
