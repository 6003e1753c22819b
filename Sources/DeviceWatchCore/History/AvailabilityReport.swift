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
        build(
            history.timelines(), by: [grouping], target: target, segments: segments, workspace: workspace,
            deviceID: deviceID)[0]
    }

    /// One report per grouping, each device's figures worked out once for all of them.
    /// - Parameter barsOnly: only what an uptime bar shows (time online and offline per segment,
    ///   and in all): outages, the longest and the mean time to recover are left at zero, and each
    ///   device's rows are walked once instead of twice (the status page's views).
    public static func build(
        _ timelines: FleetTimelines, by groupings: [HistoryGrouping], target: Double? = nil, segments: Int = 0,
        workspace: String? = nil, deviceID: String? = nil, barsOnly: Bool = false
    ) -> [AvailabilityReport] {
        let window = timelines.window
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
            /// Seconds online and offline per part.
            var segments: [SeenTime]

            mutating func add(_ figures: AvailabilityFigures, segments perSegment: [SeenTime], down: Int) {
                devices += 1
                downNow += down
                self.figures.add(figures)
                for index in perSegment.indices {
                    segments[index].online += perSegment[index].online
                    segments[index].offline += perSegment[index].offline
                }
            }

            var segmentAvailability: [Double?] {
                segments.map { $0.online + $0.offline > 0 ? $0.online / ($0.online + $0.offline) : nil }
            }
        }
        var positions = Array(repeating: [String: Int](), count: groupings.count)
        var tallies = Array(repeating: [Tally](), count: groupings.count)
        let noSegments = Array(repeating: SeenTime(), count: parts.count)
        var all = Tally(key: "total", segments: noSegments)
        for timeline in timelines.devices {
            let facts = timeline.facts
            if let workspace, facts.workspace != workspace { continue }
            if let deviceID, facts.deviceID != deviceID { continue }
            let spots = timelines.blind[facts.workspace] ?? []
            let perSegment = parts.isEmpty ? [] : Availability.seenTime(timeline, parts: parts, blind: spots)
            var figures = AvailabilityFigures()
            if barsOnly, !perSegment.isEmpty {
                for part in perSegment {
                    figures.online += part.online
                    figures.offline += part.offline
                }
            } else {
                figures = Availability.figures(
                    atStart: timeline.atStart.map { StatusMark($0).kind }, marks: timeline.changes.marks,
                    window: window, blind: spots)
            }
            let last = timeline.changes.last ?? timeline.atStart
            let down = last?.status == .offline ? 1 : 0
            for (which, grouping) in groupings.enumerated() {
                let key = grouping.group(of: facts)
                let position =
                    positions[which][key]
                    ?? {
                        tallies[which].append(
                            Tally(
                                key: key, workspace: grouping == .device ? facts.workspace : nil,
                                name: grouping == .device ? facts.name : nil, segments: noSegments))
                        positions[which][key] = tallies[which].count - 1
                        return tallies[which].count - 1
                    }()
                tallies[which][position].add(figures, segments: perSegment, down: down)
            }
            all.add(figures, segments: perSegment, down: down)
        }
        func row(_ tally: Tally) -> Row {
            Row(
                key: tally.key, name: tally.name, workspace: tally.workspace, devices: tally.devices,
                downNow: tally.downNow, figures: tally.figures, segments: tally.segmentAvailability,
                missedTarget: target.flatMap { target in tally.figures.availability.map { $0 < target } })
        }
        return groupings.indices.map { which in
            AvailabilityReport(
                window: window, grouping: groupings[which], target: target,
                rows: tallies[which].map(row).sorted(by: Self.worstFirst), total: row(all))
        }
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

/// Seconds seen online and offline (blind spots left out): what an availability is made of.
public struct SeenTime: Sendable, Equatable {
    public var online = 0.0
    public var offline = 0.0
}

extension Availability {
    /// One device's seconds online and offline in each of `parts` (consecutive, oldest first,
    /// covering the window), in one pass over its rows: what the uptime bar colours by.
    static func seenTime(_ timeline: FleetHistory.Timeline, parts: [DateInterval], blind: [DateInterval])
        -> [SeenTime]
    {
        var result = Array(repeating: SeenTime(), count: parts.count)
        guard let first = parts.first, let last = parts.last else { return result }
        let windowStart = first.start, windowEnd = last.end
        // One pass, each step counted when the next begins (a step the next one starts at the
        // same moment as counts for nothing). Clipped to the window.
        var stepStart = windowStart
        var kind = timeline.atStart.map { StatusMark($0).kind } ?? .gone
        var part = 0
        func count(until end: Date) {
            guard kind == .online || kind == .offline else { return }
            var start = stepStart
            while part < parts.count, parts[part].end <= start { part += 1 }
            var current = part
            while start < end, current < parts.count {
                let pieceEnd = min(end, parts[current].end)
                let piece = DateInterval(start: start, end: max(start, pieceEnd))
                let seen = piece.duration - (blind.isEmpty ? 0 : blindSeconds(in: piece, blind))
                if kind == .online { result[current].online += seen } else { result[current].offline += seen }
                start = pieceEnd
                current += 1
            }
        }
        for mark in timeline.changes.marks where mark.at >= windowStart && mark.at < windowEnd {
            count(until: mark.at)
            stepStart = mark.at
            kind = mark.kind
        }
        count(until: windowEnd)
        return result
    }
}
