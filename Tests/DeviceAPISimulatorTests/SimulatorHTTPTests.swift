import CurlHTTP
import DeviceAPISimulator
import DeviceWatchCore
import Foundation
import Testing

@Suite("DevicesAPISimulator over HTTP")
struct SimulatorHTTPTests {
    @Test func listIsWrappedInDataWithTheAPIsDateFormats() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        let response = try await sim.get("/acme/devices/v2")
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "application/json")
        let root = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        let data = try #require(root["data"] as? [[String: Any]])
        #expect(data.map { $0["id"] as? String } == ["cam-1", "cam-2"])
        #expect(data[0]["last_heartbeat"] as? String == "2026-11-28T12:00:00.000Z")
        #expect(data[0]["created_at"] as? String == "2026-10-29T12:00:00.000Z")
        #expect(data[1]["last_heartbeat"] is NSNull)
    }

    @Test func getReturnsOneUnwrappedDevice() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        let response = try await sim.get("/acme/devices/v2/cam-1")
        #expect(response.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        #expect(object["id"] as? String == "cam-1")
        #expect(object["data"] == nil)
        #expect((object["hardware"] as? [String: Any])?["gpu"] as? String == "Orin")
    }

    @Test func dateHeaderComesFromTheSimulatorsClock() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        #expect(try await sim.get("/acme/devices/v2").headers["Date"] == "Sat, 28 Nov 2026 12:00:00 GMT")
        try await sim.advance("90m")
        #expect(try await sim.get("/acme/devices/v2").headers["Date"] == "Sat, 28 Nov 2026 13:30:00 GMT")
        let clock = try await sim.send("GET", "/_sim/clock")
        #expect(clock.text.contains(#""now":"2026-11-28T13:30:00.000Z""#))
    }

    @Test func anAnswerCarriesTheTimeItsBodyDescribes() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        let answer = await sim.simulator.respond(
            method: "GET", path: "/acme/devices/v2", query: [], authorization: "Bearer ws-key", body: Data())
        // The clock moves on before the answer is written: its Date header must still be the
        // time its heartbeats were computed at, or an online device looks offline for 20 minutes.
        try await sim.advance("20m")
        #expect(answer.date == SimulatorFixture.start)
        #expect(sim.simulator.now == SimulatorFixture.start.addingTimeInterval(1200))
        let list = try DeviceListDecoder.decodeList(answer.body)
        #expect(list.devices.first?.lastHeartbeat == answer.date)
    }

    /// Who may read what, as the real service answers: each request, its key and the status.
    static let access: [(path: String, key: String?, status: Int)] = [
        // A missing or unknown key: 401.
        ("/acme/devices/v2", nil, 401), ("/acme/devices/v2", "wrong", 401), ("/acme/devices/v2/cam-1", "wrong", 401),
        // The key in the query works too.
        ("/acme/devices/v2?api_key=ws-key", nil, 200), ("/acme/devices/v2?api_key=nope", nil, 401),
        // A legacy key without scopes has every scope.
        ("/acme/devices/v2", "legacy-key", 200), ("/acme/devices/v2/cam-2", "legacy-key", 200),
        // A device-scoped key reads only its own device.
        ("/acme/devices/v2", "dev-key", 403), ("/acme/devices/v2/cam-2", "dev-key", 403),
        ("/acme/devices/v2/cam-1", "dev-key", 200),
        // Another workspace's key: 403 here, 200 in its own.
        ("/acme/devices/v2", "other-key", 403), ("/other/devices/v2", "other-key", 200),
        // An unknown device, another workspace's device, an unknown path: 404.
        ("/acme/devices/v2/nope", "ws-key", 404), ("/acme/devices/v2/cam-9", "ws-key", 404),
        ("/acme/devices/v1", "ws-key", 404),
    ]

    @Test(arguments: access)
    func eachKeyReadsWhatItsScopesAllow(path: String, key: String?, status: Int) async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        #expect(try await sim.get(path, key: key).status == status)
    }

    /// As the real service (and the official client) has it: a workspace key without
    /// `device:read` gets 404 with the error type GraphMethodException, not 403.
    @Test func aWorkspaceKeyWithoutDeviceReadGets404GraphMethodException() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        for path in ["/acme/devices/v2", "/acme/devices/v2/cam-1"] {
            let response = try await sim.get(path, key: "update-only")
            #expect(response.status == 404)
            let error =
                (try JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["type"] as? String == "GraphMethodException")
            #expect((error?["message"] as? String)?.contains("device:read") == true)
        }
    }

    @Test func unsupportedQueryIs400AndOtherMethods405() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        #expect(try await sim.get("/acme/devices/v2?limit=abc").status == 400)
        let post = try await sim.http.send(
            HTTPRequestSpec(
                method: "POST", url: sim.server.baseURL + "/acme/devices/v2",
                headers: ["Authorization": "Bearer ws-key"]))
        #expect(post.status == 405)
    }

    @Test func heartbeatArithmeticDrivesStatusOverTime() async throws {
        // cam-1 heartbeats every 30s during [-30d, +10m) and from +25m on.
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        let start = SimulatorFixture.start
        var device = try await sim.device("cam-1")
        #expect(device.status == .online)
        #expect(device.lastHeartbeat == start)

        try await sim.advance("45s")  // +45s: last tick at +30s
        device = try await sim.device("cam-1")
        #expect(device.lastHeartbeat == start.addingTimeInterval(30))

        try await sim.advance("9m45s")  // +10m30s: interval ended at +10m, last tick +9m30s
        device = try await sim.device("cam-1")
        #expect(device.lastHeartbeat == start.addingTimeInterval(570))
        #expect(device.status == .online)  // 60s old

        try await sim.advance("4m")  // +14m30s: exactly 5 minutes after +9m30s
        device = try await sim.device("cam-1")
        #expect(device.status == .offline)
        #expect(device.rfdmVersion == "1.2.3")  // it has heartbeated, so monitoring fields stay

        try await sim.advance("10m30s")  // +25m: a new interval's first tick
        device = try await sim.device("cam-1")
        #expect(device.status == .online)
        #expect(device.lastHeartbeat == start.addingTimeInterval(1500))
    }

    @Test func neverHeartbeatedDeviceIsUnknownWithMonitoringFieldsNull() async throws {
        let sim = try await SimulatorFixture.start(
            """
            {"start": "2026-11-28T12:00:00Z", "workspaces": {"acme": {"api_keys": [{"key": "ws-key"}], "devices": [
              {"id": "new-1", "name": "fresh", "rfdm_version": "1.4.0", "hostname": "h", "tags": ["t"],
               "hardware": {"gpu": "Orin"}, "created_at": "-1h", "online": [["+1h", null]]}]}}}
            """)
        defer { Task { await sim.stop() } }
        let object = try #require(
            try JSONSerialization.jsonObject(with: try await sim.get("/acme/devices/v2/new-1").body) as? [String: Any])
        #expect(object["status"] as? String == "unknown")
        for field in ["last_heartbeat", "rfdm_version", "hostname", "hardware", "platform", "architecture"] {
            #expect(object[field] is NSNull, "\(field) should be null")
        }
        #expect(object["name"] as? String == "fresh")
        #expect(object["tags"] as? [String] == ["t"])
        try await sim.advance("1h")
        #expect(try await sim.device("new-1").status == .online)
    }

    @Test func adminCanAddReplaceHeartbeatAndDeleteDevices() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        let created = try await sim.send(
            "PUT", "/_sim/workspaces/acme/devices/cam-7", #"{"name": "new", "created_at": "-5m"}"#)
        #expect(created.status == 201)
        #expect(try await sim.device("cam-7").status == .unknown)

        let beat = try await sim.send("POST", "/_sim/workspaces/acme/devices/cam-7/heartbeat")
        #expect(beat.status == 200)
        let device = try await sim.device("cam-7")
        #expect(device.status == .online)
        #expect(device.lastHeartbeat == SimulatorFixture.start)

        let replaced = try await sim.send(
            "PUT", "/_sim/workspaces/acme/devices/cam-7", #"{"name": "renamed", "online": [["-1h", null]]}"#)
        #expect(replaced.status == 200)
        #expect(try await sim.device("cam-7").name == "renamed")

        #expect(try await sim.send("DELETE", "/_sim/workspaces/acme/devices/cam-7").status == 204)
        #expect(try await sim.get("/acme/devices/v2/cam-7").status == 404)
        #expect(try await sim.send("DELETE", "/_sim/workspaces/acme/devices/cam-7").status == 404)
    }

    @Test func adminRejectsBadInputWithThePath() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        let bad = try await sim.send("PUT", "/_sim/workspaces/acme/devices/x", #"{"online": [["-1h", "soon"]]}"#)
        #expect(bad.status == 400)
        #expect(bad.text.contains("online[0][1]"))
        let faults = try await sim.send("PUT", "/_sim/faults", #"{"error_rate": 2}"#)
        #expect(faults.status == 400)
        #expect(faults.text.contains("error_rate"))
        #expect(try await sim.send("POST", "/_sim/clock/advance", #"{"by": "soon"}"#).status == 400)
    }

    @Test func rateLimitFaultAnswers429WithRetryAfter() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        #expect(
            try await sim.send("PUT", "/_sim/faults", #"{"rate_limit_every": 2, "retry_after": "3s"}"#).status == 200)
        let statuses = try await (0..<4).asyncMap { _ in try await sim.get("/acme/devices/v2") }
        #expect(statuses.map(\.status) == [200, 429, 200, 429])
        #expect(statuses[1].headers["Retry-After"] == "3")
    }

    @Test func errorFaultAnswersTheConfiguredStatus() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        _ = try await sim.send("PUT", "/_sim/faults", #"{"error_rate": 1, "error_status": 502}"#)
        #expect(try await sim.get("/acme/devices/v2").status == 502)
        _ = try await sim.send("PUT", "/_sim/faults", #"{}"#)
        #expect(try await sim.get("/acme/devices/v2").status == 200)
    }

    @Test func malformedFaultSendsABodyThatIsNotJSON() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        _ = try await sim.send("PUT", "/_sim/faults", #"{"malformed_rate": 1}"#)
        let response = try await sim.get("/acme/devices/v2")
        #expect(response.status == 200)
        #expect((try? JSONSerialization.jsonObject(with: response.body)) == nil)
    }

    @Test func truncateFaultCutsTheConnectionMidBody() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        _ = try await sim.send("PUT", "/_sim/faults", #"{"truncate_rate": 1}"#)
        let error = await #expect(throws: CurlHTTPError.self) { try await sim.get("/acme/devices/v2") }
        #expect(error?.kind == .connectionLost)
    }

    @Test func latencyFaultDelaysAnswers() async throws {
        let sim = try await SimulatorFixture.start()
        defer { Task { await sim.stop() } }
        _ = try await sim.send("PUT", "/_sim/faults", #"{"latency": "2s"}"#)
        let error = await #expect(throws: CurlHTTPError.self) {
            try await sim.http.send(
                HTTPRequestSpec(
                    url: sim.server.baseURL + "/acme/devices/v2", headers: ["Authorization": "Bearer ws-key"],
                    totalTimeout: .milliseconds(300)))
        }
        #expect(error?.kind == .timeout)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
