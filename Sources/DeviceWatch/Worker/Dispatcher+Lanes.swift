import DeviceWatchCore
import Foundation
import Logging

/// The lanes: which notifications each receiver's lane takes next from the outbox, and the
/// outcomes recorded (in one transaction per batch) that release their groups.
extension Dispatcher {
    /// One receiver's deliveries.
    struct Lane {
        /// Transfers under way.
        var transfers = 0
        /// Groups with a transfer under way or an outcome not yet recorded: their next must wait.
        var held: Set<String> = []
        /// Due notifications read ahead, each of a group not held.
        var ready: ArraySlice<OutboxEntry> = []
        /// The last read found nothing more: read again only after a wake-up or a release.
        var exhausted = false
        /// A read of the store is under way.
        var reading = false
        /// Counts wake-ups and releases: a read that began before one may have missed what it made due.
        var opened = 0
        /// Groups that got a retry in this drain (``deliverDue(now:)`` stops trying them).
        var retried: Set<String> = []

        /// Something may have fallen due: read again.
        mutating func reopen() {
            exhausted = false
            opened &+= 1
        }
    }

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
        for name in receivers.keys { lanes[name, default: Lane()].reopen() }
        for name in lanes.keys { lanes[name]?.reopen() }
    }

    /// What ``fill(stopRetried:)`` starts: transfers, and reads of the store.
    struct Fill {
        var sends: [(receiver: String, entry: OutboxEntry)] = []
        var reads: [Read] = []
    }

    /// A read of a lane's next due notifications, run while its transfers go.
    struct Read: Sendable {
        var receiver: String
        /// Groups not to read: held, or already read ahead.
        var excluding: Set<String>
        /// The lane's ``Lane/opened`` when it started.
        var opened: Int
    }

    /// Takes due notifications for every lane with a free slot, and starts a read for every lane
    /// whose read-ahead runs low (the next batch is read while this one goes, so a lane does not
    /// stop between batches for a round trip to the store).
    func fill(stopRetried: Bool) -> Fill {
        var fill = Fill()
        for name in Array(lanes.keys) {
            // Taken out while it fills, not copied: a copy of the lane would copy its read-ahead
            // and held set on every change.
            guard var lane = lanes.removeValue(forKey: name) else { continue }
            while lane.transfers < settings.inFlightPerReceiver, let entry = lane.ready.popFirst() {
                guard !lane.held.contains(entry.intent.groupKey) else { continue }
                lane.held.insert(entry.intent.groupKey)
                lane.transfers += 1
                fill.sends.append((name, entry))
            }
            if !lane.exhausted, !lane.reading, lane.ready.count < settings.batch {
                lane.reading = true
                var excluding = stopRetried ? lane.held.union(lane.retried) : lane.held
                for entry in lane.ready { excluding.insert(entry.intent.groupKey) }
                fill.reads.append(Read(receiver: name, excluding: excluding, opened: lane.opened))
            }
            lanes[name] = lane
        }
        return fill
    }

    /// Reads a lane's next due notifications (off the actor: the store call is the round trip).
    nonisolated func run(_ read: Read, at now: Date) async -> (rows: [OutboxEntry], failure: StateStoreError?) {
        do {
            let rows = try await store.dueNotifications(
                at: now, receiver: read.receiver, excludingGroups: read.excluding, limit: settings.batch)
            return (rows, nil)
        } catch {
            return ([], error)
        }
    }

    /// A read came back: its rows join the lane's read-ahead. The lane counts as exhausted when
    /// the read found less than a batch and nothing released a group or woke the lane meanwhile
    /// (what that made due was not there to read when the read ran).
    /// - Parameter quietly: the loop is ending (a read it cancelled failing is no news).
    func finished(_ read: Read, rows: [OutboxEntry], failure: StateStoreError?, quietly: Bool = false) {
        guard var lane = lanes.removeValue(forKey: read.receiver) else { return }
        lane.reading = false
        if let failure {
            if !quietly { outboxFailed(.readOutbox, failure) }
            lane.exhausted = true
        } else {
            storeHealth?.succeeded(.readOutbox)
            lane.ready.append(contentsOf: rows)
            lane.exhausted = rows.count < settings.batch && lane.opened == read.opened
        }
        lanes[read.receiver] = lane
    }

    /// Takes every answered outcome for one transaction, or nil when there is none or one is
    /// being written (outcomes are recorded one transaction at a time, in order).
    func takeUnrecorded() -> [Answered]? {
        guard !recording, !unrecorded.isEmpty else { return nil }
        let batch = unrecorded
        unrecorded.removeAll(keepingCapacity: true)
        if batch.contains(where: { $0.record.kind == .sent }) { CrashPoint.afterDelivery.hit() }
        recording = true
        return batch
    }

    /// Writes outcomes (off the actor).
    nonisolated func write(_ batch: [Answered], at now: Date) async -> StateStoreError? {
        do {
            try await store.record(batch.map(\.record), at: now)
            return nil
        } catch {
            return error
        }
    }

    /// Outcomes written, or not: written, they release their groups; returns how many were
    /// sent. If the store failed, they stay unrecorded (the groups held) and are tried again
    /// with the next ones: a group never moves on past an unrecorded answer.
    /// - Parameter quietly: the loop is ending and writes them again at once (a write it
    ///   cancelled failing is no news; that one failing is).
    func recorded(_ batch: [Answered], failure: StateStoreError?, quietly: Bool = false) -> Int {
        recording = false
        if let failure {
            if !quietly { outboxFailed(.recordOutcomes, failure) }
            unrecorded.insert(contentsOf: batch, at: 0)
            return 0
        }
        storeHealth?.succeeded(.recordOutcomes)
        var tally: [String: (sent: Int, retried: Int, dead: Int)] = [:]
        for (receiver, group, record) in batch {
            lanes[receiver]?.held.remove(group)
            lanes[receiver]?.reopen()
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

    /// Records every answered outcome now, waiting for the store (as the loop ends).
    func recordAnswers() async -> Int {
        guard let batch = takeUnrecorded() else { return 0 }
        return recorded(batch, failure: await write(batch, at: clock.now()))
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
