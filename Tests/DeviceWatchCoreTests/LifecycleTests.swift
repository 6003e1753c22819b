import DeviceWatchCore
import Foundation
import Testing

/// Drives ``AlertCycle`` over time, as the worker does each cycle.
struct Harness {
    var state = AlertState()
    /// Changing the rules or grouping is a reload: the previous plan no longer holds.
    var rules: RuleSet { didSet { previousPlan = nil } }
    var defaults: RoutingDefaults { didSet { previousPlan = nil } }
    var silences: [Silence] = []
    /// The latest plan, with the silences it saw, as the worker's engine keeps it.
    private var previousPlan: (plan: AlertCycle.PreviousPlan, silences: [Silence])?
    /// The cycles in which the previous plan held and the planner did not run.
    private(set) var plansSkipped = 0
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!

    var book: AlertBook { state.book }
    var routing: RoutingState { state.routing }

    init(
        _ rules: [Rule], groupWait: Duration = .zero, groupInterval: Duration = .seconds(60),
        repeatEvery: Duration = .hours(1),
        meta: [String] = ["ops"]
    ) {
        self.rules = RuleSet(rules)
        var config = Configuration.Defaults()
        config.groupWait = groupWait
        config.groupInterval = groupInterval
        config.repeatEvery = repeatEvery
        defaults = RoutingDefaults(config, metaReceivers: meta)
    }

    /// One successful poll at `t0 + seconds`, returning the transitions and the intents planned.
    mutating func cycle(_ seconds: Double, _ devices: [Device]) -> (
        transitions: [Transition], intents: [NotificationIntent]
    ) {
        let result = run(.poll(workspace: "acme", devices: devices, at: Self.t0.addingTimeInterval(seconds)))
        return (result.result.transitions, result.intents)
    }

    mutating func failedPoll(_ seconds: Double, reason: String = "HTTP 503", auth: Bool = false) -> [NotificationIntent]
    {
        run(
            .pollFailed(
                workspace: "acme", reason: reason, isAuthFailure: auth, at: Self.t0.addingTimeInterval(seconds))
        ).intents
    }

    /// Every cycle also checks its journal: the changes it yields are those a diff of the whole
    /// state before and after finds, and rolling it back restores the state as it was.
    private mutating func run(_ input: AlertCycle.Input) -> (result: AlertCycle.Result, intents: [NotificationIntent]) {
        let before = state
        let settings = AlertCycle.Settings(rules: rules, defaults: defaults, staleAfter: .seconds(300))
        let at = input.at
        var polled: (String, [Device])?
        if case .poll(let workspace, let devices, _) = input { polled = (workspace, devices) }
        var shortcut = state
        let outcome = AlertCycle.run(&state, input, settings: settings, silences: silences)
        // The worker passes the previous plan, and a quiet cycle skips planning: it must come to
        // exactly what planning finds.
        if let previousPlan, previousPlan.silences == silences {
            let quick = AlertCycle.run(
                &shortcut, input, settings: settings, silences: silences, previousPlan: previousPlan.plan)
            #expect(quick.intents == outcome.intents)
            #expect(quick.result.changes == outcome.result.changes)
            #expect(quick.result.nextDue == outcome.result.nextDue)
            #expect(shortcut == state)
            if !quick.result.ranPlanner { plansSkipped += 1 }
        }
        previousPlan = (AlertCycle.PreviousPlan(nextDue: outcome.result.nextDue), silences)
        #expect(
            outcome.result.changes
                == ReferenceDiff.between(
                    before, state, at: at, polled: polled, journaled: outcome.result.changes))
        var rolledBack = state
        rolledBack.rollBack()
        // Back to the durable state as it was; per-poll bookkeeping (lastTrue, device facts) may differ.
        #expect(rolledBack.book.alerts.keys.sorted() == before.book.alerts.keys.sorted())
        for (key, alert) in rolledBack.book.alerts { #expect(before.book.alerts[key]?.durablyEqual(alert) == true) }
        #expect(rolledBack.routing == before.routing)
        #expect(rolledBack.book.firstSeen == before.book.firstSeen)
        #expect(rolledBack.book.health == before.book.health)
        #expect(rolledBack.book.statuses == before.book.statuses)
        #expect(rolledBack.book.coverage == before.book.coverage)
        return outcome
    }

    /// The cycle's commit failed: its changes are undone, and the plan it made never happened.
    mutating func rollBack() {
        state.rollBack()
        previousPlan = nil
    }

    static func offline(_ id: String, since seconds: Double, tags: [String] = ["production"]) -> Device {
        Device(id: id, name: "cam \(id)", status: .offline, lastHeartbeat: t0.addingTimeInterval(seconds), tags: tags)
    }

    static func online(_ id: String, at seconds: Double, tags: [String] = ["production"]) -> Device {
        Device(id: id, name: "cam \(id)", status: .online, lastHeartbeat: t0.addingTimeInterval(seconds), tags: tags)
    }
}

let offlineRule = Rule(
    id: "offline", summary: "{{device.name}} offline {{offline_for}}", severity: .critical,
    condition: .offlineFor(.seconds(600)), notify: ["pager", "chat"])

@Suite("Alert lifecycle")
struct LifecycleTests {
    @Test func fingerprintIsStableAndDistinct() {
        let a = Fingerprint.of(workspace: "acme", ruleID: "offline", deviceID: "cam-1")
        #expect(a == Fingerprint.of(workspace: "acme", ruleID: "offline", deviceID: "cam-1"))
        #expect(a.count == 32 && a.allSatisfy(\.isHexDigit))
        #expect(a != Fingerprint.of(workspace: "acme", ruleID: "offline", deviceID: "cam-2"))
        #expect(
            Fingerprint.of(workspace: "a", ruleID: "bc", deviceID: "")
                != Fingerprint.of(workspace: "ab", ruleID: "c", deviceID: ""))
        // Documented value: SHA-256("acme\0offline\0cam-1"), first 16 bytes.
        #expect(a == "e11c834bb3fafe1ce0a70aa745b5ca92")
    }

    @Test func firesResolvesAndRemembersFirstSeen() throws {
        var h = Harness([offlineRule])
        var (transitions, _) = h.cycle(0, [Harness.offline("d1", since: -601), Harness.online("d2", at: -10)])
        #expect(transitions.map(\.to) == [.firing])
        #expect(h.book.firstSeen["acme"]?.keys.sorted() == ["d1", "d2"])
        (transitions, _) = h.cycle(60, [Harness.online("d1", at: 50), Harness.online("d2", at: 50)])
        #expect(transitions.map { "\($0.from!)->\($0.to!) \($0.reason)" } == ["firing->resolved recovered"])
    }

    @Test func theStatusLogGetsARowPerChangeNeverPerPoll() {
        var h = Harness([offlineRule])
        func logged(_ seconds: Double, _ devices: [Device]) -> [String] {
            _ = h.cycle(seconds, devices)
            return h.state.changes.statusChanges.map { "\($0.deviceID) \($0.statusText)" }
        }
        #expect(
            logged(0, [Harness.online("d1", at: -10), Harness.offline("d2", since: -900)]) == [
                "d1 online", "d2 offline",
            ])
        #expect(logged(60, [Harness.online("d1", at: 50), Harness.offline("d2", since: -900)]).isEmpty)
        #expect(logged(120, [Harness.offline("d1", since: 50), Harness.offline("d2", since: -900)]) == ["d1 offline"])
        // A change after devices that did not change (the list is first read without a write).
        #expect(logged(150, [Harness.offline("d1", since: 50), Harness.online("d2", at: 140)]) == ["d2 online"])
        #expect(logged(160, [Harness.offline("d1", since: 50), Harness.online("d2", at: 150)]).isEmpty)
        // No status from the API: what the heartbeat says (within 5 minutes: online), and a
        // device never heard from is unknown.
        let quiet = Device(id: "d1", lastHeartbeat: Harness.t0.addingTimeInterval(170))
        #expect(logged(180, [quiet, Device(id: "d3")]) == ["d1 online", "d3 unknown", "d2 gone"])
        #expect(h.book.statuses["acme"] == ["d1": .online, "d3": .unknown])
        // A failed poll says nothing of the devices.
        _ = h.failedPoll(240)
        #expect(h.state.changes.statusChanges.isEmpty)
    }

    @Test func forDelaysFiringThroughPending() {
        var rule = offlineRule
        rule.pendingFor = .seconds(120)
        var h = Harness([rule])
        #expect(h.cycle(0, [Harness.offline("d1", since: -700)]).transitions.map(\.to) == [.pending])
        #expect(h.cycle(60, [Harness.offline("d1", since: -700)]).transitions.isEmpty)
        let fired = h.cycle(120, [Harness.offline("d1", since: -700)]).transitions
        #expect(fired.map { "\($0.from!)->\($0.to!)" } == ["pending->firing"])
    }

    @Test func pendingThatStopsHoldingBecomesInactiveWithoutNotifying() {
        var rule = offlineRule
        rule.pendingFor = .seconds(300)
        var h = Harness([rule])
        _ = h.cycle(0, [Harness.offline("d1", since: -700)])
        let (transitions, intents) = h.cycle(60, [Harness.online("d1", at: 59)])
        #expect(transitions.map(\.to) == [nil])
        #expect(intents.isEmpty)
        #expect(h.book.alerts.isEmpty)
    }

    @Test func keepFiringForHoldsThroughAShortBlip() {
        var rule = offlineRule
        rule.keepFiringFor = .seconds(120)
        var h = Harness([rule])
        _ = h.cycle(0, [Harness.offline("d1", since: -700)])
        #expect(h.cycle(60, [Harness.online("d1", at: 55)]).transitions.isEmpty)  // recovered 60s: held
        #expect(h.cycle(119, [Harness.online("d1", at: 110)]).transitions.isEmpty)
        #expect(h.cycle(120, [Harness.online("d1", at: 115)]).transitions.map(\.to) == [.resolved])
    }

    @Test func deviceRemovedAndRuleRemovedResolveWithTheirReasons() {
        let other = Rule(id: "other", condition: .offlineFor(.seconds(60)), notify: ["chat"])
        var h = Harness([offlineRule, other])
        _ = h.cycle(0, [Harness.offline("d1", since: -700), Harness.offline("d2", since: -700)])
        let removed = h.cycle(60, [Harness.offline("d2", since: -700)]).transitions
        #expect(Set(removed.map(\.reason)) == ["device removed"])
        #expect(removed.count == 2)
        h.rules = RuleSet([offlineRule])  // reload without "other"
        let reloaded = h.cycle(120, [Harness.offline("d2", since: -700)]).transitions
        #expect(reloaded.map(\.reason) == ["rule removed"])
        #expect(reloaded.first?.key.ruleID == "other")
    }

    @Test func aChangedRuleKeepsItsAlerts() {
        var h = Harness([offlineRule])
        _ = h.cycle(0, [Harness.offline("d1", since: -700)])
        var changed = offlineRule
        changed.summary = "new text"
        changed.condition = .offlineFor(.seconds(300))
        h.rules = RuleSet([changed])
        let (transitions, _) = h.cycle(60, [Harness.offline("d1", since: -700)])
        #expect(transitions.isEmpty)
        #expect(h.book.alerts.values.first?.state == .firing)
    }

    @Test func aFailingPollNeitherResolvesNorFiresAndAMetaAlertFollowsAfterStaleAfter() {
        var h = Harness([offlineRule])
        _ = h.cycle(0, [Harness.offline("d1", since: -700)])
        #expect(h.failedPoll(60).isEmpty)
        #expect(h.book.alerts.count == 1)
        #expect(h.failedPoll(300).isEmpty)  // 240s blind: not yet
        let meta = h.failedPoll(360)
        #expect(meta.count == 1)
        #expect(meta.first?.receiver == "ops")
        #expect(
            meta.first.map { h.rules.withText($0.firing[0]).text?.summary }
                == "devicewatch cannot see workspace acme: HTTP 503")
        #expect(h.book.alerts.values.contains { $0.key.ruleID == "devicewatch.workspace_unreachable" })
        // Polling recovers: the meta alert resolves (after group_interval for that group).
        _ = h.cycle(400, [Harness.offline("d1", since: -700)])
        let later = h.cycle(460, [Harness.offline("d1", since: -700)]).intents
        #expect(later.contains { $0.receiver == "ops" && $0.reason == .resolved })
    }

    @Test func authFailuresRaiseTheMetaAlertAtOnce() {
        var h = Harness([offlineRule])
        let intents = h.failedPoll(0, reason: "the API key was rejected (401)", auth: true)
        #expect(intents.map(\.receiver) == ["ops"])
    }
}

@Suite("Notification planning")
struct PlannerTests {
    @Test func oneNotificationPerReceiverForAGroupAndNoRepeatWithoutChange() {
        var h = Harness([offlineRule])
        let devices = (1...500).map { Harness.offline("d\($0)", since: -700) }
        let first = h.cycle(0, devices).intents
        #expect(first.map(\.receiver).sorted() == ["chat", "pager"])
        #expect(first.allSatisfy { $0.firing.count == 500 && $0.reason == .new })
        #expect(h.cycle(60, devices).intents.isEmpty)
        #expect(h.cycle(3599, devices).intents.isEmpty)
        let repeats = h.cycle(3600, devices).intents
        #expect(repeats.count == 2 && repeats.allSatisfy { $0.reason == .repeat })
    }

    @Test func groupWaitDelaysTheFirstAndGroupIntervalBatchesChanges() {
        var h = Harness([offlineRule], groupWait: .seconds(30), groupInterval: .seconds(300))
        #expect(h.cycle(0, [Harness.offline("d1", since: -700)]).intents.isEmpty)
        let first = h.cycle(30, [Harness.offline("d1", since: -700), Harness.offline("d2", since: -700)]).intents
        #expect(first.first?.firing.map(\.key.deviceID) == ["d1", "d2"])
        let devices3 = (1...3).map { Harness.offline("d\($0)", since: -700) }
        #expect(h.cycle(60, devices3).intents.isEmpty)  // changed, but within group_interval
        let changed = h.cycle(330, devices3).intents
        #expect(changed.first?.reason == .changed)
        #expect(changed.first?.firing.count == 3)
    }

    @Test func resolvesAreSentAndIntentIDsAreStablePerGroup() throws {
        var h = Harness([offlineRule])
        let first = h.cycle(0, [Harness.offline("d1", since: -700)]).intents
        let resolved = h.cycle(60, [Harness.online("d1", at: 59)]).intents
        #expect(resolved.count == 2)
        let pager = try #require(resolved.first { $0.receiver == "pager" })
        #expect(pager.reason == .resolved)
        #expect(pager.resolved.map(\.key.deviceID) == ["d1"])
        #expect(pager.resolved.first?.resolveReason == "recovered")
        let firstPager = try #require(first.first { $0.receiver == "pager" })
        #expect(pager.id.hasSuffix("-2") && firstPager.id.hasSuffix("-1"))
        #expect(pager.id.dropLast(2) == firstPager.id.dropLast(2))
        #expect(h.book.alerts.isEmpty)  // told everywhere: forgotten
    }

    /// A device that pages, recovers and pages again days later gets a new notification id: the
    /// outbox ignores an id it has seen (a replayed cycle), so a reused id would never be sent.
    @Test func aGroupThatEndsAndFiresAgainGetsNewNotificationIDs() throws {
        var h = Harness([offlineRule])
        let first = h.cycle(0, [Harness.offline("d1", since: -700)]).intents
        _ = h.cycle(60, [Harness.online("d1", at: 59)])
        #expect(h.routing.groups.isEmpty)  // told everywhere: the group is over
        let again = h.cycle(86_400, [Harness.offline("d1", since: 86_400 - 700)]).intents
        #expect(again.count == 2 && again.allSatisfy { $0.reason == .new })
        #expect(Set(first.map(\.id)).isDisjoint(with: again.map(\.id)))
        // Within one group's life, ids still number its notifications.
        let resolved = h.cycle(86_460, [Harness.online("d1", at: 86_459)]).intents
        let pager = try #require(again.first { $0.receiver == "pager" })
        let pagerResolved = try #require(resolved.first { $0.receiver == "pager" })
        #expect(pager.id.dropLast(2) == pagerResolved.id.dropLast(2))
    }

    @Test func anAlertRecoveringThroughKeepFiringForBeforeAnyoneWasToldIsNeverAnnounced() {
        var rule = offlineRule
        rule.keepFiringFor = .seconds(300)
        var h = Harness([rule], groupWait: .seconds(60))
        #expect(h.cycle(0, [Harness.offline("d1", since: -700)]).intents.isEmpty)  // waiting group_wait
        #expect(h.cycle(30, [Harness.online("d1", at: 29)]).intents.isEmpty)  // back: held by keep_firing_for
        #expect(h.book.alerts.values.map(\.state) == [.firing])
        #expect(h.cycle(90, [Harness.online("d1", at: 89)]).intents.isEmpty)  // group_wait is over: nothing to say
        #expect(h.cycle(400, [Harness.online("d1", at: 399)]).transitions.map(\.to) == [.resolved])
        #expect(h.cycle(460, [Harness.online("d1", at: 459)]).intents.isEmpty)
        // Told before it recovered, the same alert is repeated as firing and its resolve is told.
        var told = Harness([rule], groupWait: .seconds(0))
        #expect(told.cycle(0, [Harness.offline("d1", since: -700)]).intents.count == 2)
        _ = told.cycle(30, [Harness.online("d1", at: 29)])
        #expect(told.cycle(400, [Harness.online("d1", at: 399)]).intents.flatMap(\.resolved).count == 2)
    }

    @Test func sendResolvedFalseForgetsWithoutAMessage() {
        var rule = offlineRule
        rule.sendResolved = false
        var h = Harness([rule])
        _ = h.cycle(0, [Harness.offline("d1", since: -700)])
        #expect(h.cycle(60, [Harness.online("d1", at: 59)]).intents.isEmpty)
        #expect(h.book.alerts.isEmpty)
    }

    @Test func aSilencedAlertIsTrackedNotSentButItsResolveIsStillDelivered() {
        var h = Harness([offlineRule])
        _ = h.cycle(0, [Harness.offline("d1", since: -700)])  // told firing
        h.silences = [
            Silence(
                id: "s1", matchers: [.init(name: "rule", pattern: "off*")], startsAt: Harness.t0.addingTimeInterval(30),
                endsAt: Harness.t0.addingTimeInterval(7200), comment: "maintenance", author: "ops",
                createdAt: Harness.t0)
        ]
        #expect(h.cycle(60, [Harness.offline("d1", since: -700), Harness.offline("d2", since: -700)]).intents.isEmpty)
        #expect(h.cycle(3600, [Harness.offline("d1", since: -700)]).intents.isEmpty)  // no repeat while silenced
        let resolved = h.cycle(3660, [Harness.online("d1", at: 3650)]).intents
        #expect(resolved.count == 2)
        #expect(resolved.allSatisfy { $0.resolved.map(\.key.deviceID) == ["d1"] && $0.firing.isEmpty })
    }

    @Test func inhibitionMutesMatchingAlertsWhileTheSourceFires() {
        let site = Rule(
            id: "site-down", condition: .field(.id, [Glob("gateway")]), notify: ["chat"], labels: ["site": "a"],
            inhibits: ["cam-offline"], inhibitEqual: ["workspace", "label:site"])
        let camera = Rule(
            id: "cam-offline", condition: .offlineFor(.seconds(600)), notify: ["chat"], labels: ["site": "a"])
        var h = Harness([site, camera])
        let intents = h.cycle(
            0,
            [
                Device(id: "gateway", lastHeartbeat: Harness.t0.addingTimeInterval(-700)),
                Harness.offline("cam1", since: -700),
            ]
        ).intents
        #expect(intents.flatMap(\.firing).map(\.key.ruleID) == ["site-down"])
    }

    @Test func anAlertToldFiringThenInhibitedStillHasItsResolveDelivered() {
        let site = Rule(
            id: "site-down", condition: .field(.id, [Glob("gateway")]), notify: ["chat"],
            inhibits: ["cam-offline"], inhibitEqual: ["workspace"])
        let camera = Rule(id: "cam-offline", condition: .offlineFor(.seconds(600)), notify: ["chat"])
        var h = Harness([site, camera])
        let gatewayDown = Device(id: "gateway", lastHeartbeat: Harness.t0.addingTimeInterval(-700))
        #expect(
            h.cycle(0, [Harness.offline("cam1", since: -700)]).intents.flatMap(\.firing).map(\.key.ruleID) == [
                "cam-offline"
            ])
        // The gateway goes down: the camera alert is now inhibited, and not re-sent.
        let inhibited = h.cycle(60, [gatewayDown, Harness.offline("cam1", since: -700)]).intents
        #expect(inhibited.flatMap(\.firing).map(\.key.ruleID) == ["site-down"])
        #expect(inhibited.flatMap(\.resolved).isEmpty)
        // The camera recovers while inhibited: the receiver that heard it fire hears it resolve.
        let resolved = h.cycle(120, [gatewayDown, Harness.online("cam1", at: 110)]).intents
        #expect(resolved.flatMap(\.resolved).map(\.key.ruleID) == ["cam-offline"])
    }

    @Test func silenceMatchersParseAndMatch() throws {
        #expect(try Silence.Matcher.parse("tag=site-*").get() == .init(name: "tag", pattern: "site-*"))
        #expect(try Silence.Matcher.parse("label:team = edge").get() == .init(name: "label:team", pattern: "edge"))
        #expect(throws: Silence.MatcherError.self) { try Silence.Matcher.parse("rules=x").get() }
        #expect(throws: Silence.MatcherError.self) { try Silence.Matcher.parse("rule").get() }
    }
}

@Suite("JSONWriter round trips")
struct JSONWriterTests {
    @Test func intentsAndAlertsReadBackEqualThroughJSONDecoder() throws {
        var h = Harness([offlineRule])
        let hostile = Device(
            id: "d\"1\\", name: "cam \n\t\u{1}é😀 <b>", status: .other("re\"boot"),
            lastHeartbeat: Timestamp.parse("2026-11-28T11:00:00.123Z"),
            platform: "Linux", architecture: "aarch64", hostname: "h", rfdmVersion: "1.2", type: "jetson",
            hardware: Hardware(gpu: "Orin", totalMemoryMB: 7982.5), tags: ["a,b", "\"q\""],
            createdAt: Timestamp.parse("2026-01-01T00:00:00Z"))
        let intents = h.cycle(0.25, [hostile, Harness.offline("d2", since: -700)]).intents
        #expect(!intents.isEmpty)
        for intent in intents {
            #expect(try JSONDecoder().decode(NotificationIntent.self, from: intent.jsonData) == intent)
        }
        for alert in h.book.alerts.values {
            #expect(try JSONDecoder().decode(AlertInstance.self, from: alert.jsonData) == alert)
        }
        let resolved = h.cycle(120.5, [Harness.online("d2", at: 100)]).intents
        for intent in resolved {
            #expect(try JSONDecoder().decode(NotificationIntent.self, from: intent.jsonData) == intent)
        }
        // The outbox's pull reader reads the same back, from JSONWriter's output and from
        // JSONEncoder's (other spacing, escapes and key order).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        for intent in intents + resolved {
            #expect(try NotificationIntent(outboxJSON: intent.jsonData) == intent)
            #expect(try NotificationIntent(outboxJSON: encoder.encode(intent)) == intent)
        }
    }

    @Test func theOutboxReaderRefusesWhatItCannotReadExactly() {
        for text in [
            "", "{", #"{"id": "x"}"#, "[]",
            #"{"id": "x", "receiver": "r", "groupKey": "g", "reason": "new", "createdAt": "yesterday"}"#,
            #"{"id": "x", "receiver": "r", "groupKey": "g", "reason": "new", "createdAt": 1} trailing"#,
            #"{"id": "x", "receiver": "r", "groupKey": "g", "reason": "new", "createdAt": 1, "firing": [{"key": {}}]}"#,
            #"{"id": "\u12"}"#,
        ] {
            #expect(throws: (any Error).self, "\(text)") { try NotificationIntent(outboxJSON: Data(text.utf8)) }
        }
        let minimal =
            #"{"id": "x", "receiver": "r", "groupKey": "g", "reason": "new", "createdAt": 1.5, "unknown": [1, {"a": null}, true]}"#
        #expect(
            (try? NotificationIntent(outboxJSON: Data(minimal.utf8)))?.createdAt
                == Date(timeIntervalSinceReferenceDate: 1.5))
    }
}
