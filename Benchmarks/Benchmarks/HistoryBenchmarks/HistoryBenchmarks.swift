import Benchmark
import DeviceWatch
import DeviceWatchCore
import Foundation

/// History over 30 days of 10,000 devices in 100 sites: 5% flapping (a change every 30 minutes,
/// 1,440 in the month each), the rest down for an hour every third day; devicewatch blind for two
/// hours once. What `report availability` computes once read, and what the status page renders.
let now = Timestamp.parse("2026-12-01T00:00:00Z")!
let month = DateInterval(start: now.addingTimeInterval(-30 * 86_400), end: now)

let facts: [KnownDevice] = (0..<10_000).map { index in
    KnownDevice(
        workspace: "acme", deviceID: "cam-\(index)", name: "camera \(index)", type: "jetson",
        tags: ["production", "site-\(index / 100)"])
}

func history(_ window: DateInterval) -> FleetHistory {
    var changes: [StatusChange] = []
    var atStart: [StatusChange] = []
    for index in 0..<10_000 {
        let id = "cam-\(index)"
        atStart.append(StatusChange(workspace: "acme", deviceID: id, status: .online, at: window.start - 60))
        if index % 20 == 0 {
            var at = window.start.addingTimeInterval(Double(index % 1800))
            var offline = true
            while at < window.end {
                changes.append(
                    StatusChange(workspace: "acme", deviceID: id, status: offline ? .offline : .online, at: at))
                offline.toggle()
                at.addTimeInterval(1800)
            }
        } else {
            var at = window.start.addingTimeInterval(Double(index % 259_200))
            while at.addingTimeInterval(3600) < window.end {
                changes.append(StatusChange(workspace: "acme", deviceID: id, status: .offline, at: at))
                changes.append(StatusChange(workspace: "acme", deviceID: id, status: .online, at: at + 3600))
                at.addTimeInterval(259_200)
            }
        }
    }
    // In the order `HistoryReader` reads them for the report and the status page: by device,
    // then by time (`StatusLogQuery.byDevice`).
    changes.sort { ($0.deviceID, $0.at) < ($1.deviceID, $1.at) }
    let coverage = [
        CoverageSpan(workspace: "acme", start: window.start - 600, end: window.start + window.duration / 2),
        CoverageSpan(workspace: "acme", start: window.start + window.duration / 2 + 7200, end: window.end),
    ]
    return FleetHistory(
        window: window, log: StatusHistory(atStart: atStart, changes: changes), coverage: coverage, devices: facts,
        now: window.end)
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(20),
        maxIterations: 20)
    let monthly = history(month)
    let sites = try! HistoryGrouping.parse("tag:site-*").get()
    let day = DateInterval(start: now.addingTimeInterval(-86_400), end: now)
    let daily = history(day)
    let week = history(DateInterval(start: now.addingTimeInterval(-7 * 86_400), end: now))
    print("history benchmark: \(monthly.log.changes.count) status changes in 30 days of 10,000 devices")

    Benchmark("availability: 30 days of 10k devices, 5% flapping, by tag:site-*", configuration: configuration) {
        benchmark in
        for _ in benchmark.scaledIterations {
            let report = AvailabilityReport.build(monthly, by: sites, target: 0.995)
            precondition(report.rows.count == 100)
            blackHole(report)
        }
    }
    Benchmark("availability: 30 days of 10k devices, 5% flapping, by device", configuration: configuration) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(AvailabilityReport.build(monthly, by: .device)) }
    }
    for (name, range, window) in [("24h", "24h", daily), ("7d", "7d", week), ("30d", "30d", monthly)] {
        Benchmark("status page history views, \(name), 10k devices in 100 sites", configuration: configuration) {
            benchmark in
            for _ in benchmark.scaledIterations {
                let html = HistoryPages.statusSection(window, range: range, groupBy: sites)!
                precondition(html.contains("site-99"))
                blackHole(html)
            }
        }
    }
}
