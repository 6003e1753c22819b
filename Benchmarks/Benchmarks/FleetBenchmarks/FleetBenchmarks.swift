import Benchmark
import DeviceWatchCore
import Foundation

/// What fleet rules add to a cycle: 100,000 devices in 1,000 sites, 5% offline (5 per site, each
/// for an hour), with the same 2 device rules, without fleet rules, with 5 that hold in no site
/// (a healthy fleet: the target), and with 5 of which one (5 offline for 30 minutes) holds in
/// every site: 1,000 fleet alerts with 100 members each, kept up to date every cycle.
let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!
let deviceRules = [
    Rule(
        id: "production-offline", summary: "{{device.name}} offline for {{offline_for}}", severity: .critical,
        selector: .tags(TagFilter(allOf: [Glob("production")])), condition: .offlineFor(.seconds(900)),
        notify: ["pager", "chat"]),
    Rule(id: "never-checked-in", condition: .unknownFor(.seconds(1800)), notify: ["chat"]),
]
func fleetRule(_ id: String, _ groupBy: [String], _ threshold: FleetCondition.Threshold, _ of: Condition) -> Rule {
    Rule(
        id: id, severity: .critical, selector: .tags(TagFilter(allOf: [Glob("production")])), condition: of,
        notify: ["pager"], inhibits: ["production-offline"],
        fleet: FleetCondition(groupBy: groupBy, minDevices: 3, threshold: threshold, of: of))
}
let fleetRules = [
    fleetRule("site-down", ["tag:site-*"], .fractionAtLeast(0.5), .status(["offline"])),
    fleetRule("site-degraded", ["tag:site-*"], .countAtLeast(10), .offlineFor(.seconds(600))),
    fleetRule("site-dark", ["tag:site-*"], .countBelow(1), .status(["online"])),
    fleetRule("site-stale", ["tag:site-*"], .countAtLeast(5), .offlineFor(.seconds(1800))),
    fleetRule("model-fleet-unknown", ["type"], .countAtLeast(1), .status(["unknown"])),
]
let defaults: RoutingDefaults = {
    var config = Configuration.Defaults()
    config.groupWait = .seconds(0)
    return RoutingDefaults(config)
}()

let devices: [Device] = (0..<100_000).map { index in
    let offline = index % 100 < 5
    return Device(
        id: "dev-\(index)", name: "camera \(index)", status: offline ? .offline : .online,
        lastHeartbeat: t0.addingTimeInterval(offline ? -3600 : -20), rfdmVersion: "1.4.0", type: "jetson",
        tags: ["production", "site-\(index / 100)"], createdAt: t0.addingTimeInterval(-86_400 * 30))
}

/// A state past its first cycles: every alert fired and told, the journal committed; with its
/// latest plan, as the worker's engine keeps it.
func steady(_ rules: [Rule]) -> (AlertState, AlertCycle.Settings, AlertCycle.PreviousPlan) {
    let settings = AlertCycle.Settings(rules: RuleSet(rules), defaults: defaults)
    var state = AlertState()
    var plan = AlertCycle.PreviousPlan(nextDue: nil)
    for step in 0..<2 {
        let (result, _) = AlertCycle.run(
            &state, .poll(workspace: "acme", devices: devices, at: t0.addingTimeInterval(Double(step) * 60)),
            settings: settings)
        plan = AlertCycle.PreviousPlan(nextDue: result.nextDue)
    }
    state.endCycle()
    return (state, settings, plan)
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 40
    )
    let (plain, plainSettings, plainPlan) = steady(deviceRules)
    let (withFleet, fleetSettings, fleetPlan) = steady(deviceRules + fleetRules)
    // One fleet rule holds in all 1,000 sites; the others in none.
    precondition(withFleet.book.alerts.values.filter { $0.fleet != nil && $0.state == .firing }.count == 1000)
    let healthy = fleetRules.map { rule in
        var rule = rule
        if rule.id == "site-stale" { rule.fleet?.threshold = .countAtLeast(6) }
        return rule
    }
    let (quiet, quietSettings, quietPlan) = steady(deviceRules + healthy)
    precondition(!quiet.book.alerts.values.contains { $0.fleet != nil })

    /// Polls as the worker's engine does, passing on each plan (it changes when one runs).
    func measure(
        _ start: AlertState, _ settings: AlertCycle.Settings, _ plan: AlertCycle.PreviousPlan, _ benchmark: Benchmark
    ) {
        var state = start
        var previousPlan = plan
        var now = t0.addingTimeInterval(120)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let (result, intents) = AlertCycle.run(
                &state, .poll(workspace: "acme", devices: devices, at: now), settings: settings,
                previousPlan: previousPlan)
            previousPlan = AlertCycle.PreviousPlan(nextDue: result.nextDue)
            // Nothing changed: nothing to send, nothing to write (not a status log row either)
            // but the workspace's coverage, its end written once a minute: one row.
            var changes = result.changes
            precondition(changes.upsertCoverage.count <= 1)
            changes.upsertCoverage = []
            precondition(intents.isEmpty && changes.isEmpty, "\(changes.statusChanges.count)")
            state.endCycle()
            now = now.addingTimeInterval(60)
        }
    }

    Benchmark("baseline: cycle of 100k devices in 1,000 sites, 2 device rules, no change", configuration: configuration)
    { benchmark in measure(plain, plainSettings, plainPlan, benchmark) }

    Benchmark(
        "cycle: 100k devices in 1,000 sites, 2 device rules and 5 fleet rules, no change", configuration: configuration
    ) { benchmark in measure(quiet, quietSettings, quietPlan, benchmark) }

    Benchmark(
        "cycle: 100k devices in 1,000 sites, 5 fleet rules, one firing in every site, no change",
        configuration: configuration
    ) { benchmark in measure(withFleet, fleetSettings, fleetPlan, benchmark) }
}
