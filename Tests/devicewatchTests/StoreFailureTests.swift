import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

/// A state store that breaks while the worker runs: it says so everywhere and exits non-zero for
/// its supervisor, rather than running deaf. Real processes, a really damaged file.
@Suite("A state store that fails while running", .serialized)
struct StoreFailureTests {
    @Test func aDamagedStoreSurfacesAndTheWorkerExitsNonZero() async throws {
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key", devices: #"{"id": "cam-1", "created_at": "-30d", "online": [["-30d", "-1h"]]}"#,
            timeScale: 1)
        defer { _ = simulator.stop() }
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {"console": {"type": "console"}}, "defaults": {"group_wait": "0s"},
                "state": {"sqlite": "state.db", "give_up_after": "15s"}, "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json": #"{"rules": [{"id": "offline", "when": {"offline_for": "15m"}, "notify": ["console"]}]}"#,
        ])
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: ["ROBOFLOW_API_KEY": "ws-key"])
        // The first page is out: the worker and its store work.
        #expect(await waitFor(seconds: 20) { worker.log.contains("notification planned") }, "\(worker.log)")
        let address = try #require(await EndToEndTests().opsAddress(worker), "\(worker.log)")

        // The file is damaged under it: the database and its WAL overwritten in place, and the
        // shared WAL index scrambled, so no connection can go on from what it has cached.
        for (suffix, bytes) in [("", 64 * 1024), ("-wal", 64 * 1024), ("-shm", 4096)] {
            let file = dir.file("state.db" + suffix)
            guard FileManager.default.fileExists(atPath: file) else { continue }
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
            try handle.write(contentsOf: Data(repeating: 0x5A, count: bytes))
            try handle.close()
        }
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        _ = try await http.send(
            HTTPRequestSpec(
                method: "PUT", url: simulator.baseURL + "/_sim/workspaces/acme/devices/cam-2",
                body: Data(#"{"id": "cam-2", "created_at": "-30d", "online": [["-30d", "-1h"]]}"#.utf8)))

        // It says so: /readyz 503 naming the store, the gauge, the log (read while it still runs).
        var readiness = ""
        var metrics = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let answer = try? await http.send(HTTPRequestSpec(url: address + "/readyz", totalTimeout: .seconds(2))),
                answer.status == 503
            {
                readiness = String(decoding: answer.body, as: UTF8.self)
                metrics =
                    (try? await http.send(HTTPRequestSpec(url: address + "/metrics", totalTimeout: .seconds(2))))
                    .map { String(decoding: $0.body, as: UTF8.self) } ?? ""
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(readiness.contains("the state store has been failing"), "\(readiness)\n\(worker.log)")
        #expect(metrics.contains("devicewatch_store_failing 1"), "\(metrics)")
        #expect(metrics.contains("devicewatch_store_errors_total{"), "\(metrics)")
        #expect(worker.log.contains("the state store failed"), "\(worker.log)")

        // And after give_up_after it exits non-zero, for its supervisor to restart it.
        let status = await worker.waitForExit(seconds: 45)
        #expect(status != nil && status != 0, "\(String(describing: status))")
        #expect(worker.log.contains("devicewatch exits so that its supervisor restarts it"), "\(worker.log)")
    }
}
