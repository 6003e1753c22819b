import DeviceWatchCore
import Foundation
import Synchronization

/// An answer of the simulator, before it goes on the wire.
public struct SimulatorResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data
    /// Send only the first half of the body, then close the connection (the truncation fault).
    public var truncate: Bool = false
    /// The simulated time the body describes, sent as the `Date` header: read once with the body,
    /// so a clock advanced meanwhile (`/_sim/clock/advance`) cannot pair old heartbeats with a
    /// later time (which made an online device look offline for the advanced span).
    public var date: Date?
}

/// The stand-in Devices API: serves `GET /{workspace}/devices/v2[/{id}]` from a scenario, with its
/// own clock, fault injection and an admin API under `/_sim/`.
///
/// Transport-free: ``respond(method:path:query:authorization:body:)`` is what the HTTP server calls.
public final class DevicesAPISimulator: Sendable {
    private struct State {
        var workspaces: [String: Scenario.Workspace]
        var clock: SimulatorClock
        var faults: Faults
        var random: SeededRandom
        var apiRequests = 0
        /// Device list requests per workspace named in the path: tests count pollers by them.
        var listRequests: [String: Int] = [:]
    }

    private let state: Mutex<State>
    private let elapsed: @Sendable () -> Double

    /// - Parameters:
    ///   - scenario: what to serve.
    ///   - now: the real time; the clock starts here when the scenario has no `start`.
    ///   - timeScale: simulated seconds per real second (0 freezes the clock).
    ///   - seed: seeds fault injection.
    ///   - elapsed: real seconds since the simulator started; defaults to a monotonic clock.
    public init(
        scenario: Scenario, now: Date, timeScale: Double = 1, seed: UInt64 = 1,
        elapsed: (@Sendable () -> Double)? = nil
    ) {
        state = Mutex(
            State(
                workspaces: scenario.workspaces,
                clock: SimulatorClock(start: scenario.start ?? now, timeScale: timeScale),
                faults: scenario.faults, random: SeededRandom(seed: seed)))
        if let elapsed {
            self.elapsed = elapsed
        } else {
            let began = ContinuousClock.now
            self.elapsed = {
                let (seconds, attoseconds) = began.duration(to: .now).components
                return Double(seconds) + Double(attoseconds) / 1e18
            }
        }
    }

    /// The simulated time now.
    public var now: Date {
        let elapsed = elapsed()
        return state.withLock { $0.clock.now(elapsed: elapsed) }
    }

    /// Answers one request.
    /// - Parameters:
    ///   - path: the path without query, e.g. `/acme/devices/v2`.
    ///   - query: decoded query parameters in order.
    ///   - authorization: the `Authorization` header, if any.
    public func respond(
        method: String, path: String, query: [(String, String)], authorization: String?, body: Data
    ) async -> SimulatorResponse {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if segments.first == "_sim" {
            return admin(method: method, segments: Array(segments.dropFirst()), body: body)
        }
        let (faults, fault) = state.withLock { state -> (Faults, InjectedFault?) in
            state.apiRequests += 1
            if segments.count == 3, segments[1] == "devices" { state.listRequests[segments[0], default: 0] += 1 }
            let faults = state.faults
            if faults.rateLimitEvery > 0, state.apiRequests % faults.rateLimitEvery == 0 {
                return (faults, .rateLimited)
            }
            if faults.errorRate > 0, state.random.unit() < faults.errorRate { return (faults, .error) }
            if faults.malformedRate > 0, state.random.unit() < faults.malformedRate { return (faults, .malformed) }
            if faults.truncateRate > 0, state.random.unit() < faults.truncateRate { return (faults, .truncated) }
            return (faults, nil)
        }
        if faults.latency > 0 { try? await Task.sleep(for: .milliseconds(Int(faults.latency * 1000))) }
        switch fault {
        case .rateLimited:
            var response = error(429, "rate limit exceeded; retry after \(Int(faults.retryAfter.rounded(.up))) s")
            response.headers.append(("Retry-After", String(Int(faults.retryAfter.rounded(.up)))))
            return response
        case .error:
            return error(faults.errorStatus, "injected failure")
        default:
            break
        }
        var response = api(method: method, segments: segments, query: query, authorization: authorization)
        if response.status == 200 {
            if fault == .malformed {
                response.body = Data("<html><body>upstream hiccup</body></html>".utf8)
            } else if fault == .truncated {
                response.truncate = true
            }
        }
        return response
    }

    private enum InjectedFault { case rateLimited, error, malformed, truncated }

    // MARK: The Devices API

    private func api(method: String, segments: [String], query: [(String, String)], authorization: String?)
        -> SimulatorResponse
    {
        guard segments.count == 3 || segments.count == 4, segments[1] == "devices", segments[2] == "v2" else {
            return error(
                404,
                "no such route; the Devices API serves GET /{workspace}/devices/v2 and /{workspace}/devices/v2/{deviceId}"
            )
        }
        guard method == "GET" else { return error(405, "only GET is supported") }
        if let unsupported = query.first(where: { $0.0 != "api_key" }) {
            return error(400, "unsupported query parameter \"\(unsupported.0)\"")
        }
        var key: String?
        if let authorization, authorization.lowercased().hasPrefix("bearer ") {
            key = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        } else if let queryKey = query.first(where: { $0.0 == "api_key" })?.1 {
            key = queryKey
        }
        guard let key, !key.isEmpty else { return error(401, "missing API key") }

        let workspaceID = segments[0]
        let deviceID = segments.count == 4 ? segments[3] : nil
        let now = self.now
        var response = state.withLock { state -> SimulatorResponse in
            guard let owner = state.workspaces.first(where: { $0.value.apiKeys.contains { $0.key == key } }) else {
                return error(401, "invalid API key")
            }
            guard owner.key == workspaceID, let apiKey = owner.value.apiKeys.first(where: { $0.key == key }) else {
                return error(403, "this API key does not belong to workspace \"\(workspaceID)\"")
            }
            if let scopes = apiKey.scopes, !scopes.contains("device:read") {
                // A workspace key without the scope: the real service answers 404 with the error
                // type GraphMethodException (the official client reads it as an authorization
                // problem); a device-scoped key keeps the seed's 403.
                guard apiKey.device != nil else {
                    return error(
                        404, "Unsupported get request. This API key lacks the required scope: device:read",
                        type: "GraphMethodException")
                }
                return error(403, "this API key lacks the device:read scope")
            }
            let workspace = owner.value
            guard let deviceID else {
                if apiKey.device != nil { return error(403, "a device-scoped API key cannot list devices") }
                return json(200, DeviceList(data: workspace.devices.map { $0.snapshot(at: now) }))
            }
            if let bound = apiKey.device, bound != deviceID {
                return error(403, "this API key is scoped to another device")
            }
            guard let device = workspace.devices.first(where: { $0.id == deviceID }) else {
                return error(404, "device not found")
            }
            return json(200, device.snapshot(at: now))
        }
        response.date = now
        return response
    }

    // MARK: The admin API

    private func admin(method: String, segments: [String], body: Data) -> SimulatorResponse {
        let source = "\(method) /_sim/\(segments.joined(separator: "/"))"
        do {
            let route = AdminRoute(method: method, segments: segments)
            switch route {
            case .getClock:
                return clockResponse()
            case .advanceClock:
                let fields = try JSONCursor.parse(body, source: source).object(allowing: ["by"])
                guard let by = fields["by"] else {
                    return error(400, "\(source): the body needs \"by\", e.g. {\"by\": \"10m\"}")
                }
                let seconds = try by.duration()
                state.withLock { $0.clock.advance(by: seconds) }
                return clockResponse()
            case .getFaults:
                return json(200, FaultsBody(state.withLock { $0.faults }))
            case .getStats:
                // Devices API requests answered so far, faults included: tests count them.
                let (requests, lists) = state.withLock { ($0.apiRequests, $0.listRequests) }
                return json(200, Stats(requests: requests, listRequests: lists))
            case .putFaults:
                let faults = try Faults(JSONCursor.parse(body, source: source))
                state.withLock { $0.faults = faults }
                return json(200, FaultsBody(faults))
            case .putDevice(let workspace, let id):
                let device = try SimulatedDevice(JSONCursor.parse(body, source: source), origin: now, id: id)
                let created = state.withLock { state -> Bool in
                    var entry = state.workspaces[workspace] ?? Scenario.Workspace(apiKeys: [], devices: [])
                    defer { state.workspaces[workspace] = entry }
                    if let index = entry.devices.firstIndex(where: { $0.id == id }) {
                        entry.devices[index] = device
                        return false
                    }
                    entry.devices.append(device)
                    return true
                }
                return json(created ? 201 : 200, device.snapshot(at: now))
            case .deleteDevice(let workspace, let id):
                let removed = state.withLock { state -> Bool in
                    guard let index = state.workspaces[workspace]?.devices.firstIndex(where: { $0.id == id }) else {
                        return false
                    }
                    state.workspaces[workspace]?.devices.remove(at: index)
                    return true
                }
                return removed
                    ? SimulatorResponse(status: 204, headers: [], body: Data()) : error(404, "device not found")
            case .heartbeat(let workspace, let id):
                let now = self.now
                let device = state.withLock { state -> SimulatedDevice? in
                    guard let index = state.workspaces[workspace]?.devices.firstIndex(where: { $0.id == id }) else {
                        return nil
                    }
                    state.workspaces[workspace]?.devices[index].extraHeartbeats.append(now)
                    return state.workspaces[workspace]?.devices[index]
                }
                guard let device else { return error(404, "device not found") }
                return json(200, device.snapshot(at: now))
            case nil:
                return error(404, "no such admin route: \(source)")
            }
        } catch {
            return DeviceAPISimulator.error(400, "\(error)")
        }
    }

    private func clockResponse() -> SimulatorResponse {
        let elapsed = elapsed()
        let clock = state.withLock { $0.clock }
        return json(
            200,
            ClockBody(
                now: Timestamp.format(clock.now(elapsed: elapsed)), start: Timestamp.format(clock.start),
                timeScale: clock.timeScale))
    }
}

/// The admin API's routes.
private enum AdminRoute {
    case getClock, advanceClock, getFaults, putFaults, getStats
    case putDevice(workspace: String, id: String)
    case deleteDevice(workspace: String, id: String)
    case heartbeat(workspace: String, id: String)

    init?(method: String, segments: [String]) {
        switch (method, segments.count, segments.first) {
        case ("GET", 1, "clock"): self = .getClock
        case ("POST", 2, "clock") where segments[1] == "advance": self = .advanceClock
        case ("GET", 1, "faults"): self = .getFaults
        case ("PUT", 1, "faults"): self = .putFaults
        case ("GET", 1, "stats"): self = .getStats
        case ("PUT", 4, "workspaces") where segments[2] == "devices":
            self = .putDevice(workspace: segments[1], id: segments[3])
        case ("DELETE", 4, "workspaces") where segments[2] == "devices":
            self = .deleteDevice(workspace: segments[1], id: segments[3])
        case ("POST", 5, "workspaces") where segments[2] == "devices" && segments[4] == "heartbeat":
            self = .heartbeat(workspace: segments[1], id: segments[3])
        default: return nil
        }
    }
}

private struct Stats: Encodable {
    var requests: Int
    /// Device list requests by workspace.
    var listRequests: [String: Int]

    enum CodingKeys: String, CodingKey {
        case requests
        case listRequests = "list_requests"
    }
}

private struct DeviceList: Encodable {
    var data: [Device]
}

private struct ClockBody: Encodable {
    var now: String
    var start: String
    var timeScale: Double

    enum CodingKeys: String, CodingKey {
        case now, start
        case timeScale = "time_scale"
    }
}

private struct FaultsBody: Encodable {
    var latency: String
    var errorRate: Double
    var errorStatus: Int
    var rateLimitEvery: Int
    var retryAfter: String
    var malformedRate: Double
    var truncateRate: Double

    init(_ faults: Faults) {
        latency = DurationText.format(seconds: faults.latency)
        errorRate = faults.errorRate
        errorStatus = faults.errorStatus
        rateLimitEvery = faults.rateLimitEvery
        retryAfter = DurationText.format(seconds: faults.retryAfter)
        malformedRate = faults.malformedRate
        truncateRate = faults.truncateRate
    }

    enum CodingKeys: String, CodingKey {
        case latency
        case errorRate = "error_rate"
        case errorStatus = "error_status"
        case rateLimitEvery = "rate_limit_every"
        case retryAfter = "retry_after"
        case malformedRate = "malformed_rate"
        case truncateRate = "truncate_rate"
    }
}

private let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return encoder
}()

private func json(_ status: Int, _ value: some Encodable) -> SimulatorResponse {
    let body = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return SimulatorResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
}

/// An error as the Devices API writes it: `{"error": {"message": ..., "type": ...}}`.
private func error(_ status: Int, _ message: String, type: String? = nil) -> SimulatorResponse {
    var body = ["message": message, "status": String(status)]
    if let type { body["type"] = type }
    return json(status, ["error": body])
}
