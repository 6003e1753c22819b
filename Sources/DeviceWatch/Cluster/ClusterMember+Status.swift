import DeviceWatchCore
import Foundation

/// What a cluster member shows: its alerts, health, clock and leases, for the ops server.
extension ClusterMember {
    public func tick() async {
        for running in held.values { await running.engine.tick() }
    }

    public var lastGoodPoll: Date? {
        get async {
            var latest = lastGoodPollOfDropped
            for running in held.values {
                if let good = await running.engine.lastGoodPoll { latest = max(latest ?? good, good) }
            }
            return latest
        }
    }

    public var clock: EngineClock {
        get async {
            if storeHealth?.snapshot.failingSince == nil, let offsets = try? await store.clockOffsets() {
                return EngineClock(offsets)
            }
            var offsets: [ClockOffset] = []
            for running in held.values { offsets += await running.engine.clock.offsets.values }
            return EngineClock(offsets)
        }
    }

    /// The whole cluster's alerts and workspace health as the database has them (any worker's
    /// status page shows every workspace), with this worker's fleet counts; this worker's own
    /// view when the database cannot be read.
    public func snapshot() async -> Engine.Snapshot {
        // Not from a database known to be away: /readyz must say so at once.
        let shared = await sharedAlertsAndHealth()
        var now = wallClock.now()
        var alerts = shared?.alerts ?? []
        var health: [String: WorkspaceHealth] = [:]
        var fleet: [String: FleetCounts] = [:]
        for running in held.values {
            let one = await running.engine.snapshot()
            now = one.now
            // This worker's own alerts only when the database's view of every one is not at hand.
            if shared == nil { alerts += one.alerts }
            health.merge(one.health) { mine, _ in mine }
            fleet.merge(one.fleet) { mine, _ in mine }
        }
        if let shared { health.merge(shared.health) { mine, _ in mine } }
        return Engine.Snapshot(
            now: now, alerts: alerts.sorted { $0.key < $1.key }, health: health, fleet: fleet, rules: settings.rules,
            staleAfter: settings.staleAfter)
    }

    /// Every workspace's alerts and health from the database, read at most once per
    /// ``sharedViewFor``; nil while the database is away (or has not confirmed the leases lately).
    private func sharedAlertsAndHealth() async -> (alerts: [AlertInstance], health: [String: WorkspaceHealth])? {
        guard confirmedAt.map({ wallClock.now().duration(since: $0) < ttl }) ?? false,
            storeHealth?.snapshot.failingSince == nil
        else { return nil }
        let now = wallClock.now()
        if let view = sharedView, (.zero..<sharedViewFor).contains(now.duration(since: view.at)) {
            return (view.alerts, view.health)
        }
        guard let read = try? await store.alertsAndHealth() else { return nil }
        sharedView = (now, read.alerts, read.health)
        return read
    }

    /// The cluster as `/readyz` and the status page show it.
    public func status() -> DatabaseLease {
        DatabaseLease(
            database: store.path, owner: id, ttl: ttl, renewedAt: confirmedAt ?? .distantPast,
            held: holdings, workers: workers.map(\.id), leases: leases)
    }
}
