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
        /// The same rows as their times and statuses alone, in `order`: what the sums and the
        /// chart walk (no string to retain per row).
        let allMarks: [StatusMark]

        public init(_ rows: [StatusChange]) {
            all = rows
            order = rows.indices.map { Int32($0) }
            range = 0..<rows.count
            allMarks = rows.map(StatusMark.init)
        }

        init(all: [StatusChange], order: [Int32], marks: [StatusMark], range: Range<Int>) {
            self.all = all
            self.order = order
            self.allMarks = marks
            self.range = range
        }

        /// This device's rows as marks, oldest first.
        var marks: ArraySlice<StatusMark> { allMarks[range] }

        public var startIndex: Int { 0 }
        public var endIndex: Int { range.count }
        public subscript(position: Int) -> StatusChange { all[Int(order[range.lowerBound + position])] }
    }

    /// Every device the log names in the window (with its facts where known), in workspace and
    /// device order, and each workspace's blind spots: what reports and charts work from, worked
    /// out once per view.
    public func timelines() -> FleetTimelines {
        // Each device's position (per workspace: one string hash per row, none for a row of the
        // same device as the row before, as the reader hands them over), then the rows put in
        // device order by counting (no row is copied; a month of a large fleet is a million).
        var positions: [String: [String: Int]] = [:]
        var known: [KnownDevice] = []
        var starts: [StatusChange?] = []
        var facts: [String: [String: KnownDevice]] = [:]
        for device in devices {
            facts[device.workspace, default: Dictionary(minimumCapacity: devices.count)][device.deviceID] = device
        }
        func position(_ row: StatusChange) -> Int {
            if let found = positions[row.workspace]?[row.deviceID] { return found }
            known.append(
                facts[row.workspace]?[row.deviceID] ?? KnownDevice(workspace: row.workspace, deviceID: row.deviceID))
            starts.append(nil)
            positions[row.workspace, default: Dictionary(minimumCapacity: devices.count)][row.deviceID] =
                known.count - 1
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
                if index > 0, rows[index].deviceID == rows[index - 1].deviceID {
                    owner[index] = owner[index - 1]
                } else if let found = flat[rows[index].deviceID] {
                    owner[index] = Int32(found)
                } else {
                    let added = position(rows[index])
                    flat[rows[index].deviceID] = added
                    owner[index] = Int32(added)
                }
            }
        } else {
            for index in rows.indices {
                if index > 0, rows[index].deviceID == rows[index - 1].deviceID,
                    rows[index].workspace == rows[index - 1].workspace
                {
                    owner[index] = owner[index - 1]
                } else {
                    owner[index] = Int32(position(rows[index]))
                }
            }
        }
        var offsets = [Int](repeating: 0, count: known.count + 1)
        for device in owner { offsets[Int(device) + 1] += 1 }
        for device in 0..<known.count { offsets[device + 1] += offsets[device] }
        var next = offsets
        var order = [Int32](repeating: 0, count: rows.count)
        var marks = [StatusMark](repeating: StatusMark(at: window.start, kind: .gone), count: rows.count)
        for index in rows.indices {
            let device = Int(owner[index])
            order[next[device]] = Int32(index)
            marks[next[device]] = StatusMark(rows[index])
            next[device] += 1
        }
        var list: [Timeline] = known.indices.map { device in
            Timeline(
                facts: known[device], atStart: starts[device],
                changes: Rows(all: rows, order: order, marks: marks, range: offsets[device]..<offsets[device + 1]))
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

/// A status log row as the history's sums read it: when, and which way it counts. Plain values
/// only, so walking a million of them retains nothing.
struct StatusMark: Sendable {
    enum Kind: UInt8, Sendable {
        /// No longer listed.
        case gone
        case online, offline
        /// Unknown, or a status this version does not know.
        case unknown
    }

    var at: Date
    var kind: Kind

    init(at: Date, kind: Kind) {
        self.at = at
        self.kind = kind
    }

    init(_ row: StatusChange) {
        at = row.at
        switch row.status {
        case nil: kind = .gone
        case .online: kind = .online
        case .offline: kind = .offline
        case .unknown, .other: kind = .unknown
        }
    }
}
