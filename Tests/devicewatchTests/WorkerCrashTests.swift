import Crypto
import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

/// The worker end to end: the real binary against the simulator and a recording sink, killed with
/// SIGKILL at chosen points and restarted.
@Suite("devicewatch run: delivery and crash safety", .serialized)
struct WorkerCrashTests {
    static let secret = "whsec_" + Data("a-test-signing-secret".utf8).base64EncodedString()

    /// A recording sink, a simulator with one production camera offline for 20 minutes, and a
    /// config delivering to the sink.
    static func setUp() async throws -> (sink: RecordingSink, simulator: SimulatorProcess, dir: Workdir) {
        let sink = try await RecordingSink.start()
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key-TOPSECRET",
            devices:
                """
                {"id": "cam-1", "name": "line-3-cam", "tags": ["production"], "rfdm_version": "1.4.0", "created_at": "-30d",
                 "online": [["-30d", "-20m"]]},
                {"id": "cam-2", "name": "dock-cam", "tags": ["production"], "rfdm_version": "1.4.0", "created_at": "-30d",
                 "online": [["-30d", null]]}
                """,
            // The worker's timers run on the API's clock, so it must advance, as a real one does.
            timeScale: 1)
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL", "secret_env": "HOOK_SECRET"}},
                "defaults": {"group_wait": "0s", "group_interval": "1s"}, "state": {"sqlite": "state.db"},
                "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json": """
            {"rules": [{"id": "production-offline", "summary": "{{device.name}} offline for {{offline_for}}", "severity": "critical",
              "where": {"tags": {"all_of": ["production"]}}, "when": {"offline_for": "15m"}, "notify": ["hook"]}]}
            """,
        ])
        return (sink, simulator, dir)
    }

    /// Stops what ``setUp()`` started (the sink in the background: `defer` cannot wait).
    static func stop(_ sink: RecordingSink, _ simulator: SimulatorProcess) {
        Task { await sink.stop() }
        _ = simulator.stop()
    }

    static func environment(_ sink: RecordingSink, crash: String? = nil) -> [String: String] {
        var env = ["ROBOFLOW_API_KEY": "ws-key-TOPSECRET", "HOOK_URL": sink.url, "HOOK_SECRET": Self.secret]
        if let crash { env["DEVICEWATCH_CRASH_AT"] = crash }
        return env
    }

    /// Verifies a Standard Webhooks signature independently of the code under test.
    func signatureIsValid(_ request: RecordingSink.Request) -> Bool {
        guard let id = request.headers["webhook-id"], let timestamp = request.headers["webhook-timestamp"],
            let signature = request.headers["webhook-signature"], signature.hasPrefix("v1,"),
            let key = Data(base64Encoded: String(Self.secret.dropFirst(6)))
        else { return false }
        var message = Data("\(id).\(timestamp).".utf8)
        message.append(request.body)
        let expected = Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            .base64EncodedString()
        return String(signature.dropFirst(3)) == expected
    }

    func firing(_ requests: [RecordingSink.Request]) -> [RecordingSink.Request] {
        requests.filter { $0.json?["status"] as? String == "firing" }
    }

    @Test func anOfflineDeviceIsDeliveredOnceSignedAndInAlertmanagerFormat() async throws {
        let (sink, simulator, dir) = try await Self.setUp()
        defer { Self.stop(sink, simulator) }
        let worker = try WorkerProcess(config: dir.file("devicewatch.json"), environment: Self.environment(sink))
        #expect(await sink.wait { firing($0).count >= 1 }, "\(worker.log)")
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")  // more polls: nothing more is sent
        #expect(await worker.terminate() == 0)

        let requests = firing(sink.requests)
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.method == "POST")
        #expect(request.headers["content-type"] == "application/json")
        #expect(signatureIsValid(request))
        let body = try #require(request.json)
        #expect(body["version"] as? String == "4")
        #expect(body["receiver"] as? String == "hook")
        let alerts = try #require(body["alerts"] as? [[String: Any]])
        #expect(alerts.count == 1)
        let labels = try #require(alerts.first?["labels"] as? [String: String])
        #expect(
            labels["rule"] == "production-offline" && labels["device"] == "cam-1" && labels["severity"] == "critical")
        // 20m30s when the first poll comes at once; the simulator's clock runs from its own start,
        // so a worker slow to start on a loaded machine polls a few seconds later (20m31s...).
        let summary = (alerts.first?["annotations"] as? [String: String])?["summary"] ?? ""
        #expect(summary.wholeMatch(of: /line-3-cam offline for 20m3\ds/) != nil, "\(summary)")
        // The documented fingerprint: SHA-256 of "acme NUL production-offline NUL cam-1", first 16 bytes in hex.
        let digest = SHA256.hash(data: Data("acme\u{0}production-offline\u{0}cam-1".utf8))
        #expect(
            alerts.first?["fingerprint"] as? String == digest.prefix(16).map { String(format: "%02x", $0) }.joined())
        #expect(
            !worker.log.contains("TOPSECRET") && !worker.log.contains(Self.secret) && !worker.log.contains(sink.url))
    }

    @Test(arguments: ["before-commit", "after-commit"])
    func aCrashBeforeDeliveryLosesNothingAndSendsOnce(point: String) async throws {
        let (sink, simulator, dir) = try await Self.setUp()
        defer { Self.stop(sink, simulator) }
        let crashing = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: Self.environment(sink, crash: point))
        let status = await crashing.waitForExit(seconds: 15)
        #expect(status != nil && status != 0, "the worker should have killed itself at \(point)")
        #expect(firing(sink.requests).isEmpty)

        let worker = try WorkerProcess(config: dir.file("devicewatch.json"), environment: Self.environment(sink))
        #expect(await sink.wait { firing($0).count >= 1 }, "\(worker.log)")
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")
        #expect(await worker.terminate() == 0)
        #expect(firing(sink.requests).count == 1)
    }

    @Test func aCrashBetweenTheReceiversAnswerAndTheCommitRepeatsOnlyWithTheSameIdempotencyKey() async throws {
        let (sink, simulator, dir) = try await Self.setUp()
        defer { Self.stop(sink, simulator) }
        let crashing = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: Self.environment(sink, crash: "after-delivery"))
        #expect(await crashing.waitForExit(seconds: 15) != nil)
        #expect(firing(sink.requests).count == 1)

        let worker = try WorkerProcess(config: dir.file("devicewatch.json"), environment: Self.environment(sink))
        #expect(await sink.wait { firing($0).count >= 2 }, "\(worker.log)")
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")
        #expect(await worker.terminate() == 0)
        let deliveries = firing(sink.requests)
        #expect(deliveries.count == 2)  // the one unavoidable repeat, and no more
        #expect(Set(deliveries.compactMap { $0.headers["webhook-id"] }).count == 1)
    }

    @Test func theResolveIsDeliveredAfterARestartBetweenFiringAndRecovery() async throws {
        let (sink, simulator, dir) = try await Self.setUp()
        defer { Self.stop(sink, simulator) }
        let first = try WorkerProcess(config: dir.file("devicewatch.json"), environment: Self.environment(sink))
        #expect(await sink.wait { firing($0).count == 1 }, "\(first.log)")
        // Past the instant between the receiver's 2xx and its record (that window is the other
        // test's): the outbox says it is sent.
        var recorded = false
        for _ in 0..<300 where !recorded {
            let listed = try? await CommandRunner.run([
                "notifications", "list", "--config", dir.file("devicewatch.json"),
            ])
            recorded = listed?.stdout.contains("SENT") == true
            if !recorded { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recorded)
        kill(first.process.processIdentifier, SIGKILL)
        _ = await first.waitForExit(seconds: 5)

        // The camera comes back while the worker is down.
        let beat = try await CurlHTTPClient().send(
            HTTPRequestSpec(
                method: "POST", url: simulator.baseURL + "/_sim/workspaces/acme/devices/cam-1/heartbeat"))
        #expect(beat.status == 200)

        let second = try WorkerProcess(config: dir.file("devicewatch.json"), environment: Self.environment(sink))
        #expect(await sink.wait { $0.contains { $0.json?["status"] as? String == "resolved" } }, "\(second.log)")
        #expect(await second.waitForMorePolls(2), "\(second.log)")
        #expect(await second.terminate() == 0)
        #expect(firing(sink.requests).count == 1)
        let resolved = sink.requests.filter { $0.json?["status"] as? String == "resolved" }
        #expect(resolved.count == 1)
        #expect(resolved.allSatisfy(signatureIsValid))
    }
}

@Suite("devicewatch run: JSON logs", .serialized)
struct WorkerLogTests {
    @Test func jsonLogsAreOneObjectPerLineWithoutSecrets() async throws {
        let (sink, simulator, dir) = try await WorkerCrashTests.setUp()
        defer { WorkerCrashTests.stop(sink, simulator) }
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: WorkerCrashTests.environment(sink),
            arguments: ["--log-format", "json", "--log-level", "info"])
        #expect(await sink.wait { !$0.isEmpty }, "\(worker.log)")
        #expect(await worker.terminate() == 0)
        let lines = worker.log.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(
                object?["timestamp"] is String && object?["level"] is String && object?["message"] is String, "\(line)")
        }
        #expect(
            lines.contains { $0.contains(#""message":"notification planned""#) && $0.contains(#""receiver":"hook""#) })
        #expect(
            !worker.log.contains("TOPSECRET") && !worker.log.contains(sink.url)
                && !worker.log.contains(WorkerCrashTests.secret))
    }
}

@Suite("devicewatch run: reloading the configuration", .serialized)
struct WorkerReloadTests {
    @Test func aBadEditKeepsTheLastGoodRulesAndAGoodEditTakesEffect() async throws {
        let (sink, simulator, dir) = try await WorkerCrashTests.setUp()
        defer { WorkerCrashTests.stop(sink, simulator) }
        // Start with a threshold the 20-minute outage does not reach.
        let rules = dir.file("rules.json")
        func write(_ text: String) throws {
            try text.write(toFile: rules, atomically: true, encoding: .utf8)
            // A new modification time even within the same second.
            try FileManager.default.setAttributes(
                [.modificationDate: Date().addingTimeInterval(90)], ofItemAtPath: rules)
        }
        try write(#"{"rules": [{"id": "production-offline", "when": {"offline_for": "1h"}, "notify": ["hook"]}]}"#)
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: WorkerCrashTests.environment(sink))
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")  // evaluated, under the 1h threshold
        #expect(sink.requests.isEmpty)

        try write(#"{"rules": [{"id": "production-offline", "when": {"ofline_for": "15m"}, "notify": ["hook"]}]}"#)
        // The summary and each problem are separate log lines: they may reach the pipe apart.
        #expect(
            await waitFor(seconds: 10) {
                worker.log.contains("still running on the last good one")
                    && worker.log.contains(#"did you mean "offline_for"?"#)
            }, "\(worker.log)")
        #expect(worker.process.isRunning)

        kill(worker.process.processIdentifier, SIGHUP)
        #expect(await waitFor(seconds: 5) { worker.log.contains("SIGHUP: reloading") })
        #expect(worker.process.isRunning)

        try write(#"{"rules": [{"id": "production-offline", "when": {"offline_for": "15m"}, "notify": ["hook"]}]}"#)
        #expect(await sink.wait { !$0.isEmpty }, "\(worker.log)")
        #expect(worker.log.contains("configuration reloaded"))
        #expect(await worker.terminate() == 0)
    }
}

func waitFor(seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}
