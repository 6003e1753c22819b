import DeviceAPISimulator
import Foundation
import Testing

/// The dead-man's switch against a recording sink: requested while polls succeed, quiet once
/// they stop, its URL never logged.
@Suite("devicewatch run: heartbeat", .serialized)
struct HeartbeatTests {
    @Test func theHeartbeatGoesWhilePollsSucceedAndStopsWhenTheyFail() async throws {
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key-HB",
            devices:
                """
                {"id": "cam-1", "name": "gate", "created_at": "-30d", "online": [["-30d", null]]}
                """, timeScale: 1)
        defer { _ = simulator.stop() }
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {"log": {"type": "console"}},
                "heartbeat": {"url_env": "HEARTBEAT_URL", "every": "1s"},
                "state": {"sqlite": "state.db"}, "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json": #"{"rules": [{"id": "offline", "when": {"offline_for": "15m"}, "notify": ["log"]}]}"#,
        ])
        let url = sink.url + "/ping/hb-SECRET-7f3a"
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: ["ROBOFLOW_API_KEY": "ws-key-HB", "HEARTBEAT_URL": url])
        func pings() -> Int { sink.requests.filter { $0.path.hasSuffix("/ping/hb-SECRET-7f3a") }.count }
        // Polls succeed: a ping at once, then about one a second.
        #expect(await sink.wait { _ in pings() >= 3 }, "\(worker.log)")
        #expect(sink.requests.allSatisfy { $0.method == "GET" })

        // The API goes away: once the worker has seen its polls fail, the pings stop.
        _ = simulator.stop()
        #expect(await waitFor(seconds: 15) { worker.log.components(separatedBy: "poll failed").count > 3 })
        let afterFailures = pings()
        let failures = worker.log.components(separatedBy: "poll failed").count
        let since = Date()
        // More failed polls (they back off) and three heartbeat periods: time for pings, had any been due.
        #expect(
            await waitFor(seconds: 40) {
                worker.log.components(separatedBy: "poll failed").count > failures
                    && Date().timeIntervalSince(since) > 3
            })
        // At most one already on its way when the last good poll was in.
        #expect(pings() <= afterFailures + 1)
        #expect(await worker.terminate() == 0)
        #expect(!worker.log.contains("hb-SECRET-7f3a"))
    }
}
