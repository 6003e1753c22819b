import DeviceWatchCore
import Foundation
import Synchronization
import Testing

@testable import DeviceWatch

/// The real SQLite store, with a switch that makes the next cycle's commit fail as a full disk
/// would, a count of the cycles it was asked to commit, and of the outbox reads.
final class FlakyStore: StoreWrapper {
    let store: SQLiteStateStore
    let failNextCommit = Mutex(false)
    let cycles = Mutex(0)
    let outboxReads = Mutex(0)

    init(path: String) throws { store = try SQLiteStateStore(path: path) }

    var wrapped: any StateStore { store }

    func commit(_ changes: StateChanges, at now: Date) async throws(StateStoreError) {
        cycles.withLock { $0 += 1 }
        let fail = failNextCommit.withLock { value in
            defer { value = false }
            return value
        }
        guard fail else { return try await store.commit(changes, at: now) }
        // Write inside the transaction as usual, then fail before it commits.
        let path = store.path
        try await store.write { db in
            try SQLiteStateStore.write(changes, at: now, to: db)
            throw StateStoreError(kind: .unavailable, path: path, detail: "disk full")
        }
    }

    func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        async throws(StateStoreError) -> [OutboxEntry]
    {
        outboxReads.withLock { $0 += 1 }
        return try await store.dueNotifications(
            at: now, receiver: receiver, excludingGroups: excludingGroups, limit: limit)
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
        config.groupWait = .seconds(0)
        let rules = RuleSet([
            Rule(
                id: "offline", summary: "{{device.name}} offline", condition: .offlineFor(.seconds(600)),
                notify: ["chat"])
        ])
        let engine = await Engine(
            rules: rules, defaults: RoutingDefaults(config), staleAfter: .seconds(300), state: try store.load(),
            store: store)

        // Three cameras go offline; the commit fails: nothing is written, and the engine forgets
        // the cycle's alerts and its notification group as if it had never run.
        store.failNextCommit.withLock { $0 = true }
        await engine.pollSucceeded(workspace: "acme", devices: devices(offline: true), apiDate: Self.t0)
        #expect(await engine.alerts.isEmpty)
        await #expect(try store.load().book.alerts.isEmpty)
        await #expect(try store.notifications(state: nil, limit: 10).isEmpty)

        // The next poll plans the same again and commits it: each alert and the page once.
        await engine.pollSucceeded(
            workspace: "acme", devices: devices(offline: true), apiDate: Self.t0.addingTimeInterval(30))
        #expect(await engine.alerts.map(\.key.deviceID) == ["cam-1", "cam-2", "cam-3"])
        let stored = try await store.load()
        #expect(stored.book.alerts.count == 3)
        #expect(stored.routing.groups.count == 1)
        let notifications = try await store.notifications(state: nil, limit: 10)
        #expect(notifications.count == 1)
        #expect(notifications.first?.intent.firing.count == 3)

        // They recover; that commit fails too: the alerts are firing again in memory, as stored.
        store.failNextCommit.withLock { $0 = true }
        await engine.pollSucceeded(
            workspace: "acme", devices: devices(offline: false), apiDate: Self.t0.addingTimeInterval(60))
        #expect(await engine.alerts.allSatisfy { $0.state == .firing })
        await #expect(try store.load().book.alerts.values.allSatisfy { $0.state == .firing })
        // And the next poll resolves them for good.
        await engine.pollSucceeded(
            workspace: "acme", devices: devices(offline: false), apiDate: Self.t0.addingTimeInterval(90))
        await #expect(try store.load().book.alerts.values.allSatisfy { $0.state == .resolved })
    }

    /// A tick with nothing due (no timer run out, the silences unchanged) plans nothing and opens
    /// no transaction; one at the moment a timer runs out, or after a silence ends, does.
    @Test func aTickWithNothingDueDoesNothingAndOneWithSomethingDueSendsIt() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try FlakyStore(path: path)
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(30)
        defaults.repeatEvery = .seconds(3600)
        let rules = RuleSet([Rule(id: "offline", condition: .offlineFor(.seconds(600)), notify: ["chat"])])
        let clock = Mutex(Self.t0)
        let engine = await Engine(
            rules: rules, defaults: RoutingDefaults(defaults), staleAfter: .seconds(300), state: try store.load(),
            store: store,
            localNow: { clock.withLock { $0 } })
        await engine.pollSucceeded(workspace: "acme", devices: devices(offline: true), apiDate: Self.t0)
        await #expect(try store.store.notifications(state: nil, limit: 10).isEmpty)  // group_wait runs
        let afterPoll = store.cycles.withLock { $0 }

        // Ten seconds on: nothing is due yet; the ticks open no transaction.
        for second in 1...10 {
            clock.withLock { $0 = Self.t0.addingTimeInterval(Double(second)) }
            await engine.tick()
        }
        #expect(store.cycles.withLock { $0 } == afterPoll)

        // group_wait has run out: the next tick plans and sends.
        clock.withLock { $0 = Self.t0.addingTimeInterval(31) }
        await engine.tick()
        #expect(store.cycles.withLock { $0 } == afterPoll + 1)
        await #expect(try store.store.notifications(state: nil, limit: 10).map(\.intent.reason) == [.new])

        // Quiet again until repeat_every; then a silence added and expired from outside (the CLI)
        // is seen at the next tick as a change of silences, and planned.
        clock.withLock { $0 = Self.t0.addingTimeInterval(40) }
        await engine.tick()
        #expect(store.cycles.withLock { $0 } == afterPoll + 1)
        try await store.addSilence(
            Silence(
                id: "s", matchers: [.init(name: "rule", pattern: "offline")], startsAt: Self.t0,
                endsAt: Self.t0.addingTimeInterval(7200), comment: "c", author: "a", createdAt: Self.t0))
        clock.withLock { $0 = Self.t0.addingTimeInterval(41) }
        await engine.tick()
        #expect(store.cycles.withLock { $0 } == afterPoll + 2)
        // An hour on, the repeat is muted by the silence; when it is expired, the repeat goes.
        clock.withLock { $0 = Self.t0.addingTimeInterval(3700) }
        await engine.tick()
        await #expect(try store.store.notifications(state: nil, limit: 10).count == 1)
        _ = try await store.expireSilence("s", at: Self.t0.addingTimeInterval(3701))
        clock.withLock { $0 = Self.t0.addingTimeInterval(3702) }
        await engine.tick()
        await #expect(try store.store.notifications(state: nil, limit: 10).map(\.intent.reason) == [.repeat, .new])
    }
}

/// The real SQLite store, whose silence reads can be made to hang until the task asking is
/// cancelled, as a PostgreSQL read does on a cut link when a lost lease stops the poller.
final class HangingSilencesStore: StoreWrapper {
    let store: SQLiteStateStore
    let hang = Mutex(false)
    let fail = Mutex(false)
    /// Resumed when a read starts hanging.
    let hanging: AsyncStream<Void>
    private let hangingContinuation: AsyncStream<Void>.Continuation

    init(path: String) throws {
        store = try SQLiteStateStore(path: path)
        (hanging, hangingContinuation) = AsyncStream.makeStream()
    }

    var wrapped: any StateStore { store }

    func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence] {
        if fail.withLock({ $0 }) { throw StateStoreError(kind: .unavailable, path: store.path, detail: "disk gone") }
        if hang.withLock({ $0 }) {
            hangingContinuation.yield()
            do { try await Task.sleep(for: .seconds(3600)) } catch {
                throw StateStoreError(kind: .unavailable, path: store.path, detail: "cancelled")
            }
        }
        return try await store.silences(includeExpired: includeExpired, at: now)
    }
}

@Suite("Engine store health")
struct EngineStoreHealthTests {
    @Test func aCycleStoppedWhileItReadsSilencesIsNotAFailingStore() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-hang-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try HangingSilencesStore(path: path)
        let health = StoreHealth()
        let engine = await Engine(
            rules: RuleSet([Rule(id: "offline", condition: .offlineFor(.seconds(600)), notify: ["chat"])]),
            defaults: RoutingDefaults(Configuration.Defaults()), staleAfter: .seconds(300), state: try store.load(),
            store: store, storeHealth: health)
        let devices = [
            Device(id: "cam-1", status: .offline, lastHeartbeat: EngineCommitTests.t0.addingTimeInterval(-3600))
        ]

        // The poller is stopped (its lease lost) while the engine waits on the store.
        store.hang.withLock { $0 = true }
        let poll = Task {
            await engine.pollSucceeded(workspace: "acme", devices: devices, apiDate: EngineCommitTests.t0)
        }
        var hanging = store.hanging.makeAsyncIterator()
        await hanging.next()
        poll.cancel()
        await poll.value
        #expect(health.snapshot.failingSince == nil, "\(health.snapshot)")
        #expect(await engine.alerts.isEmpty)

        // A failure of its own, not a cancellation, is reported; withdrawing the engines'
        // operations (a cluster worker left holding no workspace) forgets it.
        store.hang.withLock { $0 = false }
        store.fail.withLock { $0 = true }
        await engine.pollSucceeded(workspace: "acme", devices: devices, apiDate: EngineCommitTests.t0)
        #expect(health.snapshot.failingOperations == ["read-silences"])
        health.withdraw([.commitCycle])
        #expect(health.snapshot.failingOperations == ["read-silences"], "only the operations named are withdrawn")
        health.withdraw([.commitCycle, .readSilences])
        #expect(health.snapshot.failingSince == nil)
    }
}
