import Foundation
import Testing

@testable import DeviceWatchCore

/// A camera whose link flaps: paged for its first flips, then once that it is flapping, then
/// nothing per flip until it has been stable, then once where it settled.
@Suite("Flapping")
struct FlappingTests {
    static let rule: Rule = {
        var rule = offlineRule
        rule.flapping = FlappingPolicy(changes: 4, within: .seconds(3600), stableFor: .seconds(1800))
        return rule
    }()

    /// d1 offline (for 700 s) at `seconds`, or back online.
    static func camera(_ seconds: Double, offline: Bool) -> [Device] {
        [offline ? Harness.offline("d1", since: seconds - 700) : Harness.online("d1", at: seconds - 5)]
    }

    func told(_ intents: [NotificationIntent]) -> [String] {
        intents.filter { $0.receiver == "pager" }.map { intent in
            "\(intent.reason.rawValue): firing \(intent.firing.map { $0.flapping == nil ? "d1" : "d1 (flapping)" }) "
                + "resolved \(intent.resolved.count)"
        }
    }

    @Test func aFlappingCameraPagesOnceThatItFlapsThenOnceWhereItSettled() throws {
        var h = Harness([Self.rule])
        var flip = 0
        func poll(_ seconds: Double, offline: Bool) -> [String] {
            told(h.cycle(seconds, Self.camera(seconds, offline: offline)).intents)
        }
        #expect(poll(0, offline: true) == ["new: firing [\"d1\"] resolved 0"])
        #expect(poll(60, offline: false) == ["resolved: firing [] resolved 1"])
        #expect(poll(120, offline: true) == ["new: firing [\"d1\"] resolved 0"])
        // The fourth change within the hour: flapping, held firing, and said once.
        #expect(poll(180, offline: false) == ["flapping: firing [\"d1 (flapping)\"] resolved 0"])
        let alert = try #require(h.book.alerts.values.first)
        #expect(alert.state == .firing && alert.flappingSince == Harness.t0.addingTimeInterval(180))
        // Four more flips: no fire/resolve pair for any of them.
        for (index, seconds) in [240.0, 300, 360, 420].enumerated() {
            #expect(poll(seconds, offline: index % 2 == 0).isEmpty, "flip at \(seconds)")
            flip += 1
        }
        #expect(flip == 4)
        // Polls go on while it is quiet (and a repeat would still say flapping).
        #expect(poll(1200, offline: false).isEmpty)
        // Stable for 30 minutes since its last change (at 420): it settles where it is, resolved.
        #expect(poll(2220, offline: false) == ["resolved: firing [] resolved 1"])
        #expect(h.book.alerts.values.allSatisfy { $0.flappingSince == nil })
    }

    @Test func aFlappingAlertThatSettlesFiringSaysSoOnce() {
        var h = Harness([Self.rule])
        for (index, seconds) in [0.0, 60, 120, 180, 240].enumerated() {
            _ = h.cycle(seconds, Self.camera(seconds, offline: index % 2 == 0))
        }
        #expect(h.book.alerts.values.first?.flappingSince != nil)
        // Down since 240 and stable: settles firing; the receiver hears it is no longer flapping.
        let settled = told(h.cycle(2040, Self.camera(2040, offline: true)).intents)
        #expect(settled == ["changed: firing [\"d1\"] resolved 0"])
        #expect(h.book.alerts.values.first?.state == .firing && h.book.alerts.values.first?.flappingSince == nil)
        // Then it is an ordinary firing alert: its recovery is an ordinary resolve.
        #expect(told(h.cycle(2100, Self.camera(2100, offline: false)).intents) == ["resolved: firing [] resolved 1"])
    }

    @Test func changesOutsideTheWindowDoNotCount() {
        var h = Harness([Self.rule])
        // Four changes, but more than an hour apart in all: never flapping, every change told.
        for (index, seconds) in [0.0, 1300, 2600, 3900, 5200].enumerated() {
            let intents = told(h.cycle(seconds, Self.camera(seconds, offline: index % 2 == 0)).intents)
            #expect(intents.count == 1 && !intents[0].hasPrefix("flapping"), "\(seconds): \(intents)")
        }
    }

    @Test func aFlappingAlertAndItsNotificationReadBackWhole() throws {
        var h = Harness([Self.rule])
        var intents: [NotificationIntent] = []
        for (index, seconds) in [0.0, 60, 120, 180].enumerated() {
            intents += h.cycle(seconds, Self.camera(seconds, offline: index % 2 == 0)).intents
        }
        let alert = try #require(h.book.alerts.values.first)
        #expect(alert.flips?.count == 4 && alert.flappingSince != nil)
        #expect(try JSONDecoder().decode(AlertInstance.self, from: alert.jsonData) == alert)
        let flapping = try #require(intents.last)
        #expect(flapping.reason == .flapping && flapping.firing.first?.flapping?.changes == 4)
        #expect(flapping.firing.first?.text?.reasons.last?.hasPrefix("flapping: 4 changes within 1h") == true)
        #expect(try NotificationIntent(outboxJSON: flapping.jsonData) == flapping)
        #expect(try JSONDecoder().decode(NotificationIntent.self, from: flapping.jsonData) == flapping)
        #expect(try NotificationIntent(outboxJSON: JSONEncoder().encode(flapping)) == flapping)
    }

    @Test(arguments: [
        (#"{"changes": 4, "within": "1h", "stable_for": "30m"}"#, nil),
        (#"{"changes": 1, "within": "1h", "stable_for": "30m"}"#, "changes is a whole number from 2"),
        (#"{"changes": 4, "within": "0s", "stable_for": "30m"}"#, "within must be longer than 0s"),
        (#"{"changes": 4, "within": "1h"}"#, #"flapping needs "stable_for""#),
        (#"{"changes": 4, "within": "1h", "stable": "30m"}"#, #"did you mean "stable_for"?"#),
    ])
    func theRuleKeyIsChecked(_ flapping: String, _ problem: String?) {
        let (rules, diagnostics) = RuleParser.parse(
            #"{"rules": [{"id": "r", "when": {"offline_for": "15m"}, "flapping": \#(flapping)}]}"#, file: "r.json")
        if let problem {
            #expect(rules.isEmpty && diagnostics.contains { $0.message.contains(problem) }, "\(diagnostics)")
        } else {
            #expect(diagnostics.isEmpty, "\(diagnostics)")
            #expect(
                rules.first?.flapping == FlappingPolicy(changes: 4, within: .seconds(3600), stableFor: .seconds(1800)))
        }
        let (_, fleet) = RuleParser.parse(
            #"{"rules": [{"id": "f", "fleet": {"when": {"offline_count_at_least": 2}}, "flapping": {"changes": 4, "within": "1h", "stable_for": "30m"}}]}"#,
            file: "r.json")
        #expect(fleet.contains { $0.message.contains("flapping is for a device rule") })
    }

    @Test func aRuleReloadedWithoutFlappingMakesItsFlappingAlertAnOrdinaryOne() {
        var h = Harness([Self.rule])
        for (index, seconds) in [0.0, 60, 120, 180, 240].enumerated() {
            _ = h.cycle(seconds, Self.camera(seconds, offline: index % 2 == 0))
        }
        #expect(h.book.alerts.values.first?.flappingSince != nil)
        h.rules = RuleSet([offlineRule])
        _ = h.cycle(300, Self.camera(300, offline: true))
        #expect(h.book.alerts.values.first?.flappingSince == nil && h.book.alerts.values.first?.flips == nil)
        #expect(told(h.cycle(360, Self.camera(360, offline: false)).intents) == ["resolved: firing [] resolved 1"])
    }
}
