import CurlHTTP
import DeviceAPISimulator
import Foundation
import TestSupport
import Testing

/// `devicewatch run` on the PostgreSQL store: the real binary, the simulator, a recording sink
/// and the tests' throwaway PostgreSQL cluster.
@Suite("devicewatch run on PostgreSQL", .serialized)
struct WorkerPostgresTests {
    struct Setup {
        let url: String
        let sink: RecordingSink
        let simulator: SimulatorProcess
        let dir: Workdir
        var environment: [String: String] {
            ["ROBOFLOW_API_KEY": "ws-key-PGTEST", "HOOK_URL": sink.url, "DEVICEWATCH_DATABASE_URL": url]
        }
        var config: String { dir.file("devicewatch.json") }
        /// Stops the simulator and the sink (for a test's `defer`).
        func tearDown() {
            _ = simulator.stop()
            let sink = sink
            Task { await sink.stop() }
        }
        func firing() -> Int { sink.requests.filter { $0.json?["status"] as? String == "firing" }.count }
    }

    /// One camera offline for 20 minutes, a webhook, the state in a new PostgreSQL database.
    func setUp(leaseTTL: String = "30s") async throws -> Setup {
        let url = try await TestPostgres.shared.newDatabase()
        let sink = try await RecordingSink.start()
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key-PGTEST",
            devices:
                """
                {"id": "cam-1", "name": "line-3-cam", "tags": ["production"], "created_at": "-30d",
                 "online": [["-30d", "-20m"]]}
                """, timeScale: 1)
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL"}},
                "defaults": {"group_wait": "0s", "group_interval": "1s"},
                "state": {"postgres": {"url_env": "DEVICEWATCH_DATABASE_URL", "lease_ttl": "\(leaseTTL)"}},
                "server": {"listen": "127.0.0.1:0"}
                """),
            // The same worker on a SQLite file, to migrate from.
            "sqlite.json": simulator.workerConfig(
                """
                "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL"}},
                "defaults": {"group_wait": "0s", "group_interval": "1s"},
                "state": {"sqlite": "state.db"}, "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json": """
            {"rules": [{"id": "production-offline", "severity": "critical", "when": {"offline_for": "15m"},
              "notify": ["hook"]}]}
            """,
        ])
        return Setup(url: url, sink: sink, simulator: simulator, dir: dir)
    }

    @Test func aPageIsSentOnceAndARestartResumesFromTheDatabaseWithoutTheURLInAnyLog() async throws {
        let setup = try await setUp()
        defer { setup.tearDown() }
        let first = try WorkerProcess(config: setup.config, environment: setup.environment)
        #expect(await setup.sink.wait { _ in setup.firing() == 1 }, "\(first.log)")
        #expect(await first.waitForMorePolls(2), "\(first.log)")
        // /readyz names the database, this worker and what it holds, never with the password.
        let ops = try #require(await EndToEndTests().opsAddress(first), "\(first.log)")
        let ready = try await CurlHTTPClient().send(HTTPRequestSpec(url: ops + "/readyz"))
        let readyText = String(decoding: ready.body, as: UTF8.self)
        #expect(ready.status == 200, "\(readyText)")
        #expect(readyText.contains(#""worker" : ""#) && readyText.contains("postgres://127.0.0.1:"), "\(readyText)")
        #expect(readyText.contains(#""holds" : {"#) && readyText.contains(#""acme" : 1"#), "\(readyText)")
        #expect(!readyText.contains(TestPostgres.Server.password))
        #expect(await first.terminate() == 0)
        #expect(first.log.contains("gave the workspace leases up") && !first.log.contains("the state store failed"))
        // A new process reads the alert, its group and the sent notification back from the
        // database: more polls, and no second page.
        let second = try WorkerProcess(config: setup.config, environment: setup.environment)
        #expect(await second.waitForMorePolls(3), "\(second.log)")
        #expect(await second.terminate() == 0)
        #expect(setup.firing() == 1)
        // `state check` reads it all back, writes nothing, and says nobody holds it now.
        let check = try await CommandRunner.run(
            ["state", "check", "--config", setup.config], environment: setup.environment)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("ok") && check.stdout.contains("1 alerts (1 firing)"), "\(check.stdout)")
        #expect(check.stdout.contains("held by no worker"), "\(check.stdout)")
        for log in [first.log, second.log, check.stdout, check.stderr] {
            #expect(!log.contains(TestPostgres.Server.password))
            #expect(!log.contains(setup.url))
        }
    }

    @Test func stateCheckOnADatabaseNoWorkerHasUsedSaysSoAndCreatesNothing() async throws {
        let setup = try await setUp()
        defer { setup.tearDown() }
        for _ in 0..<2 {
            let check = try await CommandRunner.run(
                ["state", "check", "--config", setup.config], environment: setup.environment)
            #expect(check.status == 1)
            #expect(check.stderr.contains("no devicewatch schema yet"), "\(check.stderr)")
            #expect(!check.stderr.contains(TestPostgres.Server.password))
        }
    }

    /// From one worker on SQLite to PostgreSQL: `state migrate` copies it all, and the worker on
    /// the database carries on without paging again.
    @Test func aSQLiteStateMigratedToPostgreSQLCarriesOnWithoutRepaging() async throws {
        let setup = try await setUp()
        defer { setup.tearDown() }
        let onFile = try WorkerProcess(config: setup.dir.file("sqlite.json"), environment: setup.environment)
        #expect(await setup.sink.wait { _ in setup.firing() == 1 }, "\(onFile.log)")
        #expect(await onFile.waitForMorePolls(2), "\(onFile.log)")
        #expect(await onFile.terminate() == 0)

        let migrate = [
            "state", "migrate", "--from", setup.dir.file("state.db"), "--to-env", "DEVICEWATCH_DATABASE_URL",
        ]
        let copied = try await CommandRunner.run(migrate, environment: setup.environment)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(
            copied.stdout.contains("copied 1 alerts") && copied.stdout.contains("1 notifications")
                && copied.stdout.contains("1 device status changes"), "\(copied.stdout)")
        // Twice would mix two histories: refused.
        let again = try await CommandRunner.run(migrate, environment: setup.environment)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds devicewatch state"), "\(again.stderr)")
        for output in [copied.stdout, copied.stderr, again.stderr] {
            #expect(!output.contains(TestPostgres.Server.password))
        }

        let onDatabase = try WorkerProcess(config: setup.config, environment: setup.environment)
        #expect(await onDatabase.waitForMorePolls(3), "\(onDatabase.log)")
        #expect(await onDatabase.terminate() == 0)
        #expect(setup.firing() == 1)
    }
}
