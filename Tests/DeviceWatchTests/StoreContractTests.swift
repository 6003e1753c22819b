import DeviceWatchCore
import Foundation
import GRDB
import PostgresNIO
import TestSupport
import Testing

@testable import DeviceWatch

/// A state store under test, made fresh for each test, and how to throw it away.
struct StoreUnderTest: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> (store: any StateStore, cleanUp: @Sendable () -> Void)
    /// Makes the store's database refuse any outbox row with this id, as a failing disk or a
    /// constraint would, from outside the store (a second connection).
    let refuseOutboxRow: @Sendable (_ store: any StateStore, _ id: String) async throws -> Void

    var testDescription: String { name }

    /// Runs `body` on a new, empty store of this kind, then removes it.
    func withStore(_ body: (any StateStore) async throws -> Void) async throws {
        let (store, cleanUp) = try await make()
        defer { cleanUp() }
        try await body(store)
    }

    static let sqlite = StoreUnderTest(name: "SQLite") {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-contract-\(UUID().uuidString).db")
            .path
        let store = try SQLiteStateStore(path: path)
        return (
            store,
            { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        )
    } refuseOutboxRow: { store, id in
        let path = (store as! SQLiteStateStore).path
        try DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse_row BEFORE INSERT ON outbox WHEN NEW.id = '\(id)'
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """)
        }
    }

    /// A database of its own in the tests' throwaway PostgreSQL cluster (``TestPostgres``).
    static let postgres = StoreUnderTest(name: "PostgreSQL") {
        let store = try await PostgresStateStore(url: Secret(try await TestPostgres.shared.newDatabase()))
        return (store, { store.close() })
    } refuseOutboxRow: { store, id in
        let client = (store as! PostgresStateStore).client
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.id = '\(id)' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$
                    """))
        try await client.query(
            "CREATE TRIGGER refuse_row BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_row()")
    }

    /// Every implementation: each contract test runs against all of them.
    static let all: [StoreUnderTest] = [.sqlite, .postgres]
}

/// What the engine, the dispatcher, the ops server and the commands rely on of a state store,
/// run against every implementation (``StoreUnderTest/all``).
@Suite("State store contract")
struct StoreContractTests {
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!

    func intent(_ id: String, group: String = "g", receiver: String = "r", at: Date = t0) -> NotificationIntent {
        var intent = Fixed.intent(firing: [Fixed.alert(1)])
        intent.id = id
        intent.groupKey = group
        intent.receiver = receiver
        intent.createdAt = at
        return intent
    }

    func enqueue(_ store: any StateStore, _ intents: [NotificationIntent], at now: Date = t0) async throws {
        var changes = StateChanges()
        changes.intents = intents
        try await store.commit(changes, at: now)
    }

    func due(
        _ store: any StateStore, at now: Date = t0.addingTimeInterval(1), receiver: String = "r",
        excluding: Set<String> = []
    )
        async throws -> [String]
    {
        try await store.dueNotifications(at: now, receiver: receiver, excludingGroups: excluding, limit: 100).map(
            \.intent.id)
    }

    @Test(arguments: StoreUnderTest.all)
    func aCycleCommitsItsChangesAndNotificationsTogether(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            var alert = OpsServerTests.alert("cam-1", name: "gate")
            alert.evaluatedAt = Self.t0
            var book = AlertBook()
            book.set(alert)
            var changes = StateChanges()
            changes.intents = [intent("n-1")]
            changes.upsertAlerts = Selection([alert.key], from: book.alerts)
            changes.upsertClockOffsets = [ClockOffset(workspace: "acme", offset: .seconds(-60), measuredAt: Self.t0)]
            try await store.commit(changes, at: Self.t0)
            let state = try await store.load()
            #expect(state.book.alerts.keys.map(\.deviceID) == ["cam-1"])
            #expect(state.clockOffsets == [ClockOffset(workspace: "acme", offset: .seconds(-60), measuredAt: Self.t0)])
            await #expect(try store.clockOffsets().map(\.offset) == [.seconds(-60)])
            await #expect(try due(store) == ["n-1"])
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func aCycleThatFailsWritesNothingAtAll(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await subject.refuseOutboxRow(store, "n-3")
            var alert = OpsServerTests.alert("cam-1", name: "gate")
            alert.evaluatedAt = Self.t0
            var book = AlertBook()
            book.set(alert)
            var changes = StateChanges()
            changes.upsertAlerts = Selection([alert.key], from: book.alerts)
            changes.intents = (1...5).map { intent("n-\($0)", group: "g\($0)") }
            // The third row is refused: the alert and the two rows before it go too.
            await #expect(throws: StateStoreError.self) { try await store.commit(changes, at: Self.t0) }
            await #expect(try store.notifications(state: nil, limit: 10).isEmpty)
            await #expect(try store.load().book.alerts.isEmpty)
            // Without the refused row, the same commit goes through whole.
            changes.intents.remove(at: 2)
            try await store.commit(changes, at: Self.t0)
            await #expect(try store.notifications(state: nil, limit: 10).count == 4)
            await #expect(try store.load().book.alerts.count == 1)
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func aReplayedNotificationIsEnqueuedOnce(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await enqueue(store, [intent("n-1")])
            try await enqueue(store, [intent("n-1")])
            await #expect(try store.notifications(state: nil, limit: 10).map(\.intent.id) == ["n-1"])
        }
    }

    /// Only the oldest pending notification of a group is due: a resolve never overtakes its firing.
    @Test(arguments: StoreUnderTest.all)
    func aGroupsNotificationsGoInOrderOneAtATime(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await enqueue(store, [intent("a-1", group: "a"), intent("a-2", group: "a"), intent("b-1", group: "b")])
            await #expect(try due(store) == ["a-1", "b-1"])
            try await store.record([DeliveryRecord(id: "a-1", kind: .sent)], at: Self.t0)
            await #expect(try due(store) == ["a-2", "b-1"])
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func dueNotificationsAreAReceiversOwnLeavingOutGroupsInFlight(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await enqueue(
                store,
                [intent("a-1", group: "a"), intent("b-1", group: "b"), intent("x-1", group: "x", receiver: "other")])
            await #expect(try due(store, excluding: ["a"]) == ["b-1"])
            await #expect(try due(store, receiver: "other") == ["x-1"])
            await #expect(try store.pendingReceivers() == ["r", "other"])
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func outcomesAreRecordedAndARetryWaitsItsTime(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await enqueue(store, [intent("s", group: "1"), intent("t", group: "2"), intent("d", group: "3")])
            try await store.record(
                [
                    DeliveryRecord(id: "s", kind: .sent),
                    DeliveryRecord(id: "t", kind: .retry(at: Self.t0.addingTimeInterval(60), error: "HTTP 503")),
                    DeliveryRecord(id: "d", kind: .dead(error: "HTTP 400")),
                ], at: Self.t0)
            await #expect(try store.notifications(state: .sent, limit: 10).map(\.intent.id) == ["s"])
            await #expect(try store.notifications(state: .dead, limit: 10).first?.lastError == "HTTP 400")
            await #expect(try due(store, at: Self.t0.addingTimeInterval(59)).isEmpty)
            let retried = try await store.dueNotifications(
                at: Self.t0.addingTimeInterval(60), receiver: "r", excludingGroups: [], limit: 10)
            #expect(retried.map(\.intent.id) == ["t"])
            #expect(retried.first?.attempts == 1 && retried.first?.lastError == "HTTP 503")
            await #expect(try store.outboxCounts() == [.pending: 1, .dead: 1])
        }
    }

    /// One call naming a row twice (a retry, then its success) keeps the last outcome, as writing
    /// them one after the other would.
    @Test(arguments: StoreUnderTest.all)
    func aRowRecordedTwiceInOneCallKeepsItsLastOutcome(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await enqueue(store, [intent("s", group: "1")])
            try await store.record(
                [
                    DeliveryRecord(id: "s", kind: .retry(at: Self.t0.addingTimeInterval(60), error: "HTTP 503")),
                    DeliveryRecord(id: "s", kind: .sent),
                ], at: Self.t0)
            await #expect(try store.notifications(state: .sent, limit: 10).map(\.intent.id) == ["s"])
            await #expect(try store.outboxCounts() == [.pending: 0, .dead: 0])
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func pruningDeletesOnlyWhatIsLongDone(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await enqueue(
                store, [intent("old-sent", group: "1"), intent("old-dead", group: "2"), intent("pending", group: "3")])
            try await store.record(
                [DeliveryRecord(id: "old-sent", kind: .sent), DeliveryRecord(id: "old-dead", kind: .dead(error: "x"))],
                at: Self.t0)
            await #expect(
                try store.prune(sentBefore: Self.t0.addingTimeInterval(1), deadBefore: Self.t0.addingTimeInterval(1))
                    == 2)
            await #expect(try store.notifications(state: nil, limit: 10).map(\.intent.id) == ["pending"])
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func silencesAreAddedListedAndExpired(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            let silence = Silence(
                id: "s1", matchers: [.init(name: "rule", pattern: "x")], startsAt: Self.t0,
                endsAt: Self.t0.addingTimeInterval(3600),
                comment: "c", author: "a", createdAt: Self.t0)
            try await store.addSilence(silence)
            await #expect(
                try store.silences(includeExpired: false, at: Self.t0.addingTimeInterval(10)).map(\.id) == ["s1"])
            await #expect(try store.expireSilence("s1", at: Self.t0.addingTimeInterval(10)))
            await #expect(try store.silences(includeExpired: false, at: Self.t0.addingTimeInterval(11)).isEmpty)
            await #expect(
                try store.silences(includeExpired: true, at: Self.t0.addingTimeInterval(11)).map(\.id) == ["s1"])
            await #expect(try !store.expireSilence("s1", at: Self.t0.addingTimeInterval(12)))
        }
    }

    /// Acknowledgements are state: read back whole (the acknowledged firings to the
    /// millisecond), ended on request, pruned once long over.
    @Test(arguments: StoreUnderTest.all)
    func acknowledgementsAreAddedReadBackExpiredAndPruned(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            let started = Self.t0.addingTimeInterval(-600.123)
            let ack = Acknowledgement(
                id: "a1", alerts: ["0123456789abcdef": started], groupKey: #"{rule="offline"}"#, author: "alice",
                comment: "on it", createdAt: Self.t0, endsAt: Self.t0.addingTimeInterval(4 * 3600))
            try await store.addAcknowledgement(ack)
            let read = try await store.acknowledgements(includeExpired: false, at: Self.t0.addingTimeInterval(10))
            #expect(read.map(\.id) == ["a1"])
            #expect(read.first?.author == "alice" && read.first?.groupKey == ack.groupKey)
            let since = try #require(read.first?.alerts["0123456789abcdef"])
            #expect(abs(since.timeIntervalSince(started)) < 0.002)
            await #expect(try store.expireAcknowledgement("a1", at: Self.t0.addingTimeInterval(20)))
            await #expect(try store.acknowledgements(includeExpired: false, at: Self.t0.addingTimeInterval(21)).isEmpty)
            await #expect(try !store.expireAcknowledgement("a1", at: Self.t0.addingTimeInterval(22)))
            await #expect(try store.acknowledgements(includeExpired: true, at: Self.t0).count == 1)
            _ = try await store.pruneHistory(before: Self.t0.addingTimeInterval(30))
            await #expect(try store.acknowledgements(includeExpired: true, at: Self.t0).isEmpty)
        }
    }

    /// A store reopened (a restart) reads back exactly what was written.
    @Test(arguments: StoreUnderTest.all)
    func whatIsWrittenIsReadBackWhole(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            try await enqueue(store, [intent("n-1")])
            let entry = try await #require(try store.notifications(state: .pending, limit: 1).first)
            #expect(entry.intent == intent("n-1"))
            #expect(entry.attempts == 0 && entry.state == .pending)
        }
    }

    /// A poll through the core journals status changes; committing them writes a row per change.
    func poll(
        _ store: any StateStore, _ state: inout AlertState, workspace: String = "acme", _ devices: [Device],
        at seconds: Double
    ) async throws {
        let at = Self.t0.addingTimeInterval(seconds)
        let (result, _) = AlertCycle.run(
            &state, .poll(workspace: workspace, devices: devices, at: at),
            settings: AlertCycle.Settings(rules: RuleSet([]), defaults: RoutingDefaults()))
        try await store.commit(result.changes, at: at)
        state.endCycle()
    }

    static func device(_ id: String, _ status: DeviceStatus) -> Device {
        Device(id: id, name: id, status: status, lastHeartbeat: t0)
    }

    @Test(arguments: StoreUnderTest.all)
    func theStatusLogKeepsARowPerChangeAndIsReadByWindow(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            var state = AlertState()
            try await poll(store, &state, [Self.device("a", .online), Self.device("b", .online)], at: 0)
            try await poll(store, &state, [Self.device("a", .online), Self.device("b", .online)], at: 60)
            try await poll(store, &state, [Self.device("a", .offline), Self.device("b", .online)], at: 120)
            try await poll(store, &state, [Self.device("a", .online)], at: 180)
            try await poll(store, &state, workspace: "other", [Self.device("a", .unknown)], at: 180)
            let all = try await store.statusLog(StatusLogQuery())
            #expect(
                all.changes.map {
                    "\($0.workspace)/\($0.deviceID) \($0.statusText) +\(Int($0.at.timeIntervalSince(Self.t0)))"
                }
                    == [
                        "acme/a online +0", "acme/b online +0", "acme/a offline +120", "acme/a online +180",
                        "acme/b gone +180", "other/a unknown +180",
                    ])
            #expect(all.atStart.isEmpty)
            // A window: each device's status as it opens, then the changes within it.
            let window = try await store.statusLog(
                StatusLogQuery(workspace: "acme", since: Self.t0.addingTimeInterval(100)))
            #expect(window.atStart.map { "\($0.deviceID) \($0.statusText)" } == ["a online", "b online"])
            #expect(window.changes.map { "\($0.deviceID) \($0.statusText)" } == ["a offline", "a online", "b gone"])
            let one = try await store.statusLog(
                StatusLogQuery(workspace: "acme", deviceID: "a", until: Self.t0.addingTimeInterval(150)))
            #expect(one.changes.map(\.statusText) == ["online", "offline"])
            // Restarted, the store says each listed device's latest status: an unchanged poll writes nothing.
            var loaded = AlertState(book: try await store.load().book)
            #expect(loaded.book.statuses == ["acme": ["a": .online], "other": ["a": .unknown]])
            let (result, _) = AlertCycle.run(
                &loaded,
                .poll(workspace: "acme", devices: [Self.device("a", .online)], at: Self.t0.addingTimeInterval(240)),
                settings: AlertCycle.Settings(rules: RuleSet([]), defaults: RoutingDefaults()))
            #expect(result.changes.statusChanges.isEmpty)
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func pruningTheStatusLogKeepsEachDevicesStatusAtTheCutoff(_ subject: StoreUnderTest) async throws {
        try await subject.withStore { store in
            var state = AlertState()
            try await poll(store, &state, [Self.device("a", .online), Self.device("b", .online)], at: 0)
            try await poll(store, &state, [Self.device("a", .offline), Self.device("b", .online)], at: 100)
            try await poll(store, &state, [Self.device("a", .online)], at: 200)
            try await poll(store, &state, [Self.device("a", .offline)], at: 300)
            // Before +250: a's online of +0 and offline of +100 are superseded by +200's online; b's
            // rows end in gone. What stays: a's status at the cutoff, and what came after it; b's
            // facts go with its last row (4 status rows and 1 facts row).
            #expect(try await store.knownDevices(StatusLogQuery()).map(\.deviceID) == ["a", "b"])
            let pruned = try await store.pruneHistory(before: Self.t0.addingTimeInterval(250))
            #expect(pruned == 5)
            #expect(try await store.knownDevices(StatusLogQuery()).map(\.deviceID) == ["a"])
            let left = try await store.statusLog(StatusLogQuery())
            #expect(left.changes.map { "\($0.deviceID) \($0.statusText)" } == ["a online", "a offline"])
            let window = try await store.statusLog(StatusLogQuery(since: Self.t0.addingTimeInterval(250)))
            #expect(window.atStart.map { "\($0.deviceID) \($0.statusText)" } == ["a online"])
            #expect(try await store.pruneHistory(before: Self.t0.addingTimeInterval(250)) == 0)
            #expect(try await store.load().book.statuses == ["acme": ["a": .offline]])
        }
    }
}
