import DeviceWatch
import DeviceWatchCore
import Foundation
import GRDB
import Testing

@Suite("SQLiteStateStore")
struct SQLiteStateStoreTests {
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-state-\(UUID().uuidString).db").path

    let rules = RuleSet([
        Rule(id: "offline", summary: "{{device.name}} offline", condition: .offlineFor(.seconds(600)), notify: ["chat"])
    ])
    let defaults: RoutingDefaults = {
        var config = Configuration.Defaults()
        config.groupWait = .seconds(0)
        return RoutingDefaults(config)
    }()
    let perDeviceDefaults: RoutingDefaults = {
        var config = Configuration.Defaults()
        config.groupWait = .seconds(0)
        config.groupBy = ["device"]
        return RoutingDefaults(config)
    }()

    func devices(_ count: Int, offline: Bool) -> [Device] {
        (0..<count).map { index in
            Device(
                id: "d\(index)", name: "cam \(index)", status: offline ? .offline : .online,
                lastHeartbeat: Self.t0.addingTimeInterval(offline ? -3600 : -10), tags: ["production"])
        }
    }

    /// One cycle as the engine runs it: the pure cycle, then its changes and intents committed.
    func cycle(
        _ book: inout AlertBook, _ routing: inout RoutingState, _ devices: [Device], at now: Date,
        store: SQLiteStateStore
    ) async throws
        -> StateChanges
    {
        var state = AlertState(book: book, routing: routing)
        let (result, intents) = AlertCycle.run(
            &state, .poll(workspace: "acme", devices: devices, at: now),
            settings: AlertCycle.Settings(rules: rules, defaults: defaults))
        var changes = result.changes
        changes.intents = intents
        try await store.commit(changes, at: now)
        state.endCycle()
        (book, routing) = (state.book, state.routing)
        return changes
    }

    @Test func aCycleRoundTripsAndANoChangeCycleWritesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        var book = AlertBook(), routing = RoutingState()
        let first = try await cycle(&book, &routing, devices(50, offline: true), at: Self.t0, store: store)
        #expect(first.upsertAlerts.count == 50)
        #expect(first.intents.count == 1)
        #expect(first.addFirstSeen.count == 50)

        let second = try await cycle(
            &book, &routing, devices(50, offline: true), at: Self.t0.addingTimeInterval(30), store: store)
        #expect(second.isEmpty)
        // A minute on, only the workspace's coverage reaches further: one row.
        var third = try await cycle(
            &book, &routing, devices(50, offline: true), at: Self.t0.addingTimeInterval(90), store: store)
        #expect(third.upsertCoverage == [CoverageSpan(workspace: "acme", start: Self.t0, end: Self.t0 + 90)])
        third.upsertCoverage = []
        #expect(third.isEmpty)

        let reopened = try await SQLiteStateStore(path: path).load()
        #expect(reopened.book.alerts.count == 50)
        #expect(reopened.book.alerts.values.allSatisfy { $0.state == .firing })
        #expect(reopened.routing == routing)
        #expect(reopened.book.firstSeen == book.firstSeen)
        let pending = try await store.dueNotifications(at: Self.t0, limit: 10)
        #expect(pending.map(\.intent) == first.intents)
        #expect(pending.first?.state == .pending)
    }

    @Test func aRestartCarriesOnWithoutRepeatingOrLosing() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        var book = AlertBook(), routing = RoutingState()
        do {
            let store = try SQLiteStateStore(path: path)
            _ = try await cycle(&book, &routing, devices(3, offline: true), at: Self.t0, store: store)
        }
        // A new process: load, and the next cycle neither re-pages nor forgets.
        let store = try SQLiteStateStore(path: path)
        let state = try await store.load()
        var reloadedBook = state.book, reloadedRouting = state.routing
        let again = try await cycle(
            &reloadedBook, &reloadedRouting, devices(3, offline: true), at: Self.t0.addingTimeInterval(60), store: store
        )
        #expect(again.intents.isEmpty)
        _ = try await cycle(
            &reloadedBook, &reloadedRouting, devices(3, offline: false), at: Self.t0.addingTimeInterval(120),
            store: store)
        // The resolve waits for group_interval (5m by default) after the first notification, across the restart.
        let resolved = try await cycle(
            &reloadedBook, &reloadedRouting, devices(3, offline: false), at: Self.t0.addingTimeInterval(300),
            store: store)
        #expect(resolved.intents.map(\.reason) == [.resolved])
        #expect(resolved.intents.first?.resolved.count == 3)
        await #expect(try store.load().book.alerts.isEmpty)
    }

    @Test func outboxEntriesMoveThroughAttemptsToSentOrDead() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        var book = AlertBook(), routing = RoutingState()
        let changes = try await cycle(&book, &routing, devices(1, offline: true), at: Self.t0, store: store)
        let id = try #require(changes.intents.first?.id)
        try await store.record(
            [DeliveryRecord(id: id, kind: .retry(at: Self.t0.addingTimeInterval(30), error: "HTTP 503"))], at: Self.t0)
        await #expect(try store.dueNotifications(at: Self.t0.addingTimeInterval(29), limit: 10).isEmpty)
        let due = try await store.dueNotifications(at: Self.t0.addingTimeInterval(30), limit: 10)
        #expect(due.first?.attempts == 1 && due.first?.lastError == "HTTP 503")
        try await store.record(
            [DeliveryRecord(id: id, kind: .dead(error: "HTTP 400: invalid payload"))],
            at: Self.t0.addingTimeInterval(31))
        await #expect(try store.notifications(state: .dead, limit: 10).map(\.intent.id) == [id])
        await #expect(try store.dueNotifications(at: Self.t0.addingTimeInterval(3600), limit: 10).isEmpty)
        // Committing the same intent again (a replayed cycle) never enqueues it twice.
        try await store.commit(
            {
                var c = StateChanges(); c.intents = changes.intents; return c
            }(), at: Self.t0)
        await #expect(try store.notifications(state: nil, limit: 10).count == 1)
    }

    @Test func aCycleWithNothingToWriteTakesNoLock() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        // Another process (a `silence add`, say) holds the write lock: a cycle that writes nothing
        // neither waits for it (the store waits up to 10 s, then fails) nor fails.
        // The lock is held across this test's awaits (no thread blocked waiting: a blocked thread
        // starved the cooperative pool on a loaded 2-core CI machine).
        var holding = GRDB.Configuration()
        holding.allowsUnsafeTransactions = true
        let lock = try DatabaseQueue(path: path, configuration: holding)
        try await lock.writeWithoutTransaction { db in try db.beginTransaction(.immediate) }
        // The lock is really held: a third connection that does not wait is refused it.
        var impatient = GRDB.Configuration()
        impatient.busyMode = .immediateError
        let other = try DatabaseQueue(path: path, configuration: impatient)
        #expect(throws: DatabaseError.self) {
            try other.writeWithoutTransaction { db in try db.beginTransaction(.immediate) }
        }
        // Had it tried to write, the store would wait out its busy timeout and then throw.
        try await store.commit(StateChanges(), at: Self.t0)
        try await lock.writeWithoutTransaction { db in try db.rollback() }
    }

    @Test func pruningDeletesOnlyLongDoneNotifications() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        var changes = StateChanges()
        changes.intents = (1...5).map { index in
            NotificationIntent(
                id: "n-\(index)", receiver: "r", groupKey: "g\(index)", groupLabels: [:], firing: [], resolved: [],
                reason: .new, createdAt: Self.t0)
        }
        try await store.commit(changes, at: Self.t0)
        let recently = Self.t0.addingTimeInterval(9 * 86_400)
        // n-1 sent and n-3 dead long ago; n-2 sent and n-4 dead recently.
        try await store.record([DeliveryRecord(id: "n-1", kind: .sent)], at: Self.t0)
        try await store.record([DeliveryRecord(id: "n-2", kind: .sent)], at: recently)
        try await store.record([DeliveryRecord(id: "n-3", kind: .dead(error: "HTTP 404"))], at: Self.t0)
        try await store.record([DeliveryRecord(id: "n-4", kind: .dead(error: "HTTP 404"))], at: recently)
        // n-5 stays pending, however old.
        await #expect(try store.outboxCounts() == [.pending: 1, .dead: 2])
        let now = Self.t0.addingTimeInterval(10 * 86_400)
        await #expect(
            try store.prune(
                sentBefore: now.addingTimeInterval(-7 * 86_400), deadBefore: now.addingTimeInterval(-5 * 86_400)) == 2)
        await #expect(
            try store.notifications(state: nil, limit: 10).map(\.intent.id).sorted() == ["n-2", "n-4", "n-5"])
        await #expect(try store.prune(sentBefore: now, deadBefore: now) == 2)
        await #expect(try store.notifications(state: nil, limit: 10).map(\.intent.id) == ["n-5"])
    }

    @Test func silencesAreAddedListedAndExpired() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        let silence = Silence(
            id: "abc", matchers: [.init(name: "tag", pattern: "site-a")], startsAt: Self.t0,
            endsAt: Self.t0.addingTimeInterval(7200), comment: "maintenance", author: "ops", createdAt: Self.t0)
        try await store.addSilence(silence)
        await #expect(try store.silences(includeExpired: false, at: Self.t0.addingTimeInterval(60)) == [silence])
        await #expect(try store.expireSilence("abc", at: Self.t0.addingTimeInterval(60)))
        await #expect(try store.silences(includeExpired: false, at: Self.t0.addingTimeInterval(61)).isEmpty)
        await #expect(
            try store.silences(includeExpired: true, at: Self.t0).first?.endsAt == Self.t0.addingTimeInterval(60))
        await #expect(try store.expireSilence("abc", at: Self.t0.addingTimeInterval(120)) == false)
        await #expect(try store.load().silences.count == 1)
    }

    @Test func aCorruptDatabaseStopsWithAClearErrorAndIsNeverReplaced() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let garbage = Data(repeating: 0x42, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StateStoreError.self) { try SQLiteStateStore(path: path) }
        #expect(error?.kind == .corrupt)
        #expect(error?.description.contains("will not start empty") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    /// The demo opens a store for its history, drops it, and then the worker and the on-call
    /// helper open their own while the first is still closing: SQLite briefly locks the file
    /// while the last connection cleans up the WAL, and the open check read it without a busy
    /// wait, so a start failed with "database is locked" now and then. Opens and closes race here
    /// in many rounds; every open must succeed and see the same database.
    @Test func storesOpenedAndClosedAtOnceOnOneFileNeverFailLocked() async throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let path = self.path
        do {
            let store = try SQLiteStateStore(path: path)
            var book = AlertBook(), routing = RoutingState()
            _ = try await cycle(&book, &routing, devices(3, offline: true), at: Self.t0, store: store)
        }
        var opened = 0
        for _ in 0..<60 {
            opened += try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let store = try SQLiteStateStore(path: path)
                        return try await store.load().book.alerts.count
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        #expect(opened == 60 * 4 * 3)
    }

    @Test func anUnwritableLocationSaysWhatToCheck() {
        let error = #expect(throws: StateStoreError.self) { try SQLiteStateStore(path: "/nonexistent-dir/state.db") }
        #expect(error?.kind == .unavailable)
    }

    /// A zero-length file (a failed copy, a truncated restore) was opened as a new database and
    /// the worker re-sent what it had delivered: it is refused, and left as it is.
    @Test func anEmptyFileIsRefusedNeverTakenForANewDatabase() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let error = #expect(throws: StateStoreError.self) { try SQLiteStateStore(path: path) }
        #expect(error?.kind == .corrupt)
        #expect(error?.description.contains("the file is empty") == true, "\(String(describing: error))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
    }

    @Test func anotherProgramsDatabaseIsRefusedAndLeftAlone() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let other = try DatabaseQueue(path: path)
            try other.write { try $0.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY)") }
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = #expect(throws: StateStoreError.self) { try SQLiteStateStore(path: path) }
        #expect(error?.kind == .corrupt)
        #expect(
            error?.description.contains("not devicewatch's (its tables: photos)") == true,
            "\(String(describing: error))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    /// A new database is made under a temporary name and moved into place: nothing else is left.
    @Test func aNewDatabaseIsCreatedOnlyWhereNoFileIs() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dw-new-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/state.db"
        _ = try SQLiteStateStore(path: file)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix("state.db") }.isEmpty)
        await #expect(try SQLiteStateStore(path: file).integrityCheck() == ["ok"])
    }

    /// A damaged page in the middle of the file is found at open (quick_check), and by
    /// `devicewatch state check` (integrity_check).
    @Test func aDamagedPageIsFoundAtOpen() async throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let store = try SQLiteStateStore(path: path)
            var changes = StateChanges()
            changes.intents = (0..<400).map { index in
                var intent = Fixed.intent(firing: [Fixed.alert(index)])
                intent.id = "n-\(index)"
                intent.groupKey = "g-\(index)"
                return intent
            }
            try await store.commit(changes, at: Date())
        }
        // Every store is closed: overwrite a page well inside the file.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        #expect(size > 64 * 1024)
        try handle.seek(toOffset: size / 2 / 4096 * 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        try handle.close()
        let error = #expect(throws: StateStoreError.self) { try SQLiteStateStore(path: path) }
        #expect(error?.kind == .corrupt)
        #expect(
            error?.description.contains("quick_check") == true || error?.description.contains("malformed") == true,
            "\(String(describing: error))")
    }
}

@Suite("SQLiteStateStore versions")
struct SQLiteStateStoreVersionTests {
    /// A database migrated by a newer devicewatch is refused, not written to by an older one.
    @Test func aDatabaseFromANewerVersionIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-newer-\(UUID().uuidString).db")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try SQLiteStateStore(path: path)
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write {
                try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('99-from-the-future')")
            }
        }
        let error = #expect(throws: StateStoreError.self) { try SQLiteStateStore(path: path) }
        #expect(error?.kind == .tooNew, "\(String(describing: error))")
        #expect(error?.description.contains("newer devicewatch") == true)
    }
}
