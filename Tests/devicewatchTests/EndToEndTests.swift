import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

/// The product as deployed: the built `devicewatch run` against `devicewatch simulate` (its clock
/// moved by hand) and a recording sink standing in for PagerDuty and Slack, all real processes
/// over loopback HTTP.
@Suite("devicewatch run end to end", .serialized)
struct EndToEndTests {
    static let rules = """
        {"rules": [{"id": "production-offline", "summary": "{{device.name}} offline for {{offline_for}}", "severity": "critical",
          "where": {"tags": {"all_of": ["production"]}}, "when": {"offline_for": "15m"}, "repeat_every": "1h",
          "notify": ["pagerduty-oncall", "slack-fleet"]}]}
        """

    func pagerDuty(_ requests: [RecordingSink.Request], _ action: String) -> [RecordingSink.Request] {
        requests.filter { $0.path == "/pagerduty" && $0.json?["event_action"] as? String == action }
    }

    func slack(_ requests: [RecordingSink.Request], _ prefix: String) -> [RecordingSink.Request] {
        requests.filter { $0.path.hasPrefix("/slack/") && ($0.json?["text"] as? String)?.hasPrefix(prefix) == true }
    }

    func opsAddress(_ worker: WorkerProcess) async -> String? { await worker.opsAddress() }

    @Test func pageRepeatBadEditCrashResolveAndShutdown() async throws {
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key-TOPSECRET",
            devices:
                """
                {"id": "cam-1", "name": "line-3-cam", "hostname": "jetson-3", "tags": ["production"], "rfdm_version": "1.4.0",
                 "created_at": "-30d", "online": [["-30d", "-10m"]]},
                {"id": "cam-2", "name": "dock-cam", "tags": ["production"], "rfdm_version": "1.4.0", "created_at": "-30d",
                 "online": [["-30d", null]]}
                """, timeScale: 1)
        defer { _ = simulator.stop() }
        let base = sink.server.baseURL
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {
                "pagerduty-oncall": {"type": "pagerduty", "routing_key_env": "PD_ROUTING_KEY", "url": "\(base)/pagerduty"},
                "slack-fleet": {"type": "slack", "url_env": "SLACK_WEBHOOK_URL"}},
                "defaults": {"group_wait": "0s", "group_interval": "1s"}, "state": {"sqlite": "state.db"},
                "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json": Self.rules,
        ])
        let routingKey = "pd-routing-KEY-0123456789abcdef"
        let environment = [
            "ROBOFLOW_API_KEY": "ws-key-TOPSECRET", "PD_ROUTING_KEY": routingKey,
            "SLACK_WEBHOOK_URL": base + "/slack/T000/B000/XXXSECRET",
        ]
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        func advance(_ by: String) async throws { #expect(try await simulator.advance(by, http: http) == 200) }
        func get(_ url: String) async throws -> (status: Int, text: String) {
            let response = try await http.send(HTTPRequestSpec(url: url))
            return (response.status, String(decoding: response.body, as: UTF8.self))
        }

        // 1. Offline for 10 minutes: below offline_for, nothing is sent.
        let first = try WorkerProcess(config: dir.file("devicewatch.json"), environment: environment)
        let ops = try #require(await opsAddress(first), "\(first.log)")
        // Polls have run and been evaluated (the proof that the quiet below means something).
        #expect(await first.waitForMorePolls(3), "\(first.log)")
        #expect(sink.requests.isEmpty)
        #expect(try await get(ops + "/readyz").status == 200)

        // 2. Five more minutes: exactly one PagerDuty trigger and one Slack message.
        try await advance("5m")
        #expect(
            await sink.wait { pagerDuty($0, "trigger").count >= 1 && slack($0, "[FIRING").count >= 1 }, "\(first.log)")
        #expect(await first.waitForMorePolls(3), "\(first.log)")  // more polls: nothing more is sent
        #expect(pagerDuty(sink.requests, "trigger").count == 1)
        #expect(slack(sink.requests, "[FIRING").count == 1)
        let trigger = try #require(pagerDuty(sink.requests, "trigger").first?.json)
        #expect(trigger["routing_key"] as? String == routingKey)
        #expect((trigger["payload"] as? [String: Any])?["source"] as? String == "jetson-3")
        // The simulated clock runs on while the worker evaluates: "offline for 15m" and some seconds.
        #expect(
            ((trigger["payload"] as? [String: Any])?["summary"] as? String)?.hasPrefix("line-3-cam offline for 15m")
                == true)
        let dedupKey = try #require(trigger["dedup_key"] as? String)
        let alerts = try await get(ops + "/api/v1/alerts?state=firing").text
        #expect(alerts.contains(dedupKey))

        // 3. An hour of fleet time later: one repeat on each receiver.
        try await advance("1h")
        #expect(
            await sink.wait { pagerDuty($0, "trigger").count >= 2 && slack($0, "[FIRING").count >= 2 }, "\(first.log)")
        #expect(await first.waitForMorePolls(3), "\(first.log)")
        #expect(pagerDuty(sink.requests, "trigger").count == 2)
        #expect(slack(sink.requests, "[FIRING").count == 2)
        #expect(Set(pagerDuty(sink.requests, "trigger").compactMap { $0.json?["dedup_key"] as? String }) == [dedupKey])

        // 4. A rule edit with an error: the worker keeps running on the old rules and says why.
        let rulesPath = dir.file("rules.json")
        func writeRules(_ text: String) throws {
            try text.write(toFile: rulesPath, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes(
                [.modificationDate: Date().addingTimeInterval(90)], ofItemAtPath: rulesPath)
        }
        try writeRules(Self.rules.replacingOccurrences(of: "offline_for", with: "ofline_for"))
        #expect(await waitFor(seconds: 15) { first.log.contains("still running on the last good one") }, "\(first.log)")
        #expect(first.process.isRunning)
        let readiness = try await get(ops + "/readyz").text
        #expect(readiness.contains(#""reload" : "failed""#) && readiness.contains("did you mean"), "\(readiness)")
        #expect(try await get(ops + "/metrics").text.contains("devicewatch_config_reload_success 0.0"))
        #expect(try await get(ops + "/api/v1/alerts?state=firing").text.contains(dedupKey))
        try writeRules(Self.rules)
        #expect(await waitFor(seconds: 15) { first.log.contains("configuration reloaded") }, "\(first.log)")

        // 5. kill -9 while the page fires; the camera recovers while the worker is down.
        kill(first.process.processIdentifier, SIGKILL)
        _ = await first.waitForExit(seconds: 5)
        let beat = try await http.send(
            HTTPRequestSpec(method: "POST", url: simulator.baseURL + "/_sim/workspaces/acme/devices/cam-1/heartbeat"))
        #expect(beat.status == 200)

        let second = try WorkerProcess(config: dir.file("devicewatch.json"), environment: environment)
        #expect(
            await sink.wait { pagerDuty($0, "resolve").count >= 1 && slack($0, "[RESOLVED]").count >= 1 },
            "\(second.log)")
        #expect(await second.waitForMorePolls(3), "\(second.log)")
        #expect(pagerDuty(sink.requests, "resolve").count == 1)
        #expect(pagerDuty(sink.requests, "resolve").first?.json?["dedup_key"] as? String == dedupKey)
        #expect(slack(sink.requests, "[RESOLVED]").count == 1)
        // Nothing sent twice: two triggers (the page and its repeat), two Slack firings, one resolve each.
        #expect(pagerDuty(sink.requests, "trigger").count == 2)
        #expect(slack(sink.requests, "[FIRING").count == 2)
        #expect(sink.requests.count == 6)

        // 6. The camera drops off again later: a new page, not mistaken for the first one.
        try await advance("20m")
        #expect(
            await sink.wait { pagerDuty($0, "trigger").count >= 3 && slack($0, "[FIRING").count >= 3 }, "\(second.log)")
        #expect(pagerDuty(sink.requests, "trigger").last?.json?["dedup_key"] as? String == dedupKey)

        // 7. SIGTERM: a clean exit, promptly.
        let stopping = Date()
        #expect(await second.terminate() == 0)
        #expect(Date().timeIntervalSince(stopping) < 10)
        for log in [first.log, second.log] {
            #expect(!log.contains("TOPSECRET") && !log.contains(routingKey) && !log.contains("XXXSECRET"))
        }
    }
}

@Suite("devicewatch run: workspaces on reload", .serialized)
struct WorkspaceReloadTests {
    @Test func aWorkspaceAddedOrRemovedByAnEditIsPolledOrDroppedWithoutARestart() async throws {
        // The key belongs to acme only, as Roboflow keys belong to one workspace: beta answers 403.
        let simulator = try SimulatorProcess(
            json:
                """
                {"start": "2026-11-28T12:00:00Z", "workspaces": {
                  "acme": {"api_keys": [{"key": "k-acme"}], "devices": [{"id": "cam-1", "online": [["-30d", null]]}]},
                  "beta": {"api_keys": [{"key": "k-beta"}], "devices": [{"id": "cam-9", "online": [["-30d", null]]}]}}}
                """, timeScale: 1)
        defer { _ = simulator.stop() }
        func config(_ workspaces: [String]) -> String {
            """
            {"api": {"base_url": "\(simulator.baseURL)"}, "workspaces": [\(workspaces.map { #"{"id": "\#($0)", "poll_every": "1s"}"# }.joined(separator: ","))],
             "rule_files": [], "state": {"sqlite": "state.db"}, "server": {"listen": "127.0.0.1:0"}}
            """
        }
        let dir = try Workdir(["devicewatch.json": config(["acme"])])
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: ["ROBOFLOW_API_KEY": "k-acme"])
        // Stopped without waiting (a defer cannot await): the process ends on SIGTERM by itself.
        defer { worker.process.terminate() }
        let ops = try #require(await EndToEndTests().opsAddress(worker), "\(worker.log)")
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        func readiness() async throws -> (status: Int, body: [String: Any]) {
            let response = try await http.send(HTTPRequestSpec(url: ops + "/readyz"))
            return (response.status, (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]) ?? [:])
        }
        func workspaces(_ body: [String: Any]) -> [String: [String: Any]] {
            body["workspaces"] as? [String: [String: Any]] ?? [:]
        }
        func eventually(_ condition: (Int, [String: Any]) -> Bool) async throws -> Bool {
            for _ in 0..<40 {
                let (status, body) = try await readiness()
                if condition(status, body) { return true }
                try await Task.sleep(for: .milliseconds(500))
            }
            return false
        }
        #expect(
            try await eventually { status, body in status == 200 && workspaces(body)["acme"]?["last_success"] != nil },
            "\(worker.log)")

        // Added: polled at once (and, with a key that cannot see it, not ready).
        try config(["acme", "beta"]).write(toFile: dir.file("devicewatch.json"), atomically: true, encoding: .utf8)
        #expect(
            try await eventually { status, body in
                status == 503 && (workspaces(body)["beta"]?["failure"] as? String)?.contains("403") == true
            }, "\(worker.log)")

        // Removed: no longer polled, and ready again.
        try config(["acme"]).write(toFile: dir.file("devicewatch.json"), atomically: true, encoding: .utf8)
        #expect(
            try await eventually { status, body in status == 200 && workspaces(body)["beta"] == nil }, "\(worker.log)")
        #expect(worker.log.contains("stopped polling"))
        let polls = worker.log.components(separatedBy: "workspace=beta").count
        // acme is polled three more times meanwhile: beta would have been too, were it still polled.
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")
        #expect(worker.log.components(separatedBy: "workspace=beta").count == polls, "beta is still polled")
        #expect(worker.process.isRunning)
    }
}
