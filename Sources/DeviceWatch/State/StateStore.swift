import DeviceWatchCore
import Foundation

/// Everything devicewatch keeps across restarts.
public struct PersistedState: Sendable {
    public var book: AlertBook
    public var routing: RoutingState
    public var silences: [Silence]
    /// The API's clock against the local one, per workspace, at its latest poll.
    public var clockOffsets: [ClockOffset] = []
}

/// A notification waiting in, or done with, the outbox.
public struct OutboxEntry: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending, sent, dead
    }

    public var intent: NotificationIntent
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    /// When it entered the outbox, on the worker's clock.
    public var createdAt: Date
    public var updatedAt: Date
}

/// What became of one delivery attempt.
public struct DeliveryRecord: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case sent
        case retry(at: Date, error: String)
        case dead(error: String)
    }

    public var id: String
    public var kind: Kind

    public init(id: String, kind: Kind) {
        self.id = id
        self.kind = kind
    }
}

extension OutboxEntry {
    /// An outbox row as a store keeps it (times as seconds since 1970, the intent as JSON).
    init(
        payload: String, state: String, attempts: Int, nextAttemptAt: Double, lastError: String?, createdAt: Double,
        updatedAt: Double
    ) throws {
        // The core's pull reader first (what JSONWriter wrote); JSONDecoder for anything else.
        let intent =
            try (try? NotificationIntent(outboxJSON: Array(payload.utf8))) ?? decode(NotificationIntent.self, payload)
        self.init(
            intent: intent, state: OutboxEntry.State(rawValue: state) ?? .pending, attempts: attempts,
            nextAttemptAt: Date(timeIntervalSince1970: nextAttemptAt), lastError: lastError,
            createdAt: Date(timeIntervalSince1970: createdAt), updatedAt: Date(timeIntervalSince1970: updatedAt))
    }
}

/// The durable state and the notification outbox: what the engine, the dispatcher, the ops server
/// and the commands need of a store, and no more, so a PostgreSQL store can stand beside the
/// SQLite one for a highly available pair of workers. Every implementation passes the same
/// contract suite (`StoreContractTests`).
///
/// Every call is `async`: a store does its work off the caller's thread (SQLite on GRDB's own
/// queues, a networked database over its connections), so a command holding the write lock
/// never stalls one of a small host's few cooperative threads.
public protocol StateStore: Sendable {
    /// Reads the whole state; a store that cannot be read throws, it never starts empty silently.
    func load() async throws(StateStoreError) -> PersistedState
    /// Writes one cycle's changes and its new outbox rows in one transaction: all or nothing.
    /// Empty changes write nothing and take no lock.
    func commit(_ changes: StateChanges, at now: Date) async throws(StateStoreError)
    /// The oldest pending notification of each of one receiver's groups, where it is due at
    /// `now`, leaving out the groups in `excludingGroups` (those the dispatcher has in flight):
    /// what one receiver's lane delivers next, oldest first.
    func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        async throws(StateStoreError) -> [OutboxEntry]
    /// The receivers that pending notifications are for.
    func pendingReceivers() async throws(StateStoreError) -> Set<String>
    func notifications(state: OutboxEntry.State?, limit: Int) async throws(StateStoreError) -> [OutboxEntry]
    /// How many notifications are pending and dead (sent ones are not counted: there can be millions).
    func outboxCounts() async throws(StateStoreError) -> [OutboxEntry.State: Int]
    /// Deletes sent notifications last updated before `sentBefore` and dead ones before
    /// `deadBefore`; pending ones are never touched. Returns how many went.
    func prune(sentBefore: Date, deadBefore: Date) async throws(StateStoreError) -> Int
    /// Just before a notification is sent: whether it is still this worker's to send. A store
    /// shared by several workers (claimed rows) says no when another worker claimed the row
    /// meanwhile; a store of one worker always says yes.
    func confirmClaim(_ id: String) async throws(StateStoreError) -> Bool
    /// Records many delivery outcomes in one transaction.
    func record(_ outcomes: [DeliveryRecord], at now: Date) async throws(StateStoreError)
    /// The API's clock against the local one, per workspace, as the worker last wrote it: how
    /// commands outside the worker tell the engine's time (``EngineClock``).
    func clockOffsets() async throws(StateStoreError) -> [ClockOffset]
    /// The device status log between `since` and `until` (nil: from its start, to its end),
    /// optionally of one workspace and one device: each device's row in force at `since`, and the
    /// rows after it, oldest first.
    func statusLog(_ query: StatusLogQuery) async throws(StateStoreError) -> StatusHistory
    /// The spans over which devicewatch saw each workspace (outside them: blind spots),
    /// overlapping the query's window (its `deviceID` is not used), by workspace and start.
    func coverage(_ query: StatusLogQuery) async throws(StateStoreError) -> [CoverageSpan]
    /// The facts (name, type, platform, tags) of each device as last seen, listed or gone, of
    /// the query's workspace and device (its window is not used), by workspace and device.
    func knownDevices(_ query: StatusLogQuery) async throws(StateStoreError) -> [KnownDevice]
    /// The alert history: episodes that fired before the window's end and had not resolved
    /// before its start, newest first.
    func alertHistory(_ query: AlertHistoryQuery) async throws(StateStoreError) -> [AlertEpisode]
    /// Deletes the history older than `before`: status log rows (keeping each device's newest
    /// row before it, its status at `before`, where a window starting there begins), coverage
    /// spans that ended before it, alert episodes resolved before it, and the facts of devices
    /// the status log no longer names. Returns how many rows went.
    func pruneHistory(before: Date) async throws(StateStoreError) -> Int
    func addSilence(_ silence: Silence) async throws(StateStoreError)
    /// Active and future silences; with `includeExpired`, every one.
    func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence]
    /// Ends a silence now; false when there is no such active silence.
    func expireSilence(_ id: String, at now: Date) async throws(StateStoreError) -> Bool
    func addAcknowledgement(_ acknowledgement: Acknowledgement) async throws(StateStoreError)
    /// Acknowledgements not yet expired (those whose alerts resolved are pruned with them); with
    /// `includeExpired`, every one.
    func acknowledgements(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Acknowledgement]
    /// Ends an acknowledgement now; false when there is no such one in force.
    func expireAcknowledgement(_ id: String, at now: Date) async throws(StateStoreError) -> Bool
}

extension StateStore {
    public func confirmClaim(_ id: String) async throws(StateStoreError) -> Bool { true }
}

/// Which part of the alert history to read.
public struct AlertHistoryQuery: Sendable, Equatable {
    public var workspace: String?
    public var ruleID: String?
    public var deviceID: String?
    public var since: Date?
    public var until: Date?
    /// true: resolved episodes only; false: firing ones only; nil: both.
    public var resolved: Bool?
    public var limit: Int

    public init(
        workspace: String? = nil, ruleID: String? = nil, deviceID: String? = nil, since: Date? = nil,
        until: Date? = nil, resolved: Bool? = nil, limit: Int = 10_000
    ) {
        self.workspace = workspace
        self.ruleID = ruleID
        self.deviceID = deviceID
        self.since = since
        self.until = until
        self.resolved = resolved
        self.limit = limit
    }
}

/// Rate limits and `Retry-After` pauses shared by every worker delivering to a receiver, so two
/// workers do not double the rate against one webhook.
public protocol SharedPacing: Sendable {
    /// Takes up to `count` tokens: how many it got, or how long until one is there.
    func takeTokens(receiver: String, limit: Configuration.RateLimit, count: Int) async throws(StateStoreError)
        -> TokenGrant
    /// Holds every worker's requests to `receiver` for `seconds`.
    func pause(receiver: String, seconds: Double) async throws(StateStoreError)
}

/// What a shared rate limit answered.
public enum TokenGrant: Sendable, Equatable {
    /// This many tokens (at least one), to spend now.
    case granted(Int)
    /// None there: the seconds until one is.
    case wait(seconds: Double)
}

extension PostgresStateStore: SharedPacing {}

/// A state store failure, saying what to do about it.
public struct StateStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The file is not a database, or is damaged.
        case corrupt
        /// It cannot be opened or written (permissions, disk, a directory that does not exist).
        case unavailable
        /// It was written by a newer devicewatch.
        case tooNew
        /// Another worker holds the database (PostgreSQL), or took it over from this one.
        case heldByAnother
        case other
    }

    public var kind: Kind
    public var path: String
    public var detail: String

    public var description: String {
        switch kind {
        case .corrupt:
            "the state database \(path) is unreadable (\(detail)); devicewatch will not start empty over it: restore it from a backup, "
                + "or move it away to start with no alert history"
        case .unavailable:
            "the state database \(path) cannot be used (\(detail)); check that its folder exists and is writable"
        case .tooNew:
            "the state database \(path) was written by a newer devicewatch (\(detail)); run that version or restore a backup"
        case .heldByAnother:
            "the state database \(path) is held by another devicewatch worker: \(detail)"
        case .other:
            "the state database \(path) failed: \(detail)"
        }
    }
}

extension Silence {
    /// A fresh silence id: 12 random hex digits.
    public static func newID() -> String {
        String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
    }
}
