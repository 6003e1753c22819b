import Foundation

/// One device's status over a window as consecutive spans, for drawing its timeline: what it
/// was in each stretch, with blind spots (no data) and stretches unlisted (before its first row,
/// or after it left the list) apart.
public enum StatusTimeline {
    public enum Kind: String, Sendable, Equatable {
        case online, offline, unknown
        case noData = "no data"
        case unlisted
    }

    public struct Span: Sendable, Equatable {
        public var interval: DateInterval
        public var kind: Kind
    }

    public static func spans(
        atStart: StatusChange?, changes: some RandomAccessCollection<StatusChange>, window: DateInterval,
        blind: [DateInterval]
    ) -> [Span] {
        var steps: [(Date, Kind)] = [(window.start, kind(atStart?.status, listed: atStart != nil))]
        for change in changes where change.at >= window.start && change.at < window.end {
            if steps.last?.0 == change.at { steps.removeLast() }
            steps.append((change.at, kind(change.status, listed: true)))
        }
        // Cut at every blind spot's edges: inside, no data (for a listed device).
        var cuts = Set(steps.map(\.0))
        for spot in blind {
            if spot.start > window.start, spot.start < window.end { cuts.insert(spot.start) }
            if spot.end > window.start, spot.end < window.end { cuts.insert(spot.end) }
        }
        let edges = cuts.sorted() + [window.end]
        var spans: [Span] = []
        var step = 0
        for index in 0..<(edges.count - 1) {
            let start = edges[index], end = edges[index + 1]
            guard end > start else { continue }
            while step + 1 < steps.count, steps[step + 1].0 <= start { step += 1 }
            var kind = steps[step].1
            if kind != .unlisted, blind.contains(where: { $0.start <= start && end <= $0.end }) { kind = .noData }
            if let last = spans.last, last.kind == kind, last.interval.end == start {
                spans[spans.count - 1].interval = DateInterval(start: last.interval.start, end: end)
            } else {
                spans.append(Span(interval: DateInterval(start: start, end: end), kind: kind))
            }
        }
        return spans
    }

    static func kind(_ status: DeviceStatus?, listed: Bool) -> Kind {
        guard listed, let status else { return .unlisted }
        switch status {
        case .online: return .online
        case .offline: return .offline
        case .unknown, .other: return .unknown
        }
    }
}
