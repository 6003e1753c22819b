import DeviceWatchCore
import Foundation
import Testing

/// Coverage, grouping, the availability report and the fleet chart, by tables.
@Suite("History reports")
struct HistoryReportTests {
    static let t0 = Timestamp.parse("2026-11-28T00:00:00Z")!
    static func hours(_ value: Double) -> Date { t0.addingTimeInterval(value * 3600) }
    static let day = DateInterval(start: t0, duration: 86_400)

    struct BlindCase: Sendable, CustomTestStringConvertible {
        var name: String
        var spans: [(Double, Double)]
        var blind: [(Double, Double)]
        var testDescription: String { name }
    }

    static let blindCases: [BlindCase] = [
        BlindCase(name: "seen all day", spans: [(-1, 25)], blind: []),
        BlindCase(name: "never seen", spans: [], blind: [(0, 24)]),
        BlindCase(name: "a gap in the middle", spans: [(0, 10), (12, 24)], blind: [(10, 12)]),
        BlindCase(name: "started late, stopped early", spans: [(3, 20)], blind: [(0, 3), (20, 24)]),
        BlindCase(name: "overlapping spans in any order", spans: [(8, 24), (0, 9)], blind: []),
        BlindCase(name: "spans outside the window", spans: [(-10, -5), (30, 40)], blind: [(0, 24)]),
    ]

    @Test(arguments: blindCases)
    func blindSpotsAreTheWindowOutsideEverySpan(_ testCase: BlindCase) {
        let spans = testCase.spans.map {
            CoverageSpan(workspace: "acme", start: Self.hours($0.0), end: Self.hours($0.1))
        }
        let blind = Coverage.blindSpots(spans: spans, window: Self.day)
        #expect(blind == testCase.blind.map { DateInterval(start: Self.hours($0.0), end: Self.hours($0.1)) })
    }

    @Test func theNewestSpanReachesNowWhenItWasWrittenWithinAMinute() {
        let span = CoverageSpan(workspace: "acme", start: Self.hours(0), end: Self.hours(24) - 40)
        #expect(Coverage.blindSpots(spans: [span], window: Self.day, reachesNow: Self.hours(24)).isEmpty)
        // Written 5 minutes before: the worker stopped; the rest is no data.
        let stale = CoverageSpan(workspace: "acme", start: Self.hours(0), end: Self.hours(24) - 300)
        #expect(
            Coverage.blindSpots(spans: [stale], window: Self.day, reachesNow: Self.hours(24))
                == [DateInterval(start: Self.hours(24) - 300, end: Self.hours(24))])
    }

    @Test func theCoverageGapIsThreePollsAndNeverUnderThreeMinutes() {
        #expect(Coverage.gap(pollEvery: .seconds(60)) == .seconds(180))
        #expect(Coverage.gap(pollEvery: .seconds(10)) == .seconds(180))
        #expect(Coverage.gap(pollEvery: .seconds(300)) == .seconds(900))
    }

    @Test(arguments: [
        ("device", "cam-1"), ("workspace", "acme"), ("type", "jetson"), ("platform", Optional<String>.none ?? "(none)"),
        ("tag:site-*", "site-b"), ("tag:zone-*", "(none)"), ("label:floor", "2"), ("label:owner", "ops team"),
        ("label:rack", "(none)"),
    ])
    func groupingFindsTheFactOrNone(_ by: String, _ group: String) throws {
        let device = KnownDevice(
            workspace: "acme", deviceID: "cam-1", name: "Cam 1", type: "jetson",
            tags: ["production", "site-b", "floor=2", "owner:ops team"])
        let grouping = try HistoryGrouping.parse(by).get()
        #expect(grouping.group(of: device) == group)
        #expect(grouping.description == by)
    }

    @Test(arguments: ["", "tag:", "label:", "site", "tags:site-*"])
    func aGroupingThatIsNotOneIsRefusedSayingWhatIs(_ by: String) {
        guard case .failure(let error) = HistoryGrouping.parse(by) else {
            Issue.record("\(by) was accepted")
            return
        }
        #expect(error.description.contains("tag:PATTERN"))
    }

    /// Site a: cam-1 down 6 h of the day, cam-2 up; site b: cam-3 up but its workspace unseen for
    /// 12 h; cam-4 without a site, unknown all day.
    static func history() -> FleetHistory {
        func row(_ workspace: String, _ device: String, _ hour: Double, _ status: String) -> StatusChange {
            StatusChange(workspace: workspace, deviceID: device, statusText: status, at: hours(hour))
        }
        return FleetHistory(
            window: day,
            log: StatusHistory(
                atStart: [
                    row("acme", "cam-1", -5, "online"), row("acme", "cam-2", -5, "online"),
                    row("acme", "cam-4", -5, "unknown"), row("beta", "cam-3", -5, "online"),
                ],
                changes: [row("acme", "cam-1", 6, "offline"), row("acme", "cam-1", 12, "online")]),
            coverage: [
                CoverageSpan(workspace: "acme", start: hours(-6), end: hours(24)),
                CoverageSpan(workspace: "beta", start: hours(-6), end: hours(12)),
            ],
            devices: [
                KnownDevice(workspace: "acme", deviceID: "cam-1", name: "Cam 1", tags: ["site-a"]),
                KnownDevice(workspace: "acme", deviceID: "cam-2", name: "Cam 2", tags: ["site-a"]),
                KnownDevice(workspace: "beta", deviceID: "cam-3", name: "Cam 3", tags: ["site-b"]),
                KnownDevice(workspace: "acme", deviceID: "cam-4", name: "Cam 4"),
            ], now: hours(24))
    }

    @Test func aReportBySiteIsWorstFirstWithATotalAndTheTargetMarked() throws {
        let report = AvailabilityReport.build(
            Self.history(), by: try HistoryGrouping.parse("tag:site-*").get(), target: 0.9, segments: 4)
        #expect(report.rows.map(\.key) == ["site-a", "site-b", "(none)"])
        let siteA = report.rows[0]
        #expect(siteA.devices == 2)
        #expect(siteA.figures.online == 42 * 3600)
        #expect(siteA.figures.offline == 6 * 3600)
        #expect(siteA.figures.availability == 42.0 / 48)
        #expect(siteA.missedTarget == true)
        #expect(siteA.figures.outages == 1)
        #expect(siteA.figures.meanTimeToRecover == 21_600.0)
        // Quarters of the day: cam-1 was down in the second (6 h to 12 h), so that one is 50%.
        #expect(siteA.segments == [1, 0.5, 1, 1])
        let siteB = report.rows[1]
        #expect(siteB.figures.noData == 12 * 3600)
        #expect(siteB.figures.availability == 1)
        #expect(siteB.missedTarget == false)
        #expect(siteB.segments == [1, 1, nil, nil])
        // Unknown all day: no availability, shown last, never missing the target.
        #expect(report.rows[2].figures.availability == nil)
        #expect(report.rows[2].missedTarget == nil)
        #expect(report.total.devices == 4)
        #expect(report.total.figures.availability == (42.0 + 12) / (48 + 12))
        #expect(report.total.downNow == 0)
    }

    @Test func aReportByDeviceNamesEachAndCanBeOfOne() {
        let report = AvailabilityReport.build(Self.history(), by: .device)
        #expect(report.rows.first?.key == "cam-1")
        #expect(report.rows.first?.name == "Cam 1")
        #expect(report.rows.first?.workspace == "acme")
        let one = AvailabilityReport.build(Self.history(), by: .device, deviceID: "cam-3")
        #expect(one.rows.map(\.key) == ["cam-3"])
        let workspace = AvailabilityReport.build(Self.history(), by: .workspace, workspace: "beta")
        #expect(workspace.rows.map(\.key) == ["beta"])
    }

    @Test func theFleetChartCountsEachStatusAtEachMomentAndBlindOnesApart() {
        let chart = FleetChart.build(Self.history(), samples: 5)
        // At 0, 6, 12, 18 and 24 h.
        #expect(chart.points.map(\.online) == [3, 2, 2, 2, 2])
        #expect(chart.points.map(\.offline) == [0, 1, 0, 0, 0])
        #expect(chart.points.map(\.unknown) == [1, 1, 1, 1, 1])
        #expect(chart.points.map(\.noData) == [0, 0, 1, 1, 1])
        #expect(
            FleetChart.build(Self.history(), samples: 5, workspace: "beta").points.map(\.online) == [1, 1, 0, 0, 0])
    }
}

extension HistoryReportTests {
    @Test func aDevicesTimelineIsItsStatusesWithBlindSpotsAndUnlistedStretchesApart() {
        func row(_ hour: Double, _ status: String) -> StatusChange {
            StatusChange(workspace: "acme", deviceID: "cam", statusText: status, at: Self.hours(hour))
        }
        let spans = StatusTimeline.spans(
            atStart: nil, changes: [row(2, "online"), row(6, "offline"), row(9, "online"), row(20, "gone")],
            window: Self.day, blind: [DateInterval(start: Self.hours(7), end: Self.hours(8))])
        #expect(
            spans.map { "\(Int($0.interval.start.timeIntervalSince(Self.t0) / 3600)) \($0.kind.rawValue)" } == [
                "0 unlisted", "2 online", "6 offline", "7 no data", "8 offline", "9 online", "20 unlisted",
            ])
        #expect(spans.last?.interval.end == Self.hours(24))
    }
}

extension HistoryReportTests {
    @Test func theBarsOnlyReportAgreesWithTheFullOneOnAvailability() throws {
        let timelines = Self.history().timelines()
        let sites = try HistoryGrouping.parse("tag:site-*").get()
        let full = AvailabilityReport.build(timelines, by: [sites], segments: 4)[0]
        let bars = AvailabilityReport.build(timelines, by: [sites], segments: 4, barsOnly: true)[0]
        #expect(bars.rows.map(\.key) == full.rows.map(\.key))
        #expect(bars.rows.map(\.figures.availability) == full.rows.map(\.figures.availability))
        #expect(bars.rows.map(\.segments) == full.rows.map(\.segments))
        #expect(bars.total.figures.availability == full.total.figures.availability)
    }
}
