import DeviceWatchCore
import Foundation

/// What the dispatcher deletes once it is long done: delivered and dead notifications, and old
/// device status changes.
extension Dispatcher {
    /// Prunes the outbox and the device status log once an hour, from the delivery loop.
    func pruneIfDue() async {
        guard clock.now().timeIntervalSince(lastPrune) >= 3600 else { return }
        lastPrune = clock.now()
        await prune(now: lastPrune)
    }

    /// Deletes what is long done: sent notifications after `keepSent`, dead letters after
    /// `keepDead`, device status changes after `keepStatusChanges`.
    public func prune(now: Date) async {
        do {
            let count = try await store.prune(
                sentBefore: now - settings.keepSent,
                deadBefore: now - settings.keepDead)
            if count > 0 { logger.info("pruned \(count) delivered or dead notifications from the outbox") }
        } catch {
            logger.error("cannot prune the outbox: \(error)")
        }
        do {
            let count = try await store.pruneHistory(
                before: now - settings.keepStatusChanges)
            if count > 0 { logger.info("pruned \(count) device status changes older than history.keep") }
        } catch {
            logger.error("cannot prune the device status log: \(error)")
        }
    }
}
