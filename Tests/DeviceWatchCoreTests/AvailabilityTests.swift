import DeviceWatchCore
import Foundation
import Testing

/// Availability from the status log, by tables: each case a device's rows against a day.
@Suite("Availability")
struct AvailabilityTests {
    static let t0 = Timestamp.parse("2026-11-28T00:00:00Z")!
    static let day = DateInterval(start: t0, duration: 86_400)

    /// `(hours after t0, status or "gone")`
    static func rows(_ list: [(Double, String)]) -> [StatusChange] {
        list.map {
            StatusChange(workspace: "acme", deviceID: "cam", statusText: $0.1, at: t0.addingTimeInterval($0.0 * 3600))
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var atStart: String?
        var changes: [(Double, String)]
        var blind: [(Double, Double)] = []
        /// online, offline, unknown, no data (hours); outages, longest (hours), mean time to recover (hours).
        var hours: [Double]
        var outages: Int
        var longest: Double
        var mttr: Double?
        var availability: Double?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "online all day", atStart: "online", changes: [], hours: [24, 0, 0, 0], outages: 0, longest: 0,
            mttr: nil, availability: 1),
        Case(
            name: "two outages, both recovered", atStart: "online",
            changes: [(2, "offline"), (3, "online"), (10, "offline"), (13, "online")], hours: [20, 4, 0, 0],
            outages: 2, longest: 3, mttr: 2, availability: 20.0 / 24),
        Case(
            name: "down as the day opens, back at 6", atStart: "offline", changes: [(6, "online")],
            hours: [18, 6, 0, 0], outages: 1, longest: 6, mttr: 6, availability: 0.75),
        Case(
            name: "still down at the end: an outage, not a recovery", atStart: "online", changes: [(20, "offline")],
            hours: [20, 4, 0, 0], outages: 1, longest: 4, mttr: nil, availability: 20.0 / 24),
        Case(
            name: "a blind spot is no data, never up or down", atStart: "online", changes: [(12, "offline")],
            blind: [(10, 14)], hours: [10, 10, 0, 4], outages: 1, longest: 12, mttr: nil, availability: 0.5),
        Case(
            name: "provisioned at 8, unknown until 9", atStart: nil, changes: [(8, "unknown"), (9, "online")],
            hours: [15, 0, 1, 0], outages: 0, longest: 0, mttr: nil, availability: 1),
        Case(
            name: "removed at 12: not counted after", atStart: "online", changes: [(6, "offline"), (12, "gone")],
            hours: [6, 6, 0, 0], outages: 1, longest: 6, mttr: nil, availability: 0.5),
        Case(
            name: "never heard from", atStart: "unknown", changes: [], hours: [0, 0, 24, 0], outages: 0, longest: 0,
            mttr: nil, availability: nil),
        Case(
            name: "two rows at one moment: the later one holds", atStart: "online",
            changes: [(6, "offline"), (6, "online"), (18, "offline")], hours: [18, 6, 0, 0], outages: 1,
            longest: 6, mttr: nil, availability: 0.75),
        Case(
            name: "a row as the day opens replaces the status before it", atStart: "online",
            changes: [(0, "offline"), (4, "online")], hours: [20, 4, 0, 0], outages: 1, longest: 4, mttr: 4,
            availability: 20.0 / 24),
        Case(
            name: "an outage the device leaves by going unknown is not a recovery", atStart: "offline",
            changes: [(2, "unknown"), (3, "online")], hours: [21, 2, 1, 0], outages: 1, longest: 2, mttr: nil,
            availability: 21.0 / 23),
        Case(
            name: "overlapping blind spots count once", atStart: "online", changes: [], blind: [(1, 3), (2, 4)],
            hours: [21, 0, 0, 3], outages: 0, longest: 0, mttr: nil, availability: 1),
    ]

    @Test(arguments: cases)
    func aDevicesDay(_ example: Case) {
        let atStart = example.atStart.map {
            StatusChange(
                workspace: "acme", deviceID: "cam", statusText: $0, at: Self.t0.addingTimeInterval(-3600))
        }
        let blind = example.blind.map {
            DateInterval(start: Self.t0.addingTimeInterval($0.0 * 3600), end: Self.t0.addingTimeInterval($0.1 * 3600))
        }
        let figures = Availability.device(
            atStart: atStart, changes: Self.rows(example.changes), window: Self.day, blind: blind)
        #expect(
            [figures.online, figures.offline, figures.unknown, figures.noData].map { $0 / 3600 } == example.hours)
        #expect(figures.outages == example.outages)
        #expect(figures.longestOutage / 3600 == example.longest)
        #expect(figures.meanTimeToRecover.map { $0 / 3600 } == example.mttr)
        #expect(figures.availability == example.availability)

        // The status page's bars walk the rows another way (per part, online and offline only):
        // they add up to the same, and each part's availability is the device's over that part.
        let rows = Self.rows(example.changes)
        let history = FleetHistory(
            window: Self.day, log: StatusHistory(atStart: atStart.map { [$0] } ?? [], changes: rows),
            coverage: Self.coverage(leaving: blind), devices: [], now: Self.day.end)
        let timelines = history.timelines()
        let bars = AvailabilityReport.build(timelines, by: [.device], segments: 24, barsOnly: true)[0]
        let full = AvailabilityReport.build(timelines, by: [.device], segments: 24)[0]
        #expect(bars.total.figures.online == figures.online && bars.total.figures.offline == figures.offline)
        #expect(full.total.figures == figures)
        let perPart = AvailabilityReport.parts(of: Self.day, count: 24).map { part in
            Availability.device(
                atStart: rows.last { $0.at < part.start } ?? atStart,
                changes: rows.filter { $0.at >= part.start && $0.at < part.end }, window: part, blind: blind
            ).availability
        }
        #expect(bars.total.segments == perPart)
    }

    /// Coverage of the day that leaves exactly `blind` unseen.
    static func coverage(leaving blind: [DateInterval]) -> [CoverageSpan] {
        var spans: [CoverageSpan] = []
        var from = t0.addingTimeInterval(-60)
        for spot in blind.sorted(by: { $0.start < $1.start }) {
            if spot.start > from { spans.append(CoverageSpan(workspace: "acme", start: from, end: spot.start)) }
            from = max(from, spot.end)
        }
        spans.append(CoverageSpan(workspace: "acme", start: from, end: day.end))
        return spans
    }

    @Test func aGroupAddsItsDevicesUp() {
        var a = AvailabilityFigures()
        a.online = 20
        a.offline = 4
        a.outages = 1
        a.longestOutage = 4
        a.recoveredSeconds = 4
        a.recoveries = 1
        var b = AvailabilityFigures()
        b.online = 24
        b.unknown = 2
        let group = AvailabilityFigures.combined([a, b])
        #expect(group.online == 44 && group.offline == 4 && group.unknown == 2 && group.outages == 1)
        #expect(group.availability == 44.0 / 48 && group.meanTimeToRecover == 4)
    }
}
