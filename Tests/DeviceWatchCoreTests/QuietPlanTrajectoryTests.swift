import DeviceWatchCore
import Foundation
import Testing

/// A worker skips planning in quiet cycles (``AlertCycle/PreviousPlan``); over whole timelines it
/// must send exactly what a worker planning every cycle sends. Seeded random timelines: devices
/// dropping and returning, polls every 30 s with ticks between them, silences added that start
/// now or later (some only during named windows), a rule with `keep_firing_for` and muted
/// during those windows.
@Suite("Quiet cycles over whole timelines")
struct QuietPlanTrajectoryTests {
    static let rules = RuleSet([
        Rule(
            id: "offline", summary: "{{device.name}} offline", severity: .critical,
            condition: .offlineFor(.seconds(90)),
            notify: ["pager", "chat"]),
        {
            var held = Rule(
                id: "held", condition: .offlineFor(.seconds(60)), notify: ["chat"], muteDuring: ["windows"])
            held.keepFiringFor = .seconds(120)
            return held
        }(),
    ])

    /// Windows within the timeline (it runs from 12:00 to 14:00 UTC).
    static let windows = try! TimeIntervalTests.intervals(
        #"{"windows": [{"times": [{"start": "12:20", "end": "12:40"}, {"start": "13:05", "end": "13:15"}], "time_zone": "UTC"}]}"#
    )

    static var defaults: RoutingDefaults {
        var config = Configuration.Defaults()
        config.timeIntervals = windows
        config.groupWait = .seconds(30)
        config.groupInterval = .seconds(60)
        config.repeatEvery = .seconds(600)
        config.groupBy = ["rule", "tag:site-*"]
        return RoutingDefaults(config, metaReceivers: ["ops"])
    }

    /// One worker's state and what it knows of its latest plan.
    struct Worker {
        var state = AlertState()
        var plan: (plan: AlertCycle.PreviousPlan, silences: [Silence])?
        let skips: Bool
        var skipped = 0

        mutating func run(_ input: AlertCycle.Input, silences: [Silence]) -> [NotificationIntent] {
            let settings = AlertCycle.Settings(
                rules: QuietPlanTrajectoryTests.rules, defaults: QuietPlanTrajectoryTests.defaults)
            let previous = skips && plan?.silences == silences ? plan?.plan : nil
            let (result, intents) = AlertCycle.run(
                &state, input, settings: settings, silences: silences, previousPlan: previous)
            if !result.ranPlanner { skipped += 1 }
            plan = (AlertCycle.PreviousPlan(nextDue: result.nextDue), silences)
            state.endCycle()
            return intents
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func aWorkerSkippingQuietPlansSendsWhatOnePlanningEveryCycleSends(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let t0 = Harness.t0
        var full = Worker(skips: false)
        var quick = Worker(skips: true)
        // Six cameras in two sites: each is up, or down since a time.
        var downSince: [Date?] = Array(repeating: nil, count: 6)
        var silences: [Silence] = []
        var sent = 0
        for step in 0..<240 {
            let now = t0.addingTimeInterval(Double(step) * 30)
            for camera in downSince.indices where Int.random(in: 0..<40, using: &random) == 0 {
                downSince[camera] = downSince[camera] == nil ? now : nil
            }
            if Int.random(in: 0..<25, using: &random) == 0 {
                let starts = now.addingTimeInterval(Double(Int.random(in: -2...20, using: &random)) * 30)
                silences.append(
                    Silence(
                        id: "s\(step)",
                        matchers: [
                            Bool.random(using: &random)
                                ? .init(name: "tag", pattern: "site-a") : .init(name: "rule", pattern: "held")
                        ],
                        startsAt: starts,
                        endsAt: starts.addingTimeInterval(Double(Int.random(in: 2...30, using: &random)) * 30),
                        comment: "", author: "test", createdAt: now,
                        during: Int.random(in: 0..<3, using: &random) == 0 ? ["windows"] : nil))
            }
            let devices = downSince.enumerated().map { camera, since in
                Device(
                    id: "cam-\(camera)", name: "cam \(camera)", status: since == nil ? .online : .offline,
                    lastHeartbeat: since ?? now.addingTimeInterval(-5), tags: ["site-\(camera < 3 ? "a" : "b")"])
            }
            let poll = AlertCycle.Input.poll(workspace: "acme", devices: devices, at: now)
            let expected = full.run(poll, silences: silences)
            #expect(quick.run(poll, silences: silences) == expected, "seed \(seed), poll at step \(step)")
            sent += expected.count
            // Ticks between polls, as the engine's ticker.
            for second in [7.0, 15, 22] {
                let tick = AlertCycle.Input.tick(at: now.addingTimeInterval(second))
                let told = full.run(tick, silences: silences)
                #expect(quick.run(tick, silences: silences) == told, "seed \(seed), tick after step \(step)")
                sent += told.count
            }
        }
        // The timeline did something, and the quick worker did skip.
        #expect(sent > 10 && quick.skipped > 100, "sent \(sent), skipped \(quick.skipped)")
        #expect(quick.state == full.state)
    }
}
