import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

/// Roboflow API keys belong to one workspace: each workspace is polled with its own key, and a
/// wrong key for one makes only that one blind. Real processes over loopback.
@Suite("Per-workspace API keys", .serialized)
struct WorkspaceKeyTests {
    static let scenario = """
        {"start": "2026-11-28T12:00:00Z", "workspaces": {
          "acme": {"api_keys": [{"key": "acme-key-TOPSECRET"}], "devices": [
            {"id": "cam-1", "created_at": "-30d", "online": [["-30d", null]]}]},
          "beta": {"api_keys": [{"key": "beta-key-TOPSECRET"}], "devices": [
            {"id": "cam-a", "created_at": "-30d", "online": [["-30d", null]]},
            {"id": "cam-b", "created_at": "-30d", "online": [["-30d", null]]}]}}}
        """

    func readiness(_ worker: WorkerProcess, http: CurlHTTPClient) async throws -> [String: [String: Any]] {
        let ops = try #require(await EndToEndTests().opsAddress(worker), "\(worker.log)")
        var workspaces: [String: [String: Any]] = [:]
        // Until both workspaces were polled at least once (a success or a failure on record).
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let body = (try? await http.send(HTTPRequestSpec(url: ops + "/readyz")))?.body ?? Data()
            workspaces =
                ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["workspaces"]
                as? [String: [String: Any]] ?? [:]
            if ["acme", "beta"].allSatisfy({
                workspaces[$0]?["last_success"] != nil || workspaces[$0]?["failure"] != nil
            }) {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return workspaces
    }

    func config(_ simulator: SimulatorProcess) throws -> Workdir {
        try Workdir([
            "devicewatch.json": """
            {"api": {"base_url": "\(simulator.baseURL)"},
             "workspaces": [{"id": "acme", "poll_every": "1s", "api_key_env": "ACME_KEY"},
                            {"id": "beta", "poll_every": "1s", "api_key_file": "beta.key"}],
             "rule_files": ["rules.json"], "receivers": {"console": {"type": "console"}},
             "state": {"sqlite": "state.db"}, "server": {"listen": "127.0.0.1:0"}}
            """,
            "rules.json": #"{"rules": [{"id": "offline", "when": {"offline_for": "15m"}, "notify": ["console"]}]}"#,
        ])
    }

    @Test func eachWorkspaceIsPolledWithItsOwnKeyAndAWrongOneBlindsOnlyIt() async throws {
        let simulator = try SimulatorProcess(json: Self.scenario, timeScale: 1)
        defer { _ = simulator.stop() }
        let http = CurlHTTPClient()
        defer { http.shutdown() }

        // Both keys right: both workspaces seen, each with its devices.
        let dir = try config(simulator)
        try "beta-key-TOPSECRET\n".write(toFile: dir.file("beta.key"), atomically: true, encoding: .utf8)
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: ["ACME_KEY": "acme-key-TOPSECRET"])
        let both = try await readiness(worker, http: http)
        #expect((both["acme"]?["devices"] as? [String: Any])?["online"] as? Int == 1, "\(both)")
        #expect((both["beta"]?["devices"] as? [String: Any])?["online"] as? Int == 2, "\(both)")
        #expect(both["beta"]?["blind"] as? Bool == false)
        #expect(await worker.terminate() == 0)

        // A wrong key for beta: beta is blind at once (401), acme carries on.
        let wrong = try config(simulator)
        try "not-the-key-TOPSECRET\n".write(toFile: wrong.file("beta.key"), atomically: true, encoding: .utf8)
        let second = try WorkerProcess(
            config: wrong.file("devicewatch.json"), environment: ["ACME_KEY": "acme-key-TOPSECRET"])
        let one = try await readiness(second, http: http)
        #expect(one["acme"]?["blind"] as? Bool == false, "\(one)")
        #expect((one["acme"]?["devices"] as? [String: Any])?["online"] as? Int == 1)
        #expect(one["beta"]?["blind"] as? Bool == true, "\(one)")
        #expect((one["beta"]?["failure"] as? String)?.contains("401") == true)
        // With what the service itself said about it.
        #expect((one["beta"]?["failure"] as? String)?.contains(#"the API said: "invalid API key""#) == true, "\(one)")
        #expect(await second.terminate() == 0)
        #expect(!(worker.log + second.log).contains("TOPSECRET"))
    }

    @Test func aWorkspaceWhoseKeyCannotBeReadIsNamedByCheckAndRun() async throws {
        let simulator = try SimulatorProcess(json: Self.scenario, timeScale: 1)
        defer { _ = simulator.stop() }
        let dir = try config(simulator)
        // No beta.key file, no ACME_KEY.
        let check = try await CommandRunner.run(["check", "--config", dir.file("devicewatch.json")])
        #expect(check.status == 0)
        #expect(
            check.stdout.contains(
                #"warning: the API key of workspace "acme" cannot be read from the environment variable ACME_KEY"#),
            "\(check.stdout)")
        #expect(check.stdout.contains(#"workspace "beta" cannot be read from the file"#), "\(check.stdout)")
        let run = try await CommandRunner.run(["run", "--config", dir.file("devicewatch.json")])
        #expect(run.status == 1)
        #expect(run.stderr.contains(#"the API key of workspace "acme" cannot be read"#), "\(run.stderr)")
    }
}
