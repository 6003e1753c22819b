import Foundation

/// What the state store holds of a window of fleet history, gathered for the report and the
/// status page: the status log's window, when devicewatch saw each workspace, and the devices'
/// facts. Pure data; ``AvailabilityReport`` and ``FleetChart`` work from it.
public struct FleetHistory: Sendable {
    public var window: DateInterval
    public var log: StatusHistory
    public var coverage: [CoverageSpan]
    public var devices: [KnownDevice]
    /// The API's clock when it was read: the newest coverage span is taken to reach it when it
    /// is still going (its end is written once a minute).
    public var now: Date

    public init(window: DateInterval, log: StatusHistory, coverage: [CoverageSpan], devices: [KnownDevice], now: Date) {
        self.window = window
        self.log = log
        self.coverage = coverage
        self.devices = devices
        self.now = now
    }

    /// One device's rows: its status as the window starts and its changes within it.
    public struct Timeline: Sendable {
        public var facts: KnownDevice
        public var atStart: StatusChange?
        public var changes: [StatusChange]
    }

    /// Every device the log names in the window (with its facts where known), in workspace and
    /// device order, and each workspace's blind spots.
    public func timelines() -> (devices: [Timeline], blind: [String: [DateInterval]]) {
        struct Key: Hashable {
            var workspace: String
            var device: String
        }
        var byDevice: [Key: Timeline] = [:]
        var facts: [Key: KnownDevice] = [:]
        for device in devices { facts[Key(workspace: device.workspace, device: device.deviceID)] = device }
        func timeline(_ key: Key) -> Timeline {
            Timeline(
                facts: facts[key] ?? KnownDevice(workspace: key.workspace, deviceID: key.device), atStart: nil,
                changes: [])
        }
        for row in log.atStart {
            let key = Key(workspace: row.workspace, device: row.deviceID)
            var entry = byDevice[key] ?? timeline(key)
            entry.atStart = row
            byDevice[key] = entry
        }
        for row in log.changes {
            let key = Key(workspace: row.workspace, device: row.deviceID)
            byDevice[key, default: timeline(key)].changes.append(row)
        }
        var spans: [String: [CoverageSpan]] = [:]
        for span in coverage { spans[span.workspace, default: []].append(span) }
        var blind: [String: [DateInterval]] = [:]
        for workspace in Set(byDevice.keys.map(\.workspace)).union(spans.keys) {
            blind[workspace] = Coverage.blindSpots(spans: spans[workspace] ?? [], window: window, reachesNow: now)
        }
        let sorted = byDevice.sorted { ($0.key.workspace, $0.key.device) < ($1.key.workspace, $1.key.device) }
        return (sorted.map(\.value), blind)
    }
}
