import DeviceWatchCore
import Foundation
import Synchronization
import Testing

@testable import DeviceWatch

/// The real SQLite store, with a switch that makes the next cycle's commit fail as a full disk would.
final class FlakyStore: StateStore {
    let store: SQLiteStateStore
    let failNextCommit = Mutex(false)

    init(path: String) throws { store = try SQLiteStateStore(path: path) }

    func commitCycle(at now: Date, _ cycle: (_ enqueue: (NotificationIntent) throws -> Void) throws -> StateChanges)
        throws(StateStoreError)
    {
        let fail = failNextCommit.withLock { value in
            defer { value = false }
            return value
        }
        guard fail else { return try store.commitCycle(at: now, cycle) }
        // Plan and write inside the transaction as usual, then fail before it commits.
        do {
            try withoutActuallyEscaping(cycle) { cycle in
                try store.commitCycle(at: now) { enqueue in
                    try withoutActuallyEscaping(enqueue) { enqueue in _ = try cycle(enqueue) }
                    throw StateStoreError(kind: .unavailable, path: store.path, detail: "disk full")
                }
            }
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError(kind: .other, path: store.path, detail: "\(error)")
        }
    }

    func load() throws(StateStoreError) -> PersistedState { try store.load() }
    func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        throws(StateStoreError) -> [OutboxEntry]
    {
        try store.dueNotifications(at: now, receiver: receiver, excludingGroups: excludingGroups, limit: limit)
    }
    func pendingReceivers() throws(StateStoreError) -> Set<String> { try store.pendingReceivers() }
    func notifications(state: OutboxEntry.State?, limit: Int) throws(StateStoreError) -> [OutboxEntry] {
        try store.notifications(state: state, limit: limit)
    }
    func outboxCounts() throws(StateStoreError) -> [OutboxEntry.State: Int] { try store.outboxCounts() }
    func prune(sentBefore: Date, deadBefore: Date) throws(StateStoreError) -> Int {
        try store.prune(sentBefore: sentBefore, deadBefore: deadBefore)
    }
    func record(_ outcomes: [DeliveryRecord], at now: Date) throws(StateStoreError) {
        try store.record(outcomes, at: now)
    }
    func clockOffsets() throws(StateStoreError) -> [ClockOffset] { try store.clockOffsets() }
    func addSilence(_ silence: Silence) throws(StateStoreError) { try store.addSilence(silence) }
    func silences(includeExpired: Bool, at now: Date) throws(StateStoreError) -> [Silence] {
        try store.silences(includeExpired: includeExpired, at: now)
    }
    func expireSilence(_ id: String, at now: Date) throws(StateStoreError) -> Bool {
        try store.expireSilence(id, at: now)
    }
}

@Suite("Engine commits")
struct EngineCommitTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-engine-\(UUID().uuidString).db").path
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!

    func devices(offline: Bool) -> [Device] {
        (1...3).map { index in
            Device(
                id: "cam-\(index)", name: "cam \(index)", status: offline ? .offline : .online,
                lastHeartbeat: Self.t0.addingTimeInterval(offline ? -3600 : -10), tags: ["production"])
        }
    }

    @Test func aFailedCommitLeavesNothingHalfDoneAndTheNextCyclePlansItAgain() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try FlakyStore(path: path)
        var config = Configuration.Defaults()
        config.groupWait = 0
        let rules = RuleSet([
            Rule(
                id: "offline", summary: "{{device.name}} offline", condition: .offlineFor(seconds: 600),
                notify: ["chat"])
        ])
        let engine = Engine(
            rules: rules, defaults: RoutingDefaults(config), staleAfter: 300, state: try store.load(), store: store)

        // Three cameras go offline; the commit fails: nothing is written, and the engine forgets
        // the cycle's alerts and its notification group as if it had never run.
        store.failNextCommit.withLock { $0 = true }
        await engine.pollSucceeded(workspace: "acme", devices: devices(offline: true), apiDate: Self.t0)
        #expect(await engine.alerts.isEmpty)
        #expect(try store.load().book.alerts.isEmpty)
        #expect(try store.notifications(state: nil, limit: 10).isEmpty)

        // The next poll plans the same again and commits it: each alert and the page once.
        await engine.pollSucceeded(
            workspace: "acme", devices: devices(offline: true), apiDate: Self.t0.addingTimeInterval(30))
        #expect(await engine.alerts.map(\.key.deviceID) == ["cam-1", "cam-2", "cam-3"])
        let stored = try store.load()
        #expect(stored.book.alerts.count == 3)
        #expect(stored.routing.groups.count == 1)
        let notifications = try store.notifications(state: nil, limit: 10)
        #expect(notifications.count == 1)
        #expect(notifications.first?.intent.firing.count == 3)

        // They recover; that commit fails too: the alerts are firing again in memory, as stored.
        store.failNextCommit.withLock { $0 = true }
        await engine.pollSucceeded(
            workspace: "acme", devices: devices(offline: false), apiDate: Self.t0.addingTimeInterval(60))
        #expect(await engine.alerts.allSatisfy { $0.state == .firing })
        #expect(try store.load().book.alerts.values.allSatisfy { $0.state == .firing })
        // And the next poll resolves them for good.
        await engine.pollSucceeded(
            workspace: "acme", devices: devices(offline: false), apiDate: Self.t0.addingTimeInterval(90))
        #expect(try store.load().book.alerts.values.allSatisfy { $0.state == .resolved })
    }
}
