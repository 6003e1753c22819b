import DeviceWatchCore
import Foundation
import Testing

/// `time_intervals` and `mute_during`: recurring windows in a time zone, across daylight saving.
@Suite("Time intervals")
struct TimeIntervalTests {
    static func intervals(_ json: String) throws -> TimeIntervals {
        let (config, diagnostics) = ConfigurationParser.parse(
            #"{"workspaces": [{"id": "acme"}], "rule_files": [], "time_intervals": \#(json)}"#,
            file: "devicewatch.json")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        return try #require(config).defaults.timeIntervals
    }

    static func at(_ text: String) -> Date { Timestamp.parse(text)! }

    /// Europe/Berlin, 2026: summer time starts Sunday 29 March at 01:00 UTC (02:00 becomes 03:00)
    /// and ends Sunday 25 October at 01:00 UTC (03:00 becomes 02:00 again).
    @Test(
        arguments: [
            // 01:00-04:00 local: two hours on the night the clocks go forward, four when they go back.
            ("01:00", "04:00", "2026-03-29T00:30:00Z", "2026-03-29T02:00:00Z"),
            ("01:00", "04:00", "2026-03-29T01:59:00Z", "2026-03-29T02:00:00Z"),
            ("01:00", "04:00", "2026-03-29T02:00:00Z", nil),
            ("01:00", "04:00", "2026-10-24T23:30:00Z", "2026-10-25T03:00:00Z"),
            ("01:00", "04:00", "2026-10-25T02:59:00Z", "2026-10-25T03:00:00Z"),
            ("01:00", "04:00", "2026-10-25T03:00:00Z", nil),
            // 02:00-03:30: the skipped hour leaves 03:00-03:30 CEST; the repeated one is in twice.
            ("02:00", "03:30", "2026-03-29T00:59:00Z", nil),
            ("02:00", "03:30", "2026-03-29T01:15:00Z", "2026-03-29T01:30:00Z"),
            ("02:00", "03:30", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z"),
            ("02:00", "03:30", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00Z"),
            ("02:00", "03:30", "2026-10-25T02:30:00Z", nil),
            // An ordinary night.
            ("02:00", "03:30", "2026-11-30T01:10:00Z", "2026-11-30T02:30:00Z"),
        ] as [(String, String, String, String?)])
    func windowsKeepWallClockHoursAcrossDaylightSaving(start: String, end: String, at: String, endsAt: String?)
        throws
    {
        let intervals = try Self.intervals(
            #"{"night": [{"times": [{"start": "\#(start)", "end": "\#(end)"}], "time_zone": "Europe/Berlin"}]}"#)
        #expect(intervals.activeUntil("night", at: Self.at(at)) == endsAt.map(Self.at))
    }

    @Test func weekdaysDaysOfMonthMonthsAndYearsAllHaveToMatch() throws {
        let intervals = try Self.intervals(
            #"""
            {"weekday-nights": [{"weekdays": ["monday:friday"], "times": [{"start": "22:00", "end": "24:00"}], "time_zone": "America/New_York"}],
             "month-end": [{"days_of_month": ["-1"], "months": ["december"], "years": ["2026"]}],
             "whole-month": [{"days_of_month": ["1:-1"], "months": ["2"]}]}
            """#)
        // Tuesday 1 December 2026, 22:30 in New York is 03:30 UTC on the 2nd.
        #expect(
            intervals.activeUntil("weekday-nights", at: Self.at("2026-12-02T03:30:00Z"))
                == Self.at("2026-12-02T05:00:00Z"))
        // Saturday 5 December, 22:30 in New York: not a weekday.
        #expect(intervals.activeUntil("weekday-nights", at: Self.at("2026-12-06T03:30:00Z")) == nil)
        #expect(
            intervals.activeUntil("month-end", at: Self.at("2026-12-31T12:00:00Z")) == Self.at("2027-01-01T00:00:00Z"))
        #expect(intervals.activeUntil("month-end", at: Self.at("2026-12-30T12:00:00Z")) == nil)
        #expect(intervals.activeUntil("month-end", at: Self.at("2027-12-31T12:00:00Z")) == nil)
        #expect(intervals.activeUntil("whole-month", at: Self.at("2027-02-28T12:00:00Z")) != nil)
        #expect(intervals.activeUntil("whole-month", at: Self.at("2027-03-01T12:00:00Z")) == nil)
    }

    @Test func badWindowsAndUnknownNamesAreReportedWhereTheyAreWritten() {
        let (_, diagnostics) = ConfigurationParser.parse(
            #"""
            {"workspaces": [{"id": "acme"}], "rule_files": [],
             "time_intervals": {"x": [{"weekdays": ["monday:funday"], "time_zone": "Mars/Olympus"}],
                                "y": [{"times": [{"start": "03:00", "end": "02:00"}, {"start": "2:5", "end": "04:00"}]}]}}
            """#, file: "devicewatch.json")
        let text = diagnostics.map(\.description)
        expectProblem(text, at: "time_intervals.x[0].time_zone", saying: "unknown time zone")
        expectProblem(text, at: "time_intervals.y[0].times[0]", saying: "across midnight is two")
        expectProblem(text, at: "time_intervals.y[0].times[1].start", saying: "HH:MM")
        let (_, ruleDiagnostics) = RuleParser.parse(
            #"{"rules": [{"id": "r", "when": {"status": "offline"}, "mute_during": ["nightly-reboot"]}]}"#,
            file: "rules.json", timeIntervals: ["nightly-reboots"])
        #expect(
            ruleDiagnostics.first?.description.contains("did you mean \"nightly-reboots\"") == true,
            "\(ruleDiagnostics)")
    }

    @Test func anAlertMutedByAWindowIsToldTheMomentTheWindowEnds() throws {
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(30)
        defaults.timeIntervals = try Self.intervals(
            #"{"nightly-reboots": [{"times": [{"start": "02:00", "end": "03:30"}], "time_zone": "Europe/Berlin"}]}"#)
        let rules = RuleSet([
            Rule(id: "offline", condition: .status(["offline"]), notify: ["chat"], muteDuring: ["nightly-reboots"])
        ])
        let settings = AlertCycle.Settings(rules: rules, defaults: RoutingDefaults(defaults))
        var state = AlertState()
        // 02:10 in Berlin (01:10 UTC): the camera reboots and stays down past the window.
        let start = Self.at("2026-11-30T01:10:00Z")
        let device = Device(id: "cam-1", name: "cam", status: .offline, lastHeartbeat: start)
        var sent: [(Date, NotificationIntent)] = []
        var next: Date?
        for minute in stride(from: 0, through: 90, by: 1) {
            let at = start.addingTimeInterval(Double(minute * 60))
            let (result, intents) = AlertCycle.run(
                &state, .poll(workspace: "acme", devices: [device], at: at), settings: settings)
            sent += intents.map { (at, $0) }
            if minute == 10 { next = result.nextDue }
        }
        // Tracked all along (it fired at once), told at 03:30 sharp, not at repeat_every.
        #expect(state.book.alerts.values.first?.state == .firing)
        #expect(next == Self.at("2026-11-30T02:30:00Z"))
        #expect(sent.map(\.0) == [Self.at("2026-11-30T02:30:00Z")], "\(sent.map { ($0.0, $0.1.reason) })")
        #expect(sent.first?.1.reason == .new)
    }

    @Test func aSilenceDuringAWindowMutesOnlyWhileItHoldsAndChecksItsNames() throws {
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(0)
        defaults.timeIntervals = try Self.intervals(
            #"{"nightly-reboots": [{"times": [{"start": "02:00", "end": "03:00"}], "time_zone": "UTC"}]}"#)
        let rules = RuleSet([
            Rule(id: "offline", condition: .status(["offline"]), notify: ["chat"], repeatEvery: .seconds(600))
        ])
        let settings = AlertCycle.Settings(rules: rules, defaults: RoutingDefaults(defaults))
        let start = Self.at("2026-11-30T01:00:00Z")
        let request = Silence.Request(
            matchers: ["rule=offline"], duration: "30d", comment: "site B reboots nightly", author: "ops",
            during: ["nightly-reboots"], knownTimeIntervals: ["nightly-reboots"])
        let silence = try request.silence(id: "s", now: start).get()
        var state = AlertState()
        let device = Device(id: "cam-1", name: "cam", status: .offline, lastHeartbeat: start)
        var sent: [Date] = []
        for minute in stride(from: 0, through: 150, by: 5) {
            let at = start.addingTimeInterval(Double(minute * 60))
            let (_, intents) = AlertCycle.run(
                &state, .poll(workspace: "acme", devices: [device], at: at), settings: settings, silences: [silence])
            sent += intents.map { _ in at }
        }
        // Told at 01:00, repeated every 10 minutes outside 02:00-03:00: at 03:00 sharp again.
        let times = sent.map { Timestamp.format($0).dropFirst(11).prefix(5) }
        #expect(
            times == ["01:00", "01:10", "01:20", "01:30", "01:40", "01:50", "03:00", "03:10", "03:20", "03:30"],
            "\(times)")
        var unknown = request
        unknown.during = ["nightly-reboot"]
        #expect(unknown.problems.contains { $0.contains("did you mean \"nightly-reboots\"") })
    }
}
