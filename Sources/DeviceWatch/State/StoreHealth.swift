import DeviceWatchCore
import Foundation
import Logging
import Synchronization

/// How the state store has been doing, from every operation the worker depends on.
///
/// A store that fails once (a busy lock, a full disk for a moment) is retried by whoever called it.
/// One that keeps failing must not leave the worker running deaf: while any operation's latest
/// attempt failed, the store is failing; `/readyz` answers 503 and says why, the
/// `devicewatch_store_failing` gauge reads 1, the log has the first error at once and then one line
/// a minute, and after `give_up_after` of it the worker exits non-zero so its supervisor restarts it.
public final class StoreHealth: Sendable {
    public enum Operation: String, Sendable, CaseIterable {
        case commitCycle = "commit"
        case readSilences = "read-silences"
        case readOutbox = "read-outbox"
        case recordOutcomes = "record-outcomes"
    }

    /// The store's health at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// When the oldest current failure began; nil while the store works.
        public var failingSince: Date?
        /// The latest error, with the operation it broke.
        public var lastError: String?
        public var failingOperations: [String] = []

        public init(failingSince: Date? = nil, lastError: String? = nil, failingOperations: [String] = []) {
            self.failingSince = failingSince
            self.lastError = lastError
            self.failingOperations = failingOperations
        }
    }

    private struct State {
        var failingSince: [Operation: Date] = [:]
        var lastError: String?
        var failures = 0
        var lastLogged: Date?
    }

    private let state = Mutex(State())
    private let logger: Logger
    private let metrics: WorkerMetrics?
    private let now: @Sendable () -> Date

    public init(
        logger: Logger = Logger(label: "devicewatch.store"), metrics: WorkerMetrics? = nil,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.logger = logger
        self.metrics = metrics
        self.now = now
    }

    /// The operation's latest attempt worked.
    public func succeeded(_ operation: Operation) {
        if clear([operation]) { logger.notice("the state store works again") }
    }

    /// Nothing performs these operations any more: a cluster worker that holds no workspace runs
    /// no engine, so no cycle will commit or read silences to clear an engine's last failure,
    /// which would otherwise keep the worker unready until the watchdog ended it.
    public func withdraw(_ operations: [Operation]) {
        if clear(operations) { logger.notice("the state store works again (the failing operations are no longer run)") }
    }

    /// Forgets the operations' failures; true when that leaves none.
    private func clear(_ operations: [Operation]) -> Bool {
        state.withLock { state -> Bool in
            var removed = false
            for operation in operations where state.failingSince.removeValue(forKey: operation) != nil {
                removed = true
            }
            guard removed, state.failingSince.isEmpty else { return false }
            state.failures = 0
            state.lastLogged = nil
            return true
        }
    }

    /// The operation's latest attempt failed with `error`.
    public func failed(_ operation: Operation, error: any Error) {
        let at = now()
        let text = "\(operation.rawValue): \(error)"
        metrics?.storeFailed(operation: operation.rawValue)
        let log = state.withLock { state -> (since: Date, failures: Int)? in
            if state.failingSince[operation] == nil { state.failingSince[operation] = at }
            state.lastError = text
            state.failures += 1
            let since = state.failingSince.values.min() ?? at
            // The first failure at once, then one line a minute while it lasts.
            guard state.lastLogged.map({ at.timeIntervalSince($0) >= 60 }) ?? true else { return nil }
            state.lastLogged = at
            return (since, state.failures)
        }
        if let log {
            let lasting = at.timeIntervalSince(log.since)
            logger.error(
                lasting < 1
                    ? "the state store failed: \(text)"
                    : "the state store has been failing for \(DurationText.format(seconds: lasting)) (\(log.failures) errors): \(text)"
            )
        }
    }

    public var snapshot: Snapshot {
        state.withLock { state in
            Snapshot(
                failingSince: state.failingSince.values.min(),
                lastError: state.failingSince.isEmpty ? nil : state.lastError,
                failingOperations: state.failingSince.keys.map(\.rawValue).sorted())
        }
    }
}

/// The worker gives up on a state store that kept failing, so its supervisor restarts it.
public struct StoreGaveUp: Error, Sendable, CustomStringConvertible {
    public var failingFor: Double
    public var lastError: String

    public var description: String {
        "the state store has been failing for \(DurationText.format(seconds: failingFor)) (\(lastError)); devicewatch exits so that "
            + "its supervisor restarts it: check the state file and its disk, `devicewatch state check` tells whether it is damaged"
    }
}
