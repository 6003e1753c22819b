import DeviceWatchCore
import Foundation
import Testing

@testable import DeviceWatch

/// Silences are on the engine's clock (the API's), whatever the host's clock says.
@Suite("Silences on the engine's clock", .serialized)
struct SilenceClockTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-silence-clock-\(UUID().uuidString).db")
        .path

    func camera(offline: Bool, at now: Date) -> [Device] {
        [
            Device(
                id: "cam-1", name: "gate cam", status: offline ? .offline : .online,
                lastHeartbeat: now.addingTimeInterval(offline ? -3600 : -10), tags: ["production"])
        ]
    }

    /// The API's clock 3 days behind the host's, then 2 hours ahead: a silence added "for 24h" the
    /// way `silence add` adds it (the clock read from the store) mutes at once and ends 24 hours
    /// later as the engine sees it.
    @Test(arguments: [-3 * 86_400.0, 2 * 3600.0])
    func aSilenceForADayMutesAtOnceAndEndsADayLaterAsTheEngineSeesIt(skew: Double) async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(0)
        let rules = RuleSet([Rule(id: "offline", condition: .offlineFor(.seconds(600)), notify: ["chat"])])
        let engine = await Engine(
            rules: rules, defaults: RoutingDefaults(defaults), staleAfter: .seconds(300), state: try store.load(),
            store: store)
        let start = Date().addingTimeInterval(skew)
        await engine.pollSucceeded(workspace: "acme", devices: camera(offline: false, at: start), apiDate: start)

        // The worker wrote where the API's clock stands; the CLI reads it and places the silence.
        let clock = await EngineClock(try store.clockOffsets())
        #expect(abs(clock.now(local: Date()).timeIntervalSince(start)) < 60)
        let request = Silence.Request(
            matchers: ["rule=offline"], duration: "24h", comment: "maintenance", author: "test")
        let silence = try request.silence(id: "s1", now: clock.now(local: Date(), for: [])).get()
        try await store.addSilence(silence)

        // The camera drops: muted at once.
        await engine.pollSucceeded(
            workspace: "acme", devices: camera(offline: true, at: start + 60), apiDate: start + 60)
        #expect(await engine.alerts.map(\.state) == [.firing])
        await #expect(try store.notifications(state: nil, limit: 10).isEmpty)
        // Still muted a minute before the day is up, on the API's clock.
        let almost = start + 86_400 - 60
        await engine.pollSucceeded(workspace: "acme", devices: camera(offline: true, at: almost), apiDate: almost)
        await #expect(try store.notifications(state: nil, limit: 10).isEmpty)
        // And the page goes once the day has passed.
        let after = start + 86_400 + 120
        await engine.pollSucceeded(workspace: "acme", devices: camera(offline: true, at: after), apiDate: after)
        let sent = try await store.notifications(state: nil, limit: 10)
        #expect(sent.count == 1)
        #expect(sent.first?.intent.firing.map(\.key.deviceID) == ["cam-1"])
    }

    /// The offset is written when it moves, not with every poll: a quiet cycle still writes nothing.
    @Test func theClockOffsetIsStoredWhenItMovesAndRestoredAtStart() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        let rules = RuleSet([Rule(id: "offline", condition: .offlineFor(.seconds(600)), notify: ["chat"])])
        let engine = await Engine(
            rules: rules, defaults: RoutingDefaults(.init()), staleAfter: .seconds(300), state: try store.load(),
            store: store)
        let skew = -86_400.0
        await engine.pollSucceeded(
            workspace: "acme", devices: camera(offline: false, at: Date() + skew), apiDate: Date() + skew)
        let first = try await #require(try store.clockOffsets().first)
        #expect(abs(first.offset.timeInterval - skew) < 5)
        await engine.pollSucceeded(
            workspace: "acme", devices: camera(offline: false, at: Date() + skew), apiDate: Date() + skew)
        await #expect(try store.clockOffsets() == [first])  // within the tolerance: not rewritten
        await engine.pollSucceeded(
            workspace: "acme", devices: camera(offline: false, at: Date() + skew + 30), apiDate: Date() + skew + 30)
        await #expect(abs((try store.clockOffsets().first?.offset.timeInterval ?? 0) - (skew + 30)) < 5)

        // A restarted engine is on the API's clock before its first poll.
        let restarted = await Engine(
            rules: rules, defaults: RoutingDefaults(.init()), staleAfter: .seconds(300), state: try store.load(),
            store: store)
        #expect(abs(await restarted.now.timeIntervalSince(Date() + skew + 30)) < 5)
    }
}
