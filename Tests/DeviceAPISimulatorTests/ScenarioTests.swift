import DeviceAPISimulator
import DeviceWatchCore
import Foundation
import Testing

@Suite("Scenario")
struct ScenarioTests {
    let now = Timestamp.parse("2026-11-28T12:00:00Z")!

    func parse(_ json: String) throws -> Scenario {
        try Scenario.parse(Data(json.utf8), source: "s.json", now: now)
    }

    @Test(arguments: [
        (
            #"{"workspaces": {"a": {"devices": [{"id": "x", "onlin": []}]}}}"#,
            "s.json: workspaces.a.devices[0].onlin: unknown key \"onlin\""
        ),
        (
            #"{"workspaces": {"a": {"devices": [{"id": "x", "online": [["-1h"]]}]}}}"#,
            "workspaces.a.devices[0].online[0]: expected [from, until]"
        ),
        (
            #"{"workspaces": {"a": {"devices": [{"id": "x", "created_at": "last week"}]}}}"#,
            "workspaces.a.devices[0].created_at: expected a time"
        ),
        (#"{"workspaces": {"a": {"devices": [{"name": "x"}]}}}"#, "workspaces.a.devices[0]: a device needs an \"id\""),
        (
            #"{"workspaces": {"a": {"devices": [{"id": "x"}, {"id": "x"}]}}}"#,
            "workspaces.a.devices[1]: duplicate device id"
        ),
        (#"{"workspaces": {"a": {"api_keys": [{"scopes": []}]}}}"#, "workspaces.a.api_keys[0]: an API key needs"),
        (
            #"{"workspaces": {"a": {"generate": {"count": -1}}}}"#,
            "workspaces.a.generate.count: expected a whole number"
        ),
        (#"{"workspaces": {}, "faults": {"error_rate": 1.5}}"#, "faults.error_rate: expected a fraction"),
        (#"{"workspaces": {}, "faults": {"latency": 5}}"#, "faults.latency: expected a string"),
        (#"{"workspace": {}}"#, "unknown key \"workspace\""),
        (
            #"{"workspaces": {"a": {"devices": [{"id": "x", "heartbeat_every": "0s"}]}}}"#,
            "heartbeat_every: must be longer than 0s"
        ),
        (#"{"workspaces": "#, "s.json: not valid JSON"),
    ])
    func errorsNameTheFileAndJSONPath(json: String, expected: String) {
        #expect {
            _ = try parse(json)
        } throws: { error in
            let text = String(describing: error)
            let matches = text.contains(expected)
            if !matches { Issue.record("got: \(text)") }
            return matches
        }
    }

    @Test func relativeAndAbsoluteTimesResolveAgainstStart() throws {
        let scenario = try parse(
            """
            {"start": "2026-11-28T12:00:00Z", "workspaces": {"a": {"devices": [
              {"id": "x", "created_at": "-30d", "online": [["2026-11-01T00:00:00Z", "+10m"], ["+1h", null]]}]}}}
            """)
        let device = try #require(scenario.workspaces["a"]?.devices.first)
        #expect(device.createdAt == now.addingTimeInterval(-30 * 86_400))
        #expect(
            device.online == [
                .init(from: Timestamp.parse("2026-11-01T00:00:00Z")!, until: now.addingTimeInterval(600)),
                .init(from: now.addingTimeInterval(3600), until: nil),
            ])
    }

    @Test func missingStartMeansNow() throws {
        let scenario = try parse(#"{"workspaces": {"a": {"devices": [{"id": "x", "created_at": "-1h"}]}}}"#)
        #expect(scenario.start == nil)
        #expect(scenario.workspaces["a"]?.devices.first?.createdAt == now.addingTimeInterval(-3600))
    }

    @Test func generatedFleetIsDeterministicAndShapedAsAsked() throws {
        let json = """
            {"workspaces": {"a": {"generate": {"count": 2000, "prefix": "gen", "tag_sets": [["production", "site-a"], ["staging"]],
              "offline_fraction": 0.1, "unknown_fraction": 0.05, "rfdm_versions": ["1.2.3", "1.4.0"]}}}}
            """
        let first = try Scenario.parse(Data(json.utf8), source: "s", now: now, seed: 7)
        let second = try Scenario.parse(Data(json.utf8), source: "s", now: now, seed: 7)
        let other = try Scenario.parse(Data(json.utf8), source: "s", now: now, seed: 8)
        let devices = try #require(first.workspaces["a"]?.devices)
        #expect(devices == second.workspaces["a"]?.devices)
        #expect(devices != other.workspaces["a"]?.devices)
        #expect(devices.count == 2000)
        #expect(devices.first?.id == "gen-00001")
        #expect(devices[1].tags == ["staging"])
        let statuses = devices.map { $0.snapshot(at: now).status }
        let offline = statuses.filter { $0 == .offline }.count
        let unknown = statuses.filter { $0 == .unknown }.count
        #expect((140...260).contains(offline), "offline: \(offline)")
        #expect((60...140).contains(unknown), "unknown: \(unknown)")
        #expect(Set(devices.compactMap(\.rfdmVersion)) == ["1.2.3", "1.4.0"])
    }
}

@Suite("SimulatedDevice")
struct SimulatedDeviceTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test func lastHeartbeatIsTheLatestTickAtOrBeforeNow() {
        let device = SimulatedDevice(id: "d", heartbeatEvery: 30, online: [.init(from: t0, until: nil)])
        #expect(device.lastHeartbeat(at: t0.addingTimeInterval(-1)) == nil)
        #expect(device.lastHeartbeat(at: t0) == t0)
        #expect(device.lastHeartbeat(at: t0.addingTimeInterval(29.9)) == t0)
        #expect(device.lastHeartbeat(at: t0.addingTimeInterval(30)) == t0.addingTimeInterval(30))
    }

    @Test func intervalsAreHalfOpen() {
        // [t0, t0+60): ticks at 0 and 30; not at 60.
        let device = SimulatedDevice(
            id: "d", heartbeatEvery: 30, online: [.init(from: t0, until: t0.addingTimeInterval(60))])
        #expect(device.lastHeartbeat(at: t0.addingTimeInterval(3600)) == t0.addingTimeInterval(30))
        // [t0, t0+61): ticks at 0, 30 and 60.
        let longer = SimulatedDevice(
            id: "d", heartbeatEvery: 30, online: [.init(from: t0, until: t0.addingTimeInterval(61))])
        #expect(longer.lastHeartbeat(at: t0.addingTimeInterval(3600)) == t0.addingTimeInterval(60))
    }

    @Test func statusFollowsTheFiveMinuteWindow() {
        let device = SimulatedDevice(
            id: "d", heartbeatEvery: 30, online: [.init(from: t0, until: t0.addingTimeInterval(1))])
        #expect(device.snapshot(at: t0.addingTimeInterval(299)).status == .online)
        #expect(device.snapshot(at: t0.addingTimeInterval(300)).status == .offline)
        #expect(SimulatedDevice(id: "n").snapshot(at: t0).status == .unknown)
    }

    @Test func extraHeartbeatsCountOnlyOnceTheyHappened() {
        let device = SimulatedDevice(id: "d", extraHeartbeats: [t0.addingTimeInterval(100)])
        #expect(device.lastHeartbeat(at: t0) == nil)
        #expect(device.lastHeartbeat(at: t0.addingTimeInterval(100)) == t0.addingTimeInterval(100))
    }
}
