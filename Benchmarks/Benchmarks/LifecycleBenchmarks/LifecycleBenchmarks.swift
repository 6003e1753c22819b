import Benchmark
import DeviceWatch
import DeviceWatchCore
import Foundation
import Logging

/// A 100,000-device workspace with 5% of devices firing one rule that notifies two receivers.
let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!
let rules = RuleSet([
    Rule(
        id: "production-offline", summary: "{{device.name}} offline for {{offline_for}}", severity: .critical,
        selector: .tags(TagFilter(allOf: [Glob("production")])), condition: .offlineFor(.seconds(900)),
        notify: ["pager", "chat"]),
    Rule(id: "never-checked-in", condition: .unknownFor(.seconds(1800)), notify: ["chat"]),
])
let defaults: RoutingDefaults = {
    var config = Configuration.Defaults()
    config.groupWait = .seconds(0)
    return RoutingDefaults(config)
}()

func fleet(offline: Int) -> [Device] {
    (0..<100_000).map { index in
        Device(
            id: "dev-\(index)", name: "camera \(index)", status: index < offline ? .offline : .online,
            lastHeartbeat: t0.addingTimeInterval(index < offline ? -3600 : -20), rfdmVersion: "1.4.0", type: "jetson",
            tags: ["production", index % 2 == 0 ? "site-a" : "site-b"], createdAt: t0.addingTimeInterval(-86_400 * 30))
    }
}

let settings = AlertCycle.Settings(rules: rules, defaults: defaults)

/// Runs async work to completion from the benchmarks' synchronous setup (never while measuring).
final class ResultBox<T>: @unchecked Sendable { var value: Result<T, any Error>? }

func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.value = .success(try await body()) } catch { box.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return try! box.value!.get()
}

/// The worker's pure cycle over a state: evaluate, lifecycle, plan; passing on each plan as the
/// worker's engine does (same settings and silences throughout), so a quiet poll plans nothing.
struct Cycle {
    var state = AlertState()
    var previousPlan: AlertCycle.PreviousPlan?

    mutating func run(_ devices: [Device], at now: Date) -> [NotificationIntent] {
        let (result, intents) = AlertCycle.run(
            &state, .poll(workspace: "acme", devices: devices, at: now), settings: settings, previousPlan: previousPlan)
        previousPlan = AlertCycle.PreviousPlan(nextDue: result.nextDue)
        return intents
    }
}

let steadyDevices = fleet(offline: 5000)
let outageDevices = fleet(offline: 15_000)

/// The steady state: 5,000 alerts firing, told to both receivers; its journal committed.
let steady: Cycle = {
    var cycle = Cycle()
    let first = cycle.run(steadyDevices, at: t0)
    precondition(first.count == 2 && first.allSatisfy { $0.firing.count == 5000 })
    precondition(cycle.run(steadyDevices, at: t0.addingTimeInterval(60)).isEmpty)
    cycle.state.endCycle()
    return cycle
}()

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 40
    )

    // The baseline the cycles are measured against, in the same run: evaluating the same devices
    // against the same rules, which every cycle does first.
    Benchmark("baseline: evaluate the same 100k devices x 2 rules", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                rules.evaluate(
                    workspace: "acme", devices: steadyDevices, firstSeen: steady.state.book.firstSeen["acme"] ?? [:],
                    at: t0.addingTimeInterval(120)))
        }
    }

    Benchmark("cycle: 100k devices, 5% firing, no change", configuration: configuration) { benchmark in
        var cycle = steady
        var now = t0.addingTimeInterval(120)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let intents = cycle.run(steadyDevices, at: now)
            precondition(intents.isEmpty)
            now = now.addingTimeInterval(60)
        }
    }

    let outageAt = t0.addingTimeInterval(420)
    Benchmark("cycle: 10,000 devices go offline at once", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            var cycle = steady
            benchmark.startMeasurement()
            let intents = cycle.run(outageDevices, at: outageAt)
            benchmark.stopMeasurement()
            // One intent per receiver: one group of one rule, told to two receivers.
            precondition(intents.count == 2 && intents.allSatisfy { $0.firing.count == 15_000 }, "\(intents.count)")
        }
    }

    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-bench-\(UUID().uuidString).db").path
    let store = try! SQLiteStateStore(path: path)
    var fromScratch = Cycle()
    _ = fromScratch.run(steadyDevices, at: t0)
    let seed = fromScratch.state.changes
    waitFor { try await store.commit(seed, at: t0) }
    var after = steady
    let outageIntents = after.run(outageDevices, at: outageAt)
    var changesOfTheOutage = after.state.changes
    changesOfTheOutage.intents = outageIntents
    let outageChanges = changesOfTheOutage
    precondition(outageChanges.upsertAlerts.count == 10_000, "\(outageChanges.upsertAlerts.count)")
    // The outage's 10,000 status changes go in the same one transaction.
    precondition(outageChanges.statusChanges.count == 10_000, "\(outageChanges.statusChanges.count)")
    // A cycle with no changes has nothing to write but the workspace's coverage (its end,
    // written once a minute: one row).
    var quiet = steady
    _ = quiet.run(steadyDevices, at: t0.addingTimeInterval(120))
    var quietChanges = quiet.state.changes
    precondition(quietChanges.upsertCoverage.count <= 1)
    quietChanges.upsertCoverage = []
    precondition(quietChanges.isEmpty)

    // The worker's engine holding 100,000 firing alerts, told: its 1-second tick with nothing due.
    let tickPath = FileManager.default.temporaryDirectory.appendingPathComponent(
        "dw-bench-tick-\(UUID().uuidString).db"
    ).path
    let tickStore = try! SQLiteStateStore(path: tickPath)
    let tickEngine = DeviceWatch.Engine(
        rules: rules, defaults: defaults, staleAfter: .seconds(300), state: waitFor { try await tickStore.load() },
        store: tickStore,
        logger: { () -> Logger in
            var quiet = Logger(label: "bench")
            quiet.logLevel = .warning  // not 100,000 transition lines
            return quiet
        }(), localNow: { t0.addingTimeInterval(1) })
    let everyDeviceOffline = fleet(offline: 100_000)
    Benchmark(
        "engine tick with nothing due, 100,000 alerts",
        configuration: .init(
            metrics: [.wallClock], timeUnits: .microseconds, maxDuration: .seconds(10), maxIterations: 1000,
            setup: { await tickEngine.pollSucceeded(workspace: "acme", devices: everyDeviceOffline, apiDate: t0) })
    ) { benchmark in
        for _ in benchmark.scaledIterations { await tickEngine.tick() }
    }

    Benchmark("persist a 10,000-transition cycle in one SQLite transaction", configuration: configuration) {
        benchmark in
        for _ in benchmark.scaledIterations {
            try await store.commit(outageChanges, at: outageAt)
        }
    }

    // The same cycle on PostgreSQL, when `make bench` started a throwaway server for it: the
    // worker of a cluster commits it under its workspace lease, as here.
    if let url = ProcessInfo.processInfo.environment["DEVICEWATCH_BENCH_DATABASE_URL"] {
        let postgres = waitFor { try await PostgresStateStore(url: Secret(url)) }
        let round = waitFor {
            try await postgres.arrangeLeases(owner: "bench", ttl: .seconds(3600), keep: [:], take: ["acme"], limit: 1)
        }
        let fence = WorkspaceFence(
            workspace: "acme", owner: "bench", epoch: round.held["acme"] ?? 1, ttl: .seconds(3600))
        waitFor { try await postgres.commit(seed, at: t0, fence: fence) }
        Benchmark("persist a 10,000-transition cycle in one PostgreSQL transaction", configuration: configuration) {
            benchmark in
            for _ in benchmark.scaledIterations {
                try await postgres.commit(outageChanges, at: outageAt, fence: fence)
            }
        }
    }
}
