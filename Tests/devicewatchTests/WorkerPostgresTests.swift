import DeviceAPISimulator
import Foundation
import PostgresTestSupport
import Testing

/// `devicewatch run` on the PostgreSQL store: the real binary, the simulator, a recording sink
/// and the tests' throwaway PostgreSQL cluster.
@Suite("devicewatch run on PostgreSQL", .serialized)
struct WorkerPostgresTests {
    @Test func aPageIsSentOnceAndARestartResumesFromTheDatabaseWithoutTheURLInAnyLog() async throws {
        let url = try await TestPostgres.shared.newDatabase()
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let scenario = try writeScenario(
            """
            {"start": "2026-11-28T12:00:00Z", "workspaces": {"acme": {"api_keys": [{"key": "ws-key-PGTEST"}], "devices": [
              {"id": "cam-1", "name": "line-3-cam", "tags": ["production"], "created_at": "-30d",
               "online": [["-30d", "-20m"]]}]}}}
            """)
        let simulator = try SimulatorProcess(scenario: scenario, timeScale: 1)
        defer { _ = simulator.stop() }
        let dir = try Workdir([
            "devicewatch.json": """
            {"api": {"base_url": "\(simulator.baseURL)"}, "workspaces": [{"id": "acme", "poll_every": "1s"}],
             "rule_files": ["rules.json"], "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL"}},
             "defaults": {"group_wait": "0s", "group_interval": "1s"},
             "state": {"postgres": {"url_env": "DEVICEWATCH_DATABASE_URL"}}, "server": {"listen": "127.0.0.1:0"}}
            """,
            "rules.json": """
            {"rules": [{"id": "production-offline", "severity": "critical", "when": {"offline_for": "15m"},
              "notify": ["hook"]}]}
            """,
        ])
        let environment = ["ROBOFLOW_API_KEY": "ws-key-PGTEST", "HOOK_URL": sink.url, "DEVICEWATCH_DATABASE_URL": url]
        func firing() -> Int { sink.requests.filter { $0.json?["status"] as? String == "firing" }.count }

        let first = try WorkerProcess(config: dir.file("devicewatch.json"), environment: environment)
        #expect(await sink.wait { _ in firing() == 1 }, "\(first.log)")
        #expect(await first.waitForMorePolls(2), "\(first.log)")
        #expect(await first.terminate() == 0)
        // A new process reads the alert, its group and the sent notification back from the
        // database: more polls, and no second page.
        let second = try WorkerProcess(config: dir.file("devicewatch.json"), environment: environment)
        #expect(await second.waitForMorePolls(3), "\(second.log)")
        #expect(await second.terminate() == 0)
        #expect(firing() == 1)
        for log in [first.log, second.log] {
            #expect(!log.contains(TestPostgres.Server.password))
            #expect(!log.contains(url))
        }
    }
}
