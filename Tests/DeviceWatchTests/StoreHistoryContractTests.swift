import DeviceWatch
import DeviceWatchCore
import Foundation
import Testing

/// The history besides the status log, on every store: device facts, coverage, alert episodes.
extension StoreContractTests {
    func judge(
        _ store: any StateStore, _ state: inout AlertState, _ devices: [Device], at seconds: Double,
        rules: RuleSet = RuleSet([]), pollEvery: Duration = .seconds(60)
    ) async throws -> StateChanges {
        let at = Self.t0.addingTimeInterval(seconds)
        let (result, _) = AlertCycle.run(
            &state, .poll(workspace: "acme", devices: devices, at: at),
            settings: AlertCycle.Settings(
                rules: rules, defaults: RoutingDefaults(), pollEvery: ["acme": pollEvery]))
        try await store.commit(result.changes, at: at)
        state.endCycle()
        return result.changes
    }

    @Test(arguments: StoreUnderTest.all)
    func deviceFactsAreWrittenWhenTheyChangeAndOutliveTheDevice(_ subject: StoreUnderTest) async throws {
        let (store, cleanUp) = try await subject.make()
        defer { cleanUp() }
        var state = AlertState()
        let cam = Device(id: "cam", name: "cam 1", status: .online, platform: "linux", type: "jetson", tags: ["site-a"])
        let first = try await judge(store, &state, [cam], at: 0)
        #expect(first.upsertFacts.map(\.deviceID) == ["cam"])
        // The same facts again (another status) write no facts row.
        var offline = cam
        offline.status = .offline
        #expect(try await judge(store, &state, [offline], at: 30).upsertFacts.isEmpty)
        var moved = offline
        moved.tags = ["site-b", "production"]
        #expect(try await judge(store, &state, [moved], at: 45).upsertFacts.map(\.tags) == [["site-b", "production"]])
        // Restarted, the store's facts are what the next poll compares with.
        var loaded = AlertState(book: try await store.load().book)
        #expect(try await judge(store, &loaded, [moved], at: 50).upsertFacts.isEmpty)
        // Gone from the list, the device is still named and grouped for past windows.
        _ = try await judge(store, &loaded, [], at: 55)
        #expect(
            try await store.knownDevices(StatusLogQuery(workspace: "acme"))
                == [
                    KnownDevice(
                        workspace: "acme", deviceID: "cam", name: "cam 1", type: "jetson", platform: "linux",
                        tags: ["site-b", "production"])
                ])
        #expect(try await store.knownDevices(StatusLogQuery(workspace: "other")).isEmpty)
    }

    @Test(arguments: StoreUnderTest.all)
    func coverageGoesOnAcrossPollsAndARestartAndAGapStartsAnewSpan(_ subject: StoreUnderTest) async throws {
        let (store, cleanUp) = try await subject.make()
        defer { cleanUp() }
        var state = AlertState()
        let cam = [Self.device("cam", .online)]
        for second in stride(from: 0.0, through: 600, by: 30) { _ = try await judge(store, &state, cam, at: second) }
        // Restarted 2 minutes later (within the 3-minute gap of a 60 s poll): the same span goes on.
        var restarted = AlertState(book: try await store.load().book)
        _ = try await judge(store, &restarted, cam, at: 720)
        // Down for 10 minutes: a new span, and between them a blind spot.
        _ = try await judge(store, &restarted, cam, at: 1_320)
        _ = try await judge(store, &restarted, cam, at: 1_400)
        let spans = try await store.coverage(StatusLogQuery(workspace: "acme"))
        #expect(
            spans == [
                CoverageSpan(workspace: "acme", start: Self.t0, end: Self.t0 + 720),
                CoverageSpan(workspace: "acme", start: Self.t0 + 1_320, end: Self.t0 + 1_400),
            ])
        let window = DateInterval(start: Self.t0, end: Self.t0 + 1_400)
        #expect(
            Coverage.blindSpots(spans: spans, window: window)
                == [DateInterval(start: Self.t0 + 720, end: Self.t0 + 1_320)])
        // A window after the first span reads only the second.
        #expect(try await store.coverage(StatusLogQuery(since: Self.t0 + 1_000)).count == 1)
        #expect(try await store.load().book.coverage["acme"]?.start == Self.t0 + 1_320)
        // Pruning before +1,000 drops the first span.
        #expect(try await store.pruneHistory(before: Self.t0 + 1_000) >= 1)
        #expect(try await store.coverage(StatusLogQuery()).map(\.start) == [Self.t0 + 1_320])
    }

    @Test(arguments: StoreUnderTest.all)
    func anAlertThatFiresAndResolvesIsOneEpisodeThatOutlivesTheAlert(_ subject: StoreUnderTest) async throws {
        let (store, cleanUp) = try await subject.make()
        defer { cleanUp() }
        let rules = RuleSet([Rule(id: "down", condition: .status(["offline"]), notify: ["chat"])])
        var state = AlertState()
        _ = try await judge(
            store, &state, [Self.device("a", .offline), Self.device("b", .online)], at: 0, rules: rules)
        #expect(try await store.alertHistory(AlertHistoryQuery()).map(\.key.deviceID) == ["a"])
        _ = try await judge(
            store, &state, [Self.device("a", .online), Self.device("b", .offline)], at: 600, rules: rules)
        _ = try await judge(
            store, &state, [Self.device("a", .offline), Self.device("b", .offline)], at: 900, rules: rules)
        let all = try await store.alertHistory(AlertHistoryQuery())
        // Newest first: a's second time, b's, a's first (resolved after 10 minutes).
        #expect(
            all.map { "\($0.key.deviceID)@\(Int($0.firedAt.timeIntervalSince(Self.t0)))" } == ["a@900", "b@600", "a@0"])
        let first = try #require(all.last)
        #expect(first.resolvedAt == Self.t0 + 600)
        #expect(first.resolveReason == .recovered)
        #expect(first.subject == "a")
        #expect(first.duration(at: Self.t0 + 10_000) == 600)
        #expect(all[0].resolvedAt == nil)
        // Filters: resolved only, by device, by window (a's first ended before +700).
        #expect(try await store.alertHistory(AlertHistoryQuery(resolved: true)).count == 1)
        #expect(try await store.alertHistory(AlertHistoryQuery(resolved: false)).count == 2)
        #expect(try await store.alertHistory(AlertHistoryQuery(deviceID: "b")).count == 1)
        #expect(try await store.alertHistory(AlertHistoryQuery(ruleID: "other")).isEmpty)
        #expect(try await store.alertHistory(AlertHistoryQuery(since: Self.t0 + 700)).count == 2)
        #expect(try await store.alertHistory(AlertHistoryQuery(until: Self.t0 + 700)).count == 2)
        #expect(try await store.alertHistory(AlertHistoryQuery(limit: 1)).count == 1)
        // Pruned once resolved before the cutoff; firing ones stay.
        _ = try await store.pruneHistory(before: Self.t0 + 700)
        #expect(try await store.alertHistory(AlertHistoryQuery()).count == 2)
    }

    @Test(arguments: StoreUnderTest.all)
    func theStatusLogCanBeReadInDeviceOrderForReports(_ subject: StoreUnderTest) async throws {
        let (store, cleanUp) = try await subject.make()
        defer { cleanUp() }
        var state = AlertState()
        _ = try await judge(store, &state, [Self.device("b", .online), Self.device("a", .online)], at: 0)
        _ = try await judge(store, &state, [Self.device("b", .offline), Self.device("a", .offline)], at: 60)
        _ = try await judge(store, &state, [Self.device("b", .online), Self.device("a", .online)], at: 120)
        func rows(_ byDevice: Bool) async throws -> [String] {
            try await store.statusLog(StatusLogQuery(since: Self.t0 + 30, byDevice: byDevice)).changes.map {
                "\($0.deviceID) \($0.statusText)"
            }
        }
        #expect(try await rows(false) == ["a offline", "b offline", "a online", "b online"])
        #expect(try await rows(true) == ["a offline", "a online", "b offline", "b online"])
    }
}
