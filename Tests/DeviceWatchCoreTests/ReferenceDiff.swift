import DeviceWatchCore
import Foundation

/// The changes between two whole states, found by comparing them: the slow, obvious reference
/// that the cycle's journal (built as the state changes) is checked against.
enum ReferenceDiff {
    /// - Parameter at: the cycle's time, which status changes carry.
    /// - Parameter devices: the poll's devices and their workspace, whose facts may have changed.
    /// - Parameter journaled: the cycle's own changes, from which the ends of episodes of alerts
    ///   removed in the cycle are taken (the removed alert's last state is gone from `new`): those
    ///   of exactly the removed alerts that had fired, each once.
    static func between(
        _ old: AlertState, _ new: AlertState, at: Date, polled: (String, [Device])? = nil,
        journaled: StateChanges? = nil
    ) -> StateChanges {
        var changes = StateChanges()
        var changedAlerts: [AlertKey] = []
        for (key, alert) in new.book.alerts {
            if let previous = old.book.alerts[key], previous.durablyEqual(alert) { continue }
            changedAlerts.append(key)
        }
        changes.upsertAlerts = Selection(changedAlerts.sorted(), from: new.book.alerts)
        changes.deleteAlerts = old.book.alerts.keys.filter { new.book.alerts[$0] == nil }.sorted()
        let changedGroups = new.routing.groups.filter { old.routing.groups[$0.key] != $0.value }.keys.sorted()
        changes.upsertGroups = Selection(changedGroups, from: new.routing.groups)
        changes.deleteGroups = old.routing.groups.keys.filter { new.routing.groups[$0] == nil }.sorted()
        for (workspace, devices) in new.book.firstSeen {
            let before = old.book.firstSeen[workspace] ?? [:]
            for (id, at) in devices.sorted(by: { $0.key < $1.key }) where before[id] == nil {
                changes.addFirstSeen.append((workspace, id, at))
            }
            for id in before.keys.sorted() where devices[id] == nil { changes.deleteFirstSeen.append((workspace, id)) }
        }
        for (workspace, health) in new.book.health.sorted(by: { $0.key < $1.key }) {
            let before = old.book.health[workspace]
            // A successful poll after a success is not news; the first one, and every failure change, is.
            if before?.failingSince == health.failingSince, before?.failure == health.failure,
                before?.authFailure == health.authFailure, before?.lastSuccess != nil || health.lastSuccess == nil
            {
                continue
            }
            changes.upsertHealth.append((workspace, health))
        }
        for workspace in Set(old.book.statuses.keys).union(new.book.statuses.keys).sorted() {
            let before = old.book.statuses[workspace] ?? [:], after = new.book.statuses[workspace] ?? [:]
            for (id, status) in after.sorted(by: { $0.key < $1.key }) where before[id] != status {
                changes.statusChanges.append(StatusChange(workspace: workspace, deviceID: id, status: status, at: at))
            }
            for id in before.keys.sorted() where after[id] == nil {
                changes.statusChanges.append(StatusChange(workspace: workspace, deviceID: id, status: nil, at: at))
            }
        }
        if let (workspace, devices) = polled {
            for device in devices
            where old.book.factsDigest(workspace: workspace, deviceID: device.id)
                != new.book.factsDigest(workspace: workspace, deviceID: device.id)
            {
                changes.upsertFacts.append(KnownDevice(workspace: workspace, device: device))
            }
        }
        changes.upsertCoverage = new.book.coverage.keys.sorted().compactMap { workspace in
            new.book.coverage[workspace] == old.book.coverage[workspace] ? nil : new.book.coverage[workspace]
        }
        // Episodes are the upserted alerts that fired, by definition.
        changes.upsertEpisodes = changes.upsertAlerts.compactMap(AlertEpisode.init)
        for key in changes.deleteAlerts {
            guard let fired = old.book.alerts[key], fired.state != .pending, let firedAt = fired.firingSince else {
                continue
            }
            let ended = journaled?.upsertEpisodes.filter { $0.key == key && $0.firedAt == firedAt } ?? []
            if ended.count == 1, ended[0].resolvedAt != nil { changes.upsertEpisodes += ended }
        }
        return changes
    }
}
