import DeviceWatchCore
import Foundation

/// A store in front of another: every call goes to ``wrapped`` unless the wrapper has its own
/// (``FencedStore`` loads one workspace and commits under its lease; tests count calls or fail
/// a commit on demand). Written once here, so a wrapper names only what it changes.
public protocol StoreWrapper: StateStore {
    /// The store the calls go to.
    var wrapped: any StateStore { get }
}

extension StoreWrapper {
    public func load() async throws(StateStoreError) -> PersistedState { try await wrapped.load() }

    public func commit(_ changes: StateChanges, at now: Date) async throws(StateStoreError) {
        try await wrapped.commit(changes, at: now)
    }

    public func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        async throws(StateStoreError) -> [OutboxEntry]
    {
        try await wrapped.dueNotifications(at: now, receiver: receiver, excludingGroups: excludingGroups, limit: limit)
    }

    public func pendingReceivers() async throws(StateStoreError) -> Set<String> {
        try await wrapped.pendingReceivers()
    }

    public func notifications(state: OutboxEntry.State?, limit: Int) async throws(StateStoreError) -> [OutboxEntry] {
        try await wrapped.notifications(state: state, limit: limit)
    }

    public func outboxCounts() async throws(StateStoreError) -> [OutboxEntry.State: Int] {
        try await wrapped.outboxCounts()
    }

    public func prune(sentBefore: Date, deadBefore: Date) async throws(StateStoreError) -> Int {
        try await wrapped.prune(sentBefore: sentBefore, deadBefore: deadBefore)
    }

    public func confirmClaim(_ id: String) async throws(StateStoreError) -> Bool { try await wrapped.confirmClaim(id) }

    public func record(_ outcomes: [DeliveryRecord], at now: Date) async throws(StateStoreError) {
        try await wrapped.record(outcomes, at: now)
    }

    public func clockOffsets() async throws(StateStoreError) -> [ClockOffset] { try await wrapped.clockOffsets() }

    public func statusLog(_ query: StatusLogQuery) async throws(StateStoreError) -> StatusHistory {
        try await wrapped.statusLog(query)
    }

    public func coverage(_ query: StatusLogQuery) async throws(StateStoreError) -> [CoverageSpan] {
        try await wrapped.coverage(query)
    }

    public func knownDevices(_ query: StatusLogQuery) async throws(StateStoreError) -> [KnownDevice] {
        try await wrapped.knownDevices(query)
    }

    public func alertHistory(_ query: AlertHistoryQuery) async throws(StateStoreError) -> [AlertEpisode] {
        try await wrapped.alertHistory(query)
    }

    public func pruneHistory(before: Date) async throws(StateStoreError) -> Int {
        try await wrapped.pruneHistory(before: before)
    }

    public func addSilence(_ silence: Silence) async throws(StateStoreError) { try await wrapped.addSilence(silence) }

    public func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence] {
        try await wrapped.silences(includeExpired: includeExpired, at: now)
    }

    public func expireSilence(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await wrapped.expireSilence(id, at: now)
    }

    public func addAcknowledgement(_ acknowledgement: Acknowledgement) async throws(StateStoreError) {
        try await wrapped.addAcknowledgement(acknowledgement)
    }

    public func acknowledgements(includeExpired: Bool, at now: Date) async throws(StateStoreError)
        -> [Acknowledgement]
    {
        try await wrapped.acknowledgements(includeExpired: includeExpired, at: now)
    }

    public func expireAcknowledgement(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await wrapped.expireAcknowledgement(id, at: now)
    }
}
