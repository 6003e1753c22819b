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
    struct State {
        var workspaces: [String: Scenario.Workspace]
        var clock: SimulatorClock
        var faults: Faults
        var random: SeededRandom
        var apiRequests = 0
        /// Device list requests per workspace named in the path: tests count pollers by them.
        var listRequests: [String: Int] = [:]
    }

    let state: Mutex<State>
    let elapsed: @Sendable () -> Double

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
}

private struct DeviceList: Encodable {
    var data: [Device]
}

/// Devices name their own keys as the API does: lists of thousands skip a conversion per key.
let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return encoder
}()

/// The admin API's bodies: their Swift names in snake_case, as the API writes keys.
let adminEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return encoder
}()

func json(_ status: Int, _ value: some Encodable, encoder: JSONEncoder = encoder) -> SimulatorResponse {
    let body = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return SimulatorResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
}

/// An error as the Devices API writes it: `{"error": {"message": ..., "type": ...}}`.
func error(_ status: Int, _ message: String, type: String? = nil) -> SimulatorResponse {
    var body = ["message": message, "status": String(status)]
    if let type { body["type"] = type }
    return json(status, ["error": body])
}
