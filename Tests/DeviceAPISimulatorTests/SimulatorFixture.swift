import CurlHTTP
import DeviceAPISimulator
import DeviceWatchCore
import Foundation

/// A simulator on loopback with a frozen clock, and a client to call it.
struct SimulatorFixture {
    static let start = Timestamp.parse("2026-11-28T12:00:00Z")!

    static let scenarioJSON = """
        {
          "start": "2026-11-28T12:00:00Z",
          "workspaces": {
            "acme": {
              "api_keys": [
                {"key": "ws-key", "scopes": ["device:read"]},
                {"key": "legacy-key"},
                {"key": "dev-key", "device": "cam-1"},
                {"key": "update-only", "scopes": ["device:update"]}
              ],
              "devices": [
                {"id": "cam-1", "name": "line-3-cam", "type": "jetson", "tags": ["production", "site-a"],
                 "rfdm_version": "1.2.3", "hostname": "jetson-01", "platform": "Linux", "architecture": "aarch64",
                 "hardware": {"gpu": "Orin", "total_memory_mb": 7982},
                 "created_at": "-30d", "heartbeat_every": "30s", "online": [["-30d", "+10m"], ["+25m", null]]},
                {"id": "cam-2", "name": "dock-cam", "created_at": "-2h", "online": []}
              ]
            },
            "other": {
              "api_keys": [{"key": "other-key"}],
              "devices": [{"id": "cam-9", "online": [["-1d", null]]}]
            }
          }
        }
        """

    let simulator: DevicesAPISimulator
    let server: LoopbackServer
    let http = CurlHTTPClient()

    static func start(_ json: String = scenarioJSON, seed: UInt64 = 1) async throws -> SimulatorFixture {
        let scenario = try Scenario.parse(Data(json.utf8), source: "test.json", now: start, seed: seed)
        let simulator = DevicesAPISimulator(scenario: scenario, now: start, timeScale: 0, seed: seed)
        let server = try await SimulatorServer.start(simulator)
        return SimulatorFixture(simulator: simulator, server: server)
    }

    func get(_ path: String, key: String? = "ws-key") async throws -> HTTPResponseData {
        var headers: HTTPHeaderList = [:]
        if let key { headers.add(name: "Authorization", value: "Bearer \(key)") }
        return try await http.send(HTTPRequestSpec(url: server.baseURL + path, headers: headers))
    }

    func send(_ method: String, _ path: String, _ body: String? = nil) async throws -> HTTPResponseData {
        try await http.send(
            HTTPRequestSpec(method: method, url: server.baseURL + path, body: body.map { Data($0.utf8) }))
    }

    func advance(_ by: String) async throws {
        let response = try await send("POST", "/_sim/clock/advance", #"{"by": "\#(by)"}"#)
        precondition(response.status == 200, "advance failed: \(String(decoding: response.body, as: UTF8.self))")
    }

    func device(_ id: String, workspace: String = "acme") async throws -> Device {
        let response = try await get("/\(workspace)/devices/v2/\(id)")
        return try DeviceListDecoder.decodeDevice(response.body).device
    }

    func stop() async {
        await server.stop()
    }
}

extension HTTPResponseData {
    var text: String { String(decoding: body, as: UTF8.self) }
}
