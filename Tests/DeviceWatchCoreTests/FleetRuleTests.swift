import DeviceWatchCore
import Foundation
import Testing

/// Fleet rules: groups of devices judged together, one alert per group, the group's cameras
/// inhibited while it fires.
@Suite("Fleet rules")
struct FleetRuleTests {
    static let siteDown = Rule(
        id: "site-down", summary: "{{group.key}}: {{group.matching}} of {{group.total}} cameras offline",
        severity: .critical, selector: .tags(TagFilter(allOf: [Glob("production")])), condition: .status(["offline"]),
        notify: ["pager"], inhibits: ["production-offline"],
        fleet: FleetCondition(
            groupBy: ["tag:site-*"], minDevices: 3, threshold: .fractionAtLeast(0.5), of: .status(["offline"])))
    static let cameraOffline = Rule(
        id: "production-offline", summary: "{{device.name}} offline", severity: .warning,
        condition: .offlineFor(.seconds(600)), notify: ["pager"])

    /// `count` cameras of `site`, the first `offline` of them offline for 20 minutes.
    static func site(_ site: String, count: Int, offline: Int, at seconds: Double = 0) -> [Device] {
        (1...count).map { index in
            let id = "\(site)-cam-\(index)"
            return index <= offline
                ? Device(
                    id: id, name: "\(site) cam \(index)", status: .offline,
                    lastHeartbeat: Harness.t0.addingTimeInterval(seconds - 1200), tags: ["production", site])
                : Device(
                    id: id, name: "\(site) cam \(index)", status: .online,
                    lastHeartbeat: Harness.t0.addingTimeInterval(seconds - 10), tags: ["production", site])
        }
    }

    @Test func groupsAreCountedAndOnlyThoseThatHoldFire() throws {
        let rules = RuleSet([Self.siteDown])
        let devices =
            Self.site("site-a", count: 4, offline: 2) + Self.site("site-b", count: 4, offline: 1)
            + Self.site("site-c", count: 2, offline: 2)
            + [Device(id: "lab-1", status: .offline, lastHeartbeat: Harness.t0, tags: ["lab", "site-a"])]
        let evaluation = rules.evaluate(workspace: "acme", devices: devices, at: Harness.t0, fleetMembers: true)
        #expect(
            evaluation.fleetGroups.map { "\($0.facts.group) \($0.facts.matching)/\($0.facts.total) \($0.holds)" } == [
                "site-a 2/4 true", "site-b 1/4 false", "site-c 2/2 false",
            ])
        #expect(evaluation.matchCounts["site-down"] == 1)
        #expect(evaluation.findings.isEmpty)
        let siteA = try #require(evaluation.fleetGroups.first)
        // The lab device is not selected by `where`: not a member. Matching members first.
        #expect(siteA.facts.members.map(\.id) == ["site-a-cam-1", "site-a-cam-2", "site-a-cam-3", "site-a-cam-4"])
        #expect(siteA.facts.members.map(\.matches) == [true, true, false, false])
        let finding = Finding(
            workspace: "acme", ruleID: "site-down", severity: .critical, device: FleetGroup.device(for: "site-a"),
            evaluatedAt: Harness.t0, fleet: siteA.facts)
        #expect(rules.summary(of: finding) == "site-a: 2 of 4 cameras offline")
        #expect(
            rules.reasons(for: finding) == [
                "2 of 4 devices in site-a (50%) are status is offline (at least 50% of the group)",
                "matching: site-a cam 1 (site-a-cam-1), site-a cam 2 (site-a-cam-2)",
            ])
        // Without asking for every group's members, only those that hold carry them.
        let lean = rules.evaluate(workspace: "acme", devices: devices, at: Harness.t0)
        #expect(lean.fleetGroups.map(\.facts.members.count) == [4, 0, 0])
    }

    /// Rules that share a `where` or a group spec share the per-device work; each still gets
    /// exactly the groups it gets alone.
    @Test func fleetRulesEvaluatedTogetherGetTheGroupsEachGetsAlone() {
        var byType = Self.siteDown
        byType.id = "type-down"
        byType.selector = .tags(TagFilter(allOf: [Glob("lab")]))
        byType.fleet?.groupBy = ["type", "tag:site-*"]
        var everyDevice = Self.siteDown
        everyDevice.id = "any-stale"
        everyDevice.selector = nil
        everyDevice.fleet?.of = .offlineFor(.seconds(600))
        everyDevice.fleet?.threshold = .countAtLeast(1)
        let rules = [Self.siteDown, byType, everyDevice, Self.cameraOffline]
        let devices =
            Self.site("site-a", count: 4, offline: 2) + Self.site("site-b", count: 3, offline: 3)
            + [
                Device(
                    id: "lab-1", status: .offline, lastHeartbeat: Harness.t0, type: "jetson", tags: ["lab", "site-a"]),
                Device(
                    id: "lab-2", status: .online, lastHeartbeat: Harness.t0, type: "jetson", tags: ["site-b", "lab"]),
                Device(id: "lab-3", status: .offline, lastHeartbeat: Harness.t0, tags: ["lab"]),
            ]
        func groups(_ rules: [Rule]) -> [String] {
            RuleSet(rules).evaluate(workspace: "acme", devices: devices, at: Harness.t0, fleetMembers: true)
                .fleetGroups.map { group in
                    "\(group.ruleID) \(group.facts.group) \(group.facts.matching)/\(group.facts.total) \(group.holds) "
                        + group.facts.members.map { "\($0.id)\($0.matches ? "*" : "")" }.joined(separator: ",")
                }
        }
        let together = groups(rules)
        #expect(together == rules.flatMap { groups([$0]) })
        #expect(together.contains("type-down jetson/site-a 1/1 false lab-1*"))
        #expect(together.contains("type-down (none)/(none) 1/1 false lab-3*"))
        #expect(together.filter { $0.hasPrefix("any-stale ") }.count == 3)  // site-a, site-b, (none)
    }

    @Test(arguments: [
        (FleetCondition.Threshold.countAtLeast(3), [2: false, 3: true, 4: true]),
        (.fractionAtLeast(0.3), [2: false, 3: true]),
        (.countBelow(2), [1: true, 2: false]),
    ])
    func thresholdsCountTheGroup(_ threshold: FleetCondition.Threshold, _ cases: [Int: Bool]) {
        let fleet = FleetCondition(groupBy: ["workspace"], threshold: threshold, of: .status(["offline"]))
        for (matching, holds) in cases { #expect(fleet.holds(total: 10, matching: matching) == holds, "\(matching)") }
        #expect(
            !FleetCondition(groupBy: [], minDevices: 11, threshold: threshold, of: .status([])).holds(
                total: 10, matching: 10))
    }

    @Test func aSiteOutagePagesOnceForTheSiteAndItsRecoveryResolvesIt() throws {
        var h = Harness([Self.siteDown, Self.cameraOffline])
        let healthy = Self.site("site-b", count: 20, offline: 0)
        #expect(h.cycle(0, healthy).intents.isEmpty)
        // The whole site drops: one alert for the site; the twenty camera alerts are inhibited.
        let outage = h.cycle(60, Self.site("site-b", count: 20, offline: 20, at: 60))
        #expect(outage.intents.map(\.receiver) == ["pager"])
        let page = try #require(outage.intents.first)
        #expect(page.firing.map(\.key.ruleID) == ["site-down"])
        #expect(page.firing.first?.fleet?.matching == 20)
        #expect(page.firing.first?.labels["group"] == "site-b" && page.firing.first?.labels["device"] == nil)
        #expect(
            h.book.alerts.values.filter { $0.key.ruleID == "production-offline" && $0.state == .firing }.count == 20)
        let fingerprint = try #require(page.firing.first?.fingerprint)
        #expect(fingerprint == Fingerprint.of(workspace: "acme", ruleID: "site-down", deviceID: "site-b"))
        // Still down an hour later: nothing new (no repeat within repeat_every, no camera pages).
        #expect(h.cycle(120, Self.site("site-b", count: 20, offline: 20, at: 120)).intents.isEmpty)
        // Power is back: the site resolves; the cameras were never told, so nothing for them.
        let recovery = h.cycle(180, Self.site("site-b", count: 20, offline: 0, at: 180))
        #expect(recovery.intents.flatMap(\.resolved).map(\.key.ruleID) == ["site-down"])
        #expect(recovery.intents.flatMap(\.firing).isEmpty)
        #expect(recovery.transitions.filter { $0.key.ruleID == "site-down" }.map(\.reason) == ["recovered"])
    }

    @Test func aCameraToldFiringBeforeItsSiteFellIsToldOfItsResolve() {
        var h = Harness([Self.siteDown, Self.cameraOffline])
        // One camera is down first: paged on its own.
        let first = h.cycle(0, Self.site("site-b", count: 4, offline: 1))
        #expect(first.intents.flatMap(\.firing).map(\.key.deviceID) == ["site-b-cam-1"])
        // Then the site: its page; cam-1's alert is inhibited from now on.
        let site = h.cycle(60, Self.site("site-b", count: 4, offline: 4, at: 60))
        #expect(site.intents.flatMap(\.firing).map(\.key.ruleID).contains("site-down"))
        #expect(!site.intents.flatMap(\.firing).contains { $0.key.deviceID == "site-b-cam-2" })
        // Everything recovers: the site and the camera told earlier both resolve.
        let back = h.cycle(120, Self.site("site-b", count: 4, offline: 0, at: 120))
        #expect(Set(back.intents.flatMap(\.resolved).map(\.key.deviceID)) == ["site-b", "site-b-cam-1"])
    }

    @Test func aSmallSiteBelowMinDevicesNeverFiresItsCamerasPageAlone() {
        var h = Harness([Self.siteDown, Self.cameraOffline])
        let intents = h.cycle(0, Self.site("kiosk", count: 2, offline: 2)).intents
        #expect(intents.flatMap(\.firing).map(\.key.ruleID) == ["production-offline", "production-offline"])
    }

    @Test func forDelaysAFleetAlertAndKeepFiringForHoldsItThroughABlip() {
        var rule = Self.siteDown
        rule.pendingFor = .seconds(120)
        rule.keepFiringFor = .seconds(300)
        var h = Harness([rule])
        _ = h.cycle(0, Self.site("site-b", count: 4, offline: 4))
        #expect(h.book.alerts.values.map(\.state) == [.pending])
        #expect(h.cycle(120, Self.site("site-b", count: 4, offline: 4, at: 120)).transitions.map(\.to) == [.firing])
        // Back for a moment: still firing within keep_firing_for, then resolved.
        #expect(h.cycle(180, Self.site("site-b", count: 4, offline: 0, at: 180)).transitions.isEmpty)
        #expect(h.cycle(600, Self.site("site-b", count: 4, offline: 0, at: 600)).transitions.map(\.to) == [.resolved])
    }

    @Test func aGroupWhoseDevicesAllLeaveResolves() {
        var h = Harness([Self.siteDown])
        _ = h.cycle(0, Self.site("site-b", count: 4, offline: 4))
        let gone = h.cycle(60, Self.site("site-c", count: 4, offline: 0, at: 60))
        #expect(gone.transitions.map { "\($0.key.deviceID) \($0.to.map(\.rawValue) ?? "-")" } == ["site-b resolved"])
        #expect(gone.intents.flatMap(\.resolved).map { $0.fleet?.total } == [0])
    }

    @Test func groupKeysJoinSeveralEntriesAndNameMissingFacts() {
        var rule = Self.siteDown
        rule.fleet?.groupBy = ["tag:site-*", "type"]
        rule.fleet?.minDevices = 1
        rule.selector = nil
        let devices = [
            Device(id: "a", status: .offline, type: "jetson", tags: ["site-b", "site-a"]),
            Device(id: "b", status: .offline),
        ]
        let groups = RuleSet([rule]).evaluate(workspace: "acme", devices: devices, at: Harness.t0).fleetGroups
        #expect(groups.map(\.facts.group) == ["(none)/(none)", "site-a/jetson"])
    }

    /// One fact alone: its value is the group's key (`(none)` when missing or empty), devices of
    /// a kind in runs or apart.
    @Test func aGroupOfOneFactIsItsValue() {
        var rule = Self.siteDown
        rule.fleet?.groupBy = ["type"]
        rule.fleet?.minDevices = 1
        rule.selector = nil
        let devices = [
            Device(id: "a", status: .offline, type: "jetson"), Device(id: "b", status: .offline, type: "jetson"),
            Device(id: "c", status: .offline, type: "rpi"), Device(id: "d", status: .offline),
            Device(id: "e", status: .offline, type: ""), Device(id: "f", status: .offline, type: "jetson"),
        ]
        let groups = RuleSet([rule]).evaluate(workspace: "acme", devices: devices, at: Harness.t0, fleetMembers: true)
            .fleetGroups
        #expect(groups.map { "\($0.facts.group) \($0.facts.total)" } == ["(none) 2", "jetson 3", "rpi 1"])
    }

    @Test func fleetAlertsAndTheirNotificationsReadBackWhole() throws {
        var h = Harness([Self.siteDown])
        var devices = Self.site("site-b", count: 4, offline: 4)
        devices[0].name = "cam \"1\" <b>\n😀"
        let intents = h.cycle(0, devices).intents
        let alert = try #require(h.book.alerts.values.first)
        #expect(alert.fleet?.members.count == 4)
        #expect(try JSONDecoder().decode(AlertInstance.self, from: alert.jsonData) == alert)
        let encoder = JSONEncoder()
        for intent in intents {
            #expect(intent.firing.first?.fleet == alert.fleet)
            #expect(try JSONDecoder().decode(NotificationIntent.self, from: intent.jsonData) == intent)
            #expect(try NotificationIntent(outboxJSON: intent.jsonData) == intent)
            #expect(try NotificationIntent(outboxJSON: encoder.encode(intent)) == intent)
        }
    }

    @Test func hostileMemberTextIsInertInTemplatesAndReasons() {
        var rule = Self.siteDown
        rule.summary = "{{#group.devices}}{{name}}|{{status}};{{/group.devices}}"
        rule.fleet?.minDevices = 1
        rule.fleet?.of = .status(["offline", "re\nboot\u{202E}"])
        let devices = [
            Device(
                id: "cam\u{202E}1", name: "evil\ncam\u{202E}gpj.exe", status: .other("re\nboot\u{202E}"),
                lastHeartbeat: Harness.t0, tags: ["production", "site-b"])
        ]
        let rules = RuleSet([rule])
        let group = rules.evaluate(workspace: "acme", devices: devices, at: Harness.t0).fleetGroups[0]
        let finding = Finding(
            workspace: "acme", ruleID: rule.id, severity: .critical, device: FleetGroup.device(for: "site-b"),
            evaluatedAt: Harness.t0, fleet: group.facts)
        #expect(group.holds && group.facts.members.first?.matches == true, "\(group)")
        #expect(rules.summary(of: finding) == "evil camgpj.exe|re boot;")
        for text in rules.reasons(for: finding) + [rules.summary(of: finding)] {
            #expect(!text.unicodeScalars.contains { $0 == "\n" || InertText.isBidirectionalControl($0) }, "\(text)")
        }
    }
}
