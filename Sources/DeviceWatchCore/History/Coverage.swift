import Foundation

/// A stretch of time over which devicewatch saw a workspace: its polls succeeded with no gap
/// longer than ``Coverage/gap(pollEvery:)``. Outside every span of a workspace is a blind spot
/// (the worker was down, or its polls failed), which availability counts as no data, never as
/// up or down. Times are on the API's clock, like the status log's.
public struct CoverageSpan: Sendable, Equatable, Codable, CustomStringConvertible {
    public var workspace: String
    public var start: Date
    /// The latest poll written for the span: it lags the latest poll by at most ``Coverage/writeEvery``.
    public var end: Date

    public init(workspace: String, start: Date, end: Date) {
        self.workspace = workspace
        self.start = start
        self.end = end
    }

    public var description: String { "\(workspace) seen \(Timestamp.format(start)) to \(Timestamp.format(end))" }
}

public enum Coverage {
    /// How often a span's end is written while polls go on: a span costs one small write a
    /// minute, and a crash loses at most a minute of it (shown as no data).
    public static let writeEvery: Duration = .seconds(60)

    /// The longest pause between two successful polls that still counts as seeing the workspace
    /// throughout: three poll intervals, and never less than three minutes (a slow poll of a
    /// large fleet, a retried request).
    public static func gap(pollEvery: Duration) -> Duration { max(pollEvery * 3, .minutes(3)) }

    /// The parts of `window` outside every span (of one workspace): its blind spots, in order.
    /// - Parameter reachesNow: the time the newest span is taken to reach when it is still
    ///   going (its end lags the latest poll by up to ``writeEvery``); nil: as written.
    public static func blindSpots(spans: [CoverageSpan], window: DateInterval, reachesNow: Date? = nil)
        -> [DateInterval]
    {
        var sorted = spans.sorted { $0.start < $1.start }
        if let reachesNow, let last = sorted.indices.last, reachesNow.duration(since: sorted[last].end) <= writeEvery {
            sorted[last].end = max(sorted[last].end, reachesNow)
        }
        var blind: [DateInterval] = []
        var reach = window.start
        for span in sorted {
            if span.start > reach, reach < window.end {
                blind.append(DateInterval(start: reach, end: min(span.start, window.end)))
            }
            reach = max(reach, span.end)
        }
        if reach < window.end { blind.append(DateInterval(start: reach, end: window.end)) }
        return blind
    }
}
