import DeviceWatchCore
import Foundation
import Logging

/// The lanes: which notifications each receiver's lane takes next from the outbox, and the
/// outcomes recorded (in one transaction per batch) that release their groups.
extension Dispatcher {
    /// A lane for every configured receiver, and for any the outbox still names (a receiver
    /// removed by a reload: its notifications are dead-lettered, not left pending forever).
    func refreshLanes() async {
        var names = Set(receivers.keys)
        do {
            names.formUnion(try await store.pendingReceivers())
            storeHealth?.succeeded(.readOutbox)
        } catch {
            outboxFailed(.readOutbox, error)
        }
        for name in names { lanes[name, default: Lane()].exhausted = false }
    }

    /// After a wake-up (new notifications, a retry due, the second's tick) every lane reads again.
    func markAllUnexhausted() {
        for name in receivers.keys { lanes[name, default: Lane()].exhausted = false }
        for name in lanes.keys { lanes[name]?.exhausted = false }
    }

    /// Takes due notifications for every lane with a free slot; returns what to send now.
    func fill(at now: Date, stopRetried: Bool) async -> [(String, OutboxEntry)] {
        var starting: [(String, OutboxEntry)] = []
        for name in Array(lanes.keys) {
            // Taken out while it fills, not copied: a copy of the lane would copy its read-ahead
            // and held set on every change. Only this loop reads the lanes meanwhile.
            guard var lane = lanes.removeValue(forKey: name) else { continue }
            await fill(&lane, name: name, at: now, stopRetried: stopRetried, into: &starting)
            lanes[name] = lane
        }
        return starting
    }

    func fill(
        _ lane: inout Lane, name: String, at now: Date, stopRetried: Bool, into starting: inout [(String, OutboxEntry)]
    ) async {
        while lane.transfers < settings.inFlightPerReceiver {
            if lane.ready.isEmpty {
                guard !lane.exhausted else { return }
                let excluded = stopRetried ? lane.held.union(lane.retried) : lane.held
                do {
                    let rows = try await store.dueNotifications(
                        at: now, receiver: name, excludingGroups: excluded, limit: settings.batch)
                    storeHealth?.succeeded(.readOutbox)
                    lane.ready = rows[...]
                    lane.exhausted = rows.count < settings.batch
                } catch {
                    outboxFailed(.readOutbox, error)
                    lane.exhausted = true
                }
                if lane.ready.isEmpty { return }
            }
            let entry = lane.ready.removeFirst()
            guard !lane.held.contains(entry.intent.groupKey) else { continue }
            lane.held.insert(entry.intent.groupKey)
            lane.transfers += 1
            starting.append((name, entry))
        }
    }

    /// Records every answered outcome in one transaction and releases their groups; returns how
    /// many were sent. If the store fails, the outcomes stay unrecorded (the groups held) and are
    /// tried again with the next ones: a group never moves on past an unrecorded answer.
    func recordAnswers() async -> Int {
        guard !unrecorded.isEmpty else { return 0 }
        let batch = unrecorded
        let records = batch.map(\.record)
        if records.contains(where: { $0.kind == .sent }) { CrashPoint.afterDelivery.hit() }
        do {
            try await store.record(records, at: clock.now())
            storeHealth?.succeeded(.recordOutcomes)
        } catch {
            outboxFailed(.recordOutcomes, error)
            return 0
        }
        unrecorded.removeAll(keepingCapacity: true)
        var tally: [String: (sent: Int, retried: Int, dead: Int)] = [:]
        for (receiver, group, record) in batch {
            lanes[receiver]?.held.remove(group)
            lanes[receiver]?.exhausted = false
            var counts = tally[receiver] ?? (0, 0, 0)
            switch record.kind {
            case .sent: counts.sent += 1
            case .retry(let at, _):
                counts.retried += 1
                nextRetry = min(nextRetry ?? at, at)
            case .dead: counts.dead += 1
            }
            tally[receiver] = counts
        }
        if let due = nextRetry, due <= clock.now() { nextRetry = nil }
        if let metrics {
            for (receiver, counts) in tally {
                metrics.deliveries(receiver: receiver, sent: counts.sent, retried: counts.retried, dead: counts.dead)
            }
        }
        return tally.values.reduce(0) { $0 + $1.sent }
    }

    /// A store failure: reported to the store's health (which logs it, once a minute while it
    /// lasts), or logged when there is none.
    func outboxFailed(_ operation: StoreHealth.Operation, _ error: any Error) {
        if let storeHealth {
            storeHealth.failed(operation, error: error)
        } else {
            logger.error("the outbox failed (\(operation.rawValue)); it is tried again: \(error)")
        }
    }
}
