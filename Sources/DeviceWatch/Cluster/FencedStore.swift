import DeviceWatchCore
import Foundation

/// The store as one workspace's engine sees it in a cluster: it loads that workspace's state and
/// commits under the workspace's lease (``WorkspaceFence``), so a cycle planned on ownership that
/// another worker has since taken over is refused whole. Everything else is the shared store's.
struct FencedStore: StateStore {
    let store: PostgresStateStore
    let fence: WorkspaceFence

    func load() async throws(StateStoreError) -> PersistedState { try await store.load(workspace: fence.workspace) }

    func commit(_ changes: StateChanges, at now: Date) async throws(StateStoreError) {
        try await store.commit(changes, at: now, fence: fence)
    }

    func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        async throws(StateStoreError) -> [OutboxEntry]
    {
        try await store.dueNotifications(at: now, receiver: receiver, excludingGroups: excludingGroups, limit: limit)
    }

    func pendingReceivers() async throws(StateStoreError) -> Set<String> { try await store.pendingReceivers() }

    func notifications(state: OutboxEntry.State?, limit: Int) async throws(StateStoreError) -> [OutboxEntry] {
        try await store.notifications(state: state, limit: limit)
    }

    func outboxCounts() async throws(StateStoreError) -> [OutboxEntry.State: Int] { try await store.outboxCounts() }

    func prune(sentBefore: Date, deadBefore: Date) async throws(StateStoreError) -> Int {
        try await store.prune(sentBefore: sentBefore, deadBefore: deadBefore)
    }

    func confirmClaim(_ id: String) async throws(StateStoreError) -> Bool { try await store.confirmClaim(id) }

    func record(_ outcomes: [DeliveryRecord], at now: Date) async throws(StateStoreError) {
        try await store.record(outcomes, at: now)
    }

    func clockOffsets() async throws(StateStoreError) -> [ClockOffset] { try await store.clockOffsets() }

    func statusLog(_ query: StatusLogQuery) async throws(StateStoreError) -> StatusHistory {
        try await store.statusLog(query)
    }

    func pruneHistory(before: Date) async throws(StateStoreError) -> Int {
        try await store.pruneHistory(before: before)
    }
    func coverage(_ query: StatusLogQuery) async throws(StateStoreError) -> [CoverageSpan] {
        try await store.coverage(query)
    }
    func knownDevices(_ query: StatusLogQuery) async throws(StateStoreError) -> [KnownDevice] {
        try await store.knownDevices(query)
    }
    func alertHistory(_ query: AlertHistoryQuery) async throws(StateStoreError) -> [AlertEpisode] {
        try await store.alertHistory(query)
    }

    func addSilence(_ silence: Silence) async throws(StateStoreError) { try await store.addSilence(silence) }

    func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence] {
        try await store.silences(includeExpired: includeExpired, at: now)
    }

    func expireSilence(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await store.expireSilence(id, at: now)
    }

    func addAcknowledgement(_ acknowledgement: Acknowledgement) async throws(StateStoreError) {
        try await store.addAcknowledgement(acknowledgement)
    }

    func acknowledgements(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Acknowledgement] {
        try await store.acknowledgements(includeExpired: includeExpired, at: now)
    }

    func expireAcknowledgement(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await store.expireAcknowledgement(id, at: now)
    }
}
