import DeviceWatchCore
import Foundation

/// Reads history from a state store for reports and the status page: only reads, so it is safe
/// while the worker runs (SQLite's readers never block its writer; PostgreSQL reads a snapshot).
public struct HistoryReader: Sendable {
    public let store: any StateStore

    public init(store: any StateStore) { self.store = store }

    /// The status log, coverage and device facts of a window (of one workspace or device).
    public func fleetHistory(window: DateInterval, workspace: String? = nil, deviceID: String? = nil, now: Date)
        async throws(StateStoreError) -> FleetHistory
    {
        let query = StatusLogQuery(
            workspace: workspace, deviceID: deviceID, since: window.start, until: window.end, byDevice: true)
        return FleetHistory(
            window: window, log: try await store.statusLog(query), coverage: try await store.coverage(query),
            devices: try await store.knownDevices(StatusLogQuery(workspace: workspace, deviceID: deviceID)), now: now)
    }

    /// The alert history of a window with who was told of each episode, from the outbox (sent
    /// notifications are kept 7 days, dead ones 30: older episodes show none).
    public func alerts(_ query: AlertHistoryQuery) async throws(StateStoreError) -> [AlertHistoryRow] {
        let episodes = try await store.alertHistory(query)
        guard !episodes.isEmpty else { return [] }
        // By milliseconds: a notification's times went through ISO-8601 text, the episode's did not.
        struct Key: Hashable {
            var alert: AlertKey
            var firedAt: Int64
            init(alert: AlertKey, firedAt: Date) {
                self.alert = alert
                self.firedAt = Int64((firedAt.timeIntervalSince1970 * 1000).rounded(.down))
            }
        }
        var told: [Key: [String: AlertHistoryRow.Told]] = [:]
        let wanted = Set(episodes.map { Key(alert: $0.key, firedAt: $0.firedAt) })
        for entry in try await store.notifications(state: nil, limit: 50_000) {
            let intent = entry.intent
            for (snapshots, resolved) in [(intent.firing, false), (intent.resolved, true)] {
                for snapshot in snapshots {
                    let key = Key(alert: snapshot.key, firedAt: snapshot.startsAt)
                    guard wanted.contains(key) else { continue }
                    var entryTold =
                        told[key, default: [:]][intent.receiver] ?? AlertHistoryRow.Told(receiver: intent.receiver)
                    if resolved { entryTold.resolved = true } else { entryTold.firing += 1 }
                    if entry.state == .dead { entryTold.failed += 1 }
                    if entry.state == .pending { entryTold.pending += 1 }
                    told[key, default: [:]][intent.receiver] = entryTold
                }
            }
        }
        return episodes.map { episode in
            let receivers = told[Key(alert: episode.key, firedAt: episode.firedAt)] ?? [:]
            return AlertHistoryRow(episode: episode, told: receivers.values.sorted { $0.receiver < $1.receiver })
        }
    }
}

/// One time an alert fired, and who was told of it.
public struct AlertHistoryRow: Sendable, Equatable {
    public struct Told: Sendable, Equatable {
        public var receiver: String
        /// Firing notifications: the first page, then repeats and updates.
        public var firing = 0
        public var resolved = false
        /// Of them, how many could not be delivered (dead) or are still waiting.
        public var failed = 0
        public var pending = 0
    }

    public var episode: AlertEpisode
    public var told: [Told]

    /// How often it was repeated: the most firing notifications any receiver got, less the first.
    public var repeats: Int { max(0, (told.map(\.firing).max() ?? 0) - 1) }

    /// `pagerduty ×1, slack-fleet ×3 (1 failed)`, or `nobody` (silenced, inhibited, or the outbox
    /// has forgotten).
    public var toldText: String {
        guard !told.isEmpty else { return "nobody" }
        return told.map { told in
            var text = "\(told.receiver) ×\(told.firing)"
            if told.resolved { text += " +resolved" }
            if told.failed > 0 { text += " (\(told.failed) failed)" }
            if told.pending > 0 { text += " (\(told.pending) pending)" }
            return text
        }.joined(separator: ", ")
    }
}
