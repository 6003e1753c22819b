import DeviceWatchCore
import Foundation
import Synchronization

/// The simulator's admin API (`/_sim/`): its clock, faults, counts, and devices changed by hand.
extension DevicesAPISimulator {
    func admin(method: String, segments: [String], body: Data) -> SimulatorResponse {
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
                return json(200, FaultsBody(state.withLock { $0.faults }), encoder: adminEncoder)
            case .getStats:
                // Devices API requests answered so far, faults included: tests count them.
                let (requests, lists) = state.withLock { ($0.apiRequests, $0.listRequests) }
                return json(200, Stats(requests: requests, listRequests: lists), encoder: adminEncoder)
            case .putFaults:
                let faults = try Faults(JSONCursor.parse(body, source: source))
                state.withLock { $0.faults = faults }
                return json(200, FaultsBody(faults), encoder: adminEncoder)
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
                timeScale: clock.timeScale), encoder: adminEncoder)
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
}

private struct ClockBody: Encodable {
    var now: String
    var start: String
    var timeScale: Double
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
}
