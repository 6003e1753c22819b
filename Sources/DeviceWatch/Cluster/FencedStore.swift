import DeviceWatchCore
import Foundation

/// The store as one workspace's engine sees it in a cluster: it loads that workspace's state and
/// commits under the workspace's lease (``WorkspaceFence``), so a cycle planned on ownership that
/// another worker has since taken over is refused whole. Everything else is the shared store's.
struct FencedStore: StoreWrapper {
    let store: PostgresStateStore
    let fence: WorkspaceFence

    var wrapped: any StateStore { store }

    func load() async throws(StateStoreError) -> PersistedState { try await store.load(workspace: fence.workspace) }

    func commit(_ changes: StateChanges, at now: Date) async throws(StateStoreError) {
        try await store.commit(changes, at: now, fence: fence)
    }
}
