import Foundation

/// How many devices were online, offline and unknown at evenly spaced moments of a window:
/// the status page's fleet chart. A moment in a blind spot of a device's workspace counts it
/// as no data.
public struct FleetChart: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var at: Date
        public var online = 0
        public var offline = 0
        public var unknown = 0
        public var noData = 0
    }

    public var points: [Point]

    /// - Parameter samples: how many moments, the first at the window's start, the last at its end.
    public static func build(_ history: FleetHistory, samples: Int, workspace: String? = nil) -> FleetChart {
        build(history.timelines(), samples: samples, workspace: workspace)
    }

    public static func build(_ timelines: FleetTimelines, samples: Int, workspace: String? = nil) -> FleetChart {
        let window = timelines.window
        let count = max(2, samples)
        let step = window.duration / Double(count - 1)
        var points = (0..<count).map { Point(at: window.start.addingTimeInterval(step * Double($0))) }
        // Whether each moment is in a blind spot, per workspace, worked out once.
        var unseen: [String: [Bool]] = [:]
        for (workspace, spots) in timelines.blind {
            unseen[workspace] = points.map { point in
                spots.contains { $0.start <= point.at && (point.at < $0.end || $0.end == window.end) }
            }
        }
        for timeline in timelines.devices {
            if let workspace, timeline.facts.workspace != workspace { continue }
            let blindAt = unseen[timeline.facts.workspace]
            // Before its first row a device is not counted (as if gone).
            var inForce = timeline.atStart.map { StatusMark($0).kind } ?? .gone
            let marks = timeline.changes.marks
            var next = marks.startIndex
            for index in points.indices {
                let moment = points[index].at
                while next < marks.endIndex, marks[next].at <= moment {
                    inForce = marks[next].kind
                    next += 1
                }
                if inForce == .gone { continue }
                if blindAt?[index] == true {
                    points[index].noData += 1
                    continue
                }
                switch inForce {
                case .online: points[index].online += 1
                case .offline: points[index].offline += 1
                case .unknown: points[index].unknown += 1
                case .gone: break
                }
            }
        }
        return FleetChart(points: points)
    }
}
