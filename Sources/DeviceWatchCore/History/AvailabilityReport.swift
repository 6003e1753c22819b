import Foundation

/// Availability over a window, per device or per group, worst first, with a total: what
/// `devicewatch report availability`, `/api/v1/availability` and the status page show.
public struct AvailabilityReport: Sendable {
    public struct Row: Sendable {
        /// The device id, or the group's value (`site-b`, `jetson`, `(none)`).
        public var key: String
        /// The device's name (device rows only).
        public var name: String?
        public var workspace: String?
        public var devices: Int
        /// Devices whose latest status in the window is offline.
        public var downNow: Int
        public var figures: AvailabilityFigures
        /// Availability per segment of the window, oldest first (nil: no data in it), when asked.
        public var segments: [Double?]
        /// Whether it missed the report's target (nil without a target, or without data).
        public var missedTarget: Bool?
    }

    public var window: DateInterval
    public var grouping: HistoryGrouping
    /// The availability asked of every row, as a fraction (0.995), if any.
    public var target: Double?
    public var rows: [Row]
    public var total: Row

    /// - Parameters:
    ///   - deviceID: only this device (any grouping still applies).
    ///   - segments: how many equal parts of the window to give each row's availability for (the
    ///     uptime bar); 0 for none.
    public static func build(
        _ history: FleetHistory, by grouping: HistoryGrouping, target: Double? = nil, segments: Int = 0,
        workspace: String? = nil, deviceID: String? = nil
    ) -> AvailabilityReport {
        let (timelines, blind) = history.timelines()
        let window = history.window
        let parts = segments > 0 ? Self.parts(of: window, count: segments) : []
        // Figures are added up as devices are met, in place (a tally copied out of a dictionary
        // and back for each device made a 10,000-device group quadratic).
        struct Tally {
            var key: String
            var workspace: String?
            var name: String?
            var devices = 0
            var downNow = 0
            var figures = AvailabilityFigures()
            var segments: [AvailabilityFigures]

            mutating func add(_ figures: AvailabilityFigures, segments perSegment: [AvailabilityFigures], down: Int) {
                devices += 1
                downNow += down
                self.figures.add(figures)
                for index in perSegment.indices { segments[index].add(perSegment[index]) }
            }
        }
        var positions: [String: Int] = [:]
        var tallies: [Tally] = []
        let noSegments = Array(repeating: AvailabilityFigures(), count: parts.count)
        var all = Tally(key: "total", segments: noSegments)
        for timeline in timelines {
            let facts = timeline.facts
            if let workspace, facts.workspace != workspace { continue }
            if let deviceID, facts.deviceID != deviceID { continue }
            let spots = blind[facts.workspace] ?? []
            let figures = Availability.device(
                atStart: timeline.atStart, changes: timeline.changes, window: window, blind: spots)
            let perSegment = parts.isEmpty ? [] : Availability.segments(timeline, parts: parts, blind: spots)
            let last = timeline.changes.last ?? timeline.atStart
            let down = last?.status == .offline ? 1 : 0
            let key = grouping.group(of: facts)
            let position =
                positions[key]
                ?? {
                    tallies.append(
                        Tally(
                            key: key, workspace: grouping == .device ? facts.workspace : nil,
                            name: grouping == .device ? facts.name : nil, segments: noSegments))
                    positions[key] = tallies.count - 1
                    return tallies.count - 1
                }()
            tallies[position].add(figures, segments: perSegment, down: down)
            all.add(figures, segments: perSegment, down: down)
        }
        func row(_ tally: Tally) -> Row {
            Row(
                key: tally.key, name: tally.name, workspace: tally.workspace, devices: tally.devices,
                downNow: tally.downNow, figures: tally.figures, segments: tally.segments.map(\.availability),
                missedTarget: target.flatMap { target in tally.figures.availability.map { $0 < target } })
        }
        let rows = tallies.map(row).sorted(by: Self.worstFirst)
        return AvailabilityReport(window: window, grouping: grouping, target: target, rows: rows, total: row(all))
    }

    /// Lowest availability first; rows without data last; then by key.
    static func worstFirst(_ lhs: Row, _ rhs: Row) -> Bool {
        switch (lhs.figures.availability, rhs.figures.availability) {
        case (let left?, let right?) where left != right: return left < right
        case (nil, _?): return false
        case (_?, nil): return true
        default: return (lhs.workspace ?? "", lhs.key) < (rhs.workspace ?? "", rhs.key)
        }
    }

    /// `count` equal parts of `window`, oldest first.
    public static func parts(of window: DateInterval, count: Int) -> [DateInterval] {
        let step = window.duration / Double(count)
        return (0..<count).map { index in
            DateInterval(
                start: window.start.addingTimeInterval(step * Double(index)),
                end: index == count - 1 ? window.end : window.start.addingTimeInterval(step * Double(index + 1)))
        }
    }
}

extension Availability {
    /// One device's figures in each of `parts` (consecutive, oldest first), in one pass over its
    /// rows: each part starts from the status in force at its start.
    static func segments(_ timeline: FleetHistory.Timeline, parts: [DateInterval], blind: [DateInterval])
        -> [AvailabilityFigures]
    {
        var result: [AvailabilityFigures] = []
        result.reserveCapacity(parts.count)
        var inForce = timeline.atStart
        var next = 0
        let changes = timeline.changes
        for part in parts {
            while next < changes.count, changes[next].at < part.start {
                inForce = changes[next]
                next += 1
            }
            var end = next
            while end < changes.count, changes[end].at < part.end { end += 1 }
            result.append(
                device(atStart: inForce, changes: Array(changes[next..<end]), window: part, blind: blind))
        }
        return result
    }
}
