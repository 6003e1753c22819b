import DeviceAPISimulator
import Foundation
import Testing

/// kill -9 in the middle of a storm of notifications: outcomes are recorded within milliseconds of
/// the receiver's answer, so the restart repeats at most what was in flight (16 transfers) and
/// what was answered but not yet recorded (at most 16), never a batch of hundreds.
@Suite("kill -9 during a storm", .serialized)
struct CrashStormTests {
    @Test func aCrashMidStormRepeatsAtMostWhatWasInFlight() async throws {
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let devices = (0..<400).map { #"{"id": "cam-\#($0)", "created_at": "-30d", "online": [["-30d", "-1h"]]}"# }
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key", devices: devices.joined(separator: ",\n"), timeScale: 1)
        defer { _ = simulator.stop() }
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                pollEvery: "1h",
                """
                "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL", "rate_limit": {"per_second": 100000, "burst": 100000}}},
                "defaults": {"group_wait": "0s", "group_interval": "1h"}, "state": {"sqlite": "state.db"},
                "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json":
                #"{"rules": [{"id": "offline", "when": {"offline_for": "15m"}, "notify": ["hook"], "group_by": ["device"]}]}"#,
        ])
        var environment = ["ROBOFLOW_API_KEY": "ws-key", "HOOK_URL": sink.url]
        // Killed as it records its fourth batch of outcomes, mid-storm.
        environment["DEVICEWATCH_CRASH_AT"] = "after-delivery"
        environment["DEVICEWATCH_CRASH_AFTER"] = "3"
        let crashing = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: environment, arguments: ["--log-level", "warning"])
        #expect(await crashing.waitForExit(seconds: 60) != nil, "the worker never reached the crash point")
        let beforeRestart = sink.requests.count
        #expect(beforeRestart > 0 && beforeRestart < 400, "the crash must fall mid-storm: \(beforeRestart) delivered")

        environment["DEVICEWATCH_CRASH_AT"] = nil
        environment["DEVICEWATCH_CRASH_AFTER"] = nil
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: environment, arguments: ["--log-level", "warning"])
        func unique(_ requests: [RecordingSink.Request]) -> Int {
            Set(requests.compactMap { ($0.json?["alerts"] as? [[String: Any]])?.first?["fingerprint"] as? String })
                .count
        }
        #expect(await sink.wait(seconds: 60) { unique($0) == 400 }, "\(worker.log)")
        #expect(await worker.terminate() == 0)
        let repeats = sink.requests.count - 400
        print("crash storm: \(beforeRestart) delivered before the crash, \(repeats) repeated")
        #expect(repeats >= 0)
        #expect(repeats <= 32, "\(repeats) notifications were sent twice")
    }
}
