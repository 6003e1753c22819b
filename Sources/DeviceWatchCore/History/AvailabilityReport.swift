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
        struct Tally {
            var workspace: String?
            var name: String?
            var devices = 0
            var downNow = 0
            var figures: [AvailabilityFigures] = []
            var segmentFigures: [[AvailabilityFigures]]
        }
        var groups: [String: Tally] = [:]
        var all = Tally(segmentFigures: Array(repeating: [], count: parts.count))
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
            var tally =
                groups[key]
                ?? Tally(
                    workspace: grouping == .device ? facts.workspace : nil,
                    name: grouping == .device ? facts.name : nil,
                    segmentFigures: Array(repeating: [], count: parts.count))
            tally.devices += 1
            tally.downNow += down
            tally.figures.append(figures)
            all.devices += 1
            all.downNow += down
            all.figures.append(figures)
            for index in perSegment.indices {
                tally.segmentFigures[index].append(perSegment[index])
                all.segmentFigures[index].append(perSegment[index])
            }
            groups[key] = tally
        }
        func row(_ key: String, _ tally: Tally) -> Row {
            let figures = AvailabilityFigures.combined(tally.figures)
            return Row(
                key: key, name: tally.name, workspace: tally.workspace, devices: tally.devices,
                downNow: tally.downNow, figures: figures,
                segments: tally.segmentFigures.map { AvailabilityFigures.combined($0).availability },
                missedTarget: target.flatMap { target in figures.availability.map { $0 < target } })
        }
        let rows = groups.map { row($0.key, $0.value) }.sorted(by: Self.worstFirst)
        return AvailabilityReport(
            window: window, grouping: grouping, target: target, rows: rows, total: row("total", all))
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
