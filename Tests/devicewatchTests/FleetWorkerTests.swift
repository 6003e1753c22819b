import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

/// A site outage through the real worker: the simulator's twenty cameras of one site drop, and
/// PagerDuty (a recording sink) hears one page for the site, not twenty, then its resolve.
@Suite("devicewatch run: fleet rules", .serialized)
struct FleetWorkerTests {
    static let rules = """
        {"rules": [
          {"id": "site-down", "severity": "critical", "summary": "{{group.key}}: {{group.matching}} of {{group.total}} cameras offline",
           "where": {"tags": {"all_of": ["production"]}},
           "fleet": {"group_by": ["tag:site-*"], "min_devices": 3, "when": {"fraction_at_least": 0.5, "of": {"offline_for": "5m"}}},
           "inhibits": ["production-offline"], "notify": ["pagerduty-oncall"]},
          {"id": "production-offline", "severity": "critical", "where": {"tags": {"all_of": ["production"]}},
           "when": {"offline_for": "15m"}, "notify": ["pagerduty-oncall"]}]}
        """

    /// A worker polling `count` production cameras (all dropping at +1m, back at +40m) every
    /// second, paging a recording PagerDuty sink with `receiver` options, under `rules`.
    /// Stopped when the test lets go of it, even when it fails half way.
    final class Rig {
        let sink: RecordingSink
        let simulator: SimulatorProcess
        let dir: Workdir
        let worker: WorkerProcess
        let http = CurlHTTPClient()

        init(sink: RecordingSink, simulator: SimulatorProcess, dir: Workdir, worker: WorkerProcess) {
            self.sink = sink
            self.simulator = simulator
            self.dir = dir
            self.worker = worker
        }

        deinit {
            http.shutdown()
            _ = simulator.stop()
            let sink = sink
            Task { await sink.stop() }
        }

        func advance(_ by: String) async throws { #expect(try await simulator.advance(by, http: http) == 200) }

        func events(_ action: String) -> [[String: Any]] {
            sink.requests.compactMap(\.json).filter { $0["event_action"] as? String == action }
        }

        /// The cameras come back (at +40m): one resolve, for the one trigger sent, and the worker
        /// stops cleanly.
        func expectOneResolve(of triggers: [[String: Any]]) async throws {
            try await advance("25m")
            #expect(await sink.wait { _ in !self.events("resolve").isEmpty }, "\(worker.log)")
            #expect(await worker.waitForMorePolls(3), "\(worker.log)")
            #expect(events("resolve").count == 1 && events("trigger").count == 1)
            #expect(events("resolve").first?["dedup_key"] as? String == triggers.first?["dedup_key"] as? String)
            #expect(await worker.terminate() == 0)
        }

    }

    static func rig(cameras count: Int, name: String, tags: [String], key: String, receiver: String = "", rules: String)
        async throws -> Rig
    {
        let sink = try await RecordingSink.start()
        let tagList = tags.map { "\"\($0)\"" }.joined(separator: ", ")
        let cameras = (1...count).map { index in
            #"{"id": "cam-\#(index)", "name": "\#(name) \#(index)", "tags": [\#(tagList)], "rfdm_version": "1.4.0", "#
                + #""created_at": "-30d", "online": [["-30d", "+1m"], ["+40m", null]]}"#
        }
        let simulator = try SimulatorProcess(acmeKey: key, devices: cameras.joined(separator: ","), timeScale: 1)
        let base = sink.server.baseURL
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {"pagerduty-oncall": {"type": "pagerduty", "routing_key_env": "PD_KEY", "url": "\(base)/pagerduty"\(receiver)}},
                "defaults": {"group_wait": "0s", "group_interval": "1s"}, "state": {"sqlite": "state.db"},
                "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json": rules,
        ])
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: ["ROBOFLOW_API_KEY": key, "PD_KEY": "pd-KEY-1"])
        return Rig(sink: sink, simulator: simulator, dir: dir, worker: worker)
    }

    @Test func aSiteOutageIsOnePageForTheSiteNotTwentyAndItsRecoveryOneResolve() async throws {
        let rig = try await Self.rig(
            cameras: 20, name: "site-b cam", tags: ["production", "site-b"], key: "ws-key-FLEET", rules: Self.rules)
        let worker = rig.worker
        #expect(await worker.waitForMorePolls(2), "\(worker.log)")
        // The whole site drops; 20 minutes on, both the site rule and the cameras' own rule hold.
        try await rig.advance("20m")
        #expect(await rig.sink.wait { _ in !rig.events("trigger").isEmpty }, "\(worker.log)")
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")  // polls go on: nothing more is sent
        let triggers = rig.events("trigger")
        #expect(triggers.count == 1, "\(triggers)")
        let payload = try #require(triggers.first?["payload"] as? [String: Any])
        #expect(payload["summary"] as? String == "site-b: 20 of 20 cameras offline")
        let details = try #require(payload["custom_details"] as? [String: Any])
        #expect(details["group"] as? String == "site-b" && details["devices"] as? String == "20 of 20 (100%)")
        #expect(
            (details["members"] as? String)?.hasPrefix("site-b cam 1 (cam-1) offline; site-b cam 10 (cam-10)") == true)

        // The cameras come back: one resolve, for the site, and still no camera paged.
        try await rig.expectOneResolve(of: triggers)
    }

    /// PagerDuty `per_group` through the worker: 50 cameras drop without a fleet rule, and their
    /// 50 alerts of one group are one trigger (not 50 events), then one resolve.
    @Test func aPerGroupPagerDutyReceiverSendsOneEventForFiftyCamerasAndOneResolve() async throws {
        let rig = try await Self.rig(
            cameras: 50, name: "dock cam", tags: ["production"], key: "ws-key-GROUP",
            receiver: #", "mode": "per_group""#,
            rules: """
                {"rules": [{"id": "production-offline", "severity": "critical", "where": {"tags": {"all_of": ["production"]}},
                  "when": {"offline_for": "15m"}, "notify": ["pagerduty-oncall"]}]}
                """)
        let worker = rig.worker
        #expect(await worker.waitForMorePolls(2), "\(worker.log)")
        try await rig.advance("20m")
        #expect(await rig.sink.wait { _ in !rig.events("trigger").isEmpty }, "\(worker.log)")
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")
        let triggers = rig.events("trigger")
        #expect(triggers.count == 1, "\(triggers.count) triggers")
        let payload = try #require(triggers.first?["payload"] as? [String: Any])
        #expect((payload["summary"] as? String)?.hasPrefix("production-offline: 50 firing (dock cam 1, ") == true)
        try await rig.expectOneResolve(of: triggers)
    }
}
