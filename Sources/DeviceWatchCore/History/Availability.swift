import Foundation

/// How available devices were over a window, worked out from the device status log: time
/// online, offline and unknown, time devicewatch could not see (no data: never counted as up or
/// down), availability = online / (online + offline), outages, the longest, and the mean time to
/// recover. Pure: the log's rows, the window and the blind spots are arguments.
public struct AvailabilityFigures: Sendable, Equatable {
    /// Seconds in each status within the window (seen by devicewatch).
    public var online = 0.0
    public var offline = 0.0
    /// Never heard from, or a status this version does not know.
    public var unknown = 0.0
    /// Seconds the device was listed but devicewatch could not see its workspace.
    public var noData = 0.0
    /// Offline periods overlapping the window.
    public var outages = 0
    /// The longest of them, in seconds within the window.
    public var longestOutage = 0.0
    /// Seconds of the outages that ended back online within the window, and how many.
    public var recoveredSeconds = 0.0
    public var recoveries = 0

    public init() {}

    /// `online / (online + offline)`; nil when the device was neither (all unknown or no data).
    public var availability: Double? { online + offline > 0 ? online / (online + offline) : nil }

    /// The mean length of the outages that recovered within the window; nil without one.
    public var meanTimeToRecover: Double? { recoveries > 0 ? recoveredSeconds / Double(recoveries) : nil }

    /// Several devices' figures together (a group's, a workspace's): times and counts add up,
    /// the longest outage is the longest of any.
    public static func combined(_ parts: some Sequence<AvailabilityFigures>) -> AvailabilityFigures {
        var total = AvailabilityFigures()
        for part in parts { total.add(part) }
        return total
    }

    /// Adds another device's figures to these (see ``combined(_:)``).
    public mutating func add(_ part: AvailabilityFigures) {
        online += part.online
        offline += part.offline
        unknown += part.unknown
        noData += part.noData
        outages += part.outages
        longestOutage = max(longestOutage, part.longestOutage)
        recoveredSeconds += part.recoveredSeconds
        recoveries += part.recoveries
    }
}

public enum Availability {
    /// One device's figures over `window`.
    /// - Parameters:
    ///   - atStart: its newest row before the window starts (its status as the window opens); nil
    ///     when the log has none (the device is counted from its first row within the window).
    ///   - changes: its rows within the window, oldest first.
    ///   - blind: when devicewatch could not see the device's workspace, in any order.
    public static func device(
        atStart: StatusChange?, changes: some RandomAccessCollection<StatusChange>, window: DateInterval,
        blind: [DateInterval] = []
    ) -> AvailabilityFigures {
        figures(
            atStart: atStart.map { StatusMark($0).kind }, marks: changes.map(StatusMark.init), window: window,
            blind: blind)
    }

    /// ``device(atStart:changes:window:blind:)`` over the rows as marks (what reports walk).
    static func figures(
        atStart: StatusMark.Kind?, marks: some Collection<StatusMark>, window: DateInterval, blind: [DateInterval]
    ) -> AvailabilityFigures {
        let blind = blind.count > 1 ? blind.sorted { $0.start < $1.start } : blind
        var figures = AvailabilityFigures()
        var outage: Double?
        func endOutage(recovered: Bool) {
            guard let length = outage else { return }
            figures.longestOutage = max(figures.longestOutage, length)
            if recovered {
                figures.recoveredSeconds += length
                figures.recoveries += 1
            }
            outage = nil
        }
        // Each step (clipped to the window) is counted when the next begins; one that the next
        // starts at the same moment as counts for nothing. Before the first row: not listed.
        var stepStart = window.start
        var kind = atStart ?? .gone
        func count(until end: Date) {
            let segment = DateInterval(start: stepStart, end: max(stepStart, end))
            guard segment.duration > 0 else { return }
            guard kind != .gone else {
                endOutage(recovered: false)
                return
            }
            let unseen = blindSeconds(in: segment, blind)
            let seen = segment.duration - unseen
            figures.noData += unseen
            switch kind {
            case .online:
                endOutage(recovered: true)
                figures.online += seen
            case .offline:
                if outage == nil { figures.outages += 1 }
                outage = (outage ?? 0) + segment.duration
                figures.offline += seen
            case .unknown:
                endOutage(recovered: false)
                figures.unknown += seen
            case .gone: break
            }
        }
        for mark in marks where mark.at >= window.start && mark.at < window.end {
            count(until: mark.at)
            stepStart = mark.at
            kind = mark.kind
        }
        count(until: window.end)
        // An outage still going at the window's end counts, not as a recovery.
        endOutage(recovered: false)
        return figures
    }

    /// Seconds of `segment` inside the union of `blind` (sorted by start).
    static func blindSeconds(in segment: DateInterval, _ blind: [DateInterval]) -> Double {
        var covered = 0.0
        var reach = segment.start
        for spot in blind {
            if spot.start >= segment.end { break }
            let start = max(spot.start, reach), end = min(spot.end, segment.end)
            if end > start {
                covered += end.timeIntervalSince(start)
                reach = end
            }
        }
        return covered
    }
}
