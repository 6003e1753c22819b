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
        public var changes: Rows
    }

    /// One device's rows of the window, oldest first: positions in the log's rows, shared by
    /// every device's timeline (a month of a large fleet is a million rows, copied nowhere).
    public struct Rows: RandomAccessCollection, Sendable {
        let all: [StatusChange]
        let order: [Int32]
        let range: Range<Int>

        public init(_ rows: [StatusChange]) {
            all = rows
            order = rows.indices.map { Int32($0) }
            range = 0..<rows.count
        }

        init(all: [StatusChange], order: [Int32], range: Range<Int>) {
            self.all = all
            self.order = order
            self.range = range
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { range.count }
        public subscript(position: Int) -> StatusChange { all[Int(order[range.lowerBound + position])] }
    }

    /// Every device the log names in the window (with its facts where known), in workspace and
    /// device order, and each workspace's blind spots: what reports and charts work from, worked
    /// out once per view.
    public func timelines() -> FleetTimelines {
        // Each device's position (per workspace: one string hash per row), then the rows put in
        // device order by counting (no row is copied; a month of a large fleet is a million).
        var positions: [String: [String: Int]] = [:]
        var known: [KnownDevice] = []
        var starts: [StatusChange?] = []
        var facts: [String: [String: KnownDevice]] = [:]
        for device in devices { facts[device.workspace, default: [:]][device.deviceID] = device }
        func position(_ row: StatusChange) -> Int {
            if let found = positions[row.workspace]?[row.deviceID] { return found }
            known.append(
                facts[row.workspace]?[row.deviceID] ?? KnownDevice(workspace: row.workspace, deviceID: row.deviceID))
            starts.append(nil)
            positions[row.workspace, default: [:]][row.deviceID] = known.count - 1
            return known.count - 1
        }
        for row in log.atStart { starts[position(row)] = row }
        let rows = log.changes
        var owner = [Int32](repeating: 0, count: rows.count)
        // One workspace (the usual case): a flat lookup, one hash per row.
        let only = rows.first?.workspace ?? positions.keys.first
        if let only, positions.keys.allSatisfy({ $0 == only }), rows.allSatisfy({ $0.workspace == only }) {
            var flat = positions[only] ?? [:]
            for index in rows.indices {
                if let found = flat[rows[index].deviceID] {
                    owner[index] = Int32(found)
                } else {
                    let added = position(rows[index])
                    flat[rows[index].deviceID] = added
                    owner[index] = Int32(added)
                }
            }
        } else {
            for index in rows.indices { owner[index] = Int32(position(rows[index])) }
        }
        var offsets = [Int](repeating: 0, count: known.count + 1)
        for device in owner { offsets[Int(device) + 1] += 1 }
        for device in 0..<known.count { offsets[device + 1] += offsets[device] }
        var next = offsets
        var order = [Int32](repeating: 0, count: rows.count)
        for index in rows.indices {
            let device = Int(owner[index])
            order[next[device]] = Int32(index)
            next[device] += 1
        }
        var list: [Timeline] = known.indices.map { device in
            Timeline(
                facts: known[device], atStart: starts[device],
                changes: Rows(all: rows, order: order, range: offsets[device]..<offsets[device + 1]))
        }
        var spans: [String: [CoverageSpan]] = [:]
        for span in coverage { spans[span.workspace, default: []].append(span) }
        var blind: [String: [DateInterval]] = [:]
        for workspace in Set(list.map(\.facts.workspace)).union(spans.keys) {
            blind[workspace] = Coverage.blindSpots(spans: spans[workspace] ?? [], window: window, reachesNow: now)
        }
        list.sort { ($0.facts.workspace, $0.facts.deviceID) < ($1.facts.workspace, $1.facts.deviceID) }
        return FleetTimelines(window: window, devices: list, blind: blind)
    }
}

/// A window of history per device: each device's rows, and each workspace's blind spots (sorted).
public struct FleetTimelines: Sendable {
    public var window: DateInterval
    public var devices: [FleetHistory.Timeline]
    public var blind: [String: [DateInterval]]
}
