import DeviceWatchCore
import Foundation
import Testing

/// What a notification says is fixed when it is planned, from the rule that fired.
@Suite("Text fixed at planning")
struct PlannedTextTests {
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!

    func rule(summary: String, description: String, minutes: Double) -> Rule {
        Rule(
            id: "offline", summary: summary, description: description, severity: .critical,
            condition: .offlineFor(.seconds(minutes * 60)), notify: ["pager"])
    }

    @Test func aReloadBeforeDeliveryDoesNotChangeWhatAPlannedNotificationSays() throws {
        let before = RuleSet([
            rule(summary: "{{device.name}} is down", description: "call the {{device.name}} site", minutes: 10)
        ])
        var state = AlertState()
        let device = Device(
            id: "cam-1", name: "gate", status: .offline, lastHeartbeat: Self.t0.addingTimeInterval(-3600))
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(0)
        let planned = try #require(
            AlertCycle.run(
                &state, .poll(workspace: "acme", devices: [device], at: Self.t0),
                settings: AlertCycle.Settings(rules: before, defaults: RoutingDefaults(defaults))
            ).intents.first)
        let alert = try #require(planned.firing.first)
        #expect(alert.text?.summary == "gate is down")
        #expect(alert.text?.description == "call the gate site")
        #expect(alert.text?.reasons == ["last heartbeat 1h ago (at least 10m)"])

        // The rules change (another template, another threshold) before the notification goes.
        let after = RuleSet([rule(summary: "{{device.name}} gone", description: "ignore", minutes: 30)])
        let told = try #require(after.withText(alert).text)
        #expect(told.summary == "gate is down")
        #expect(told.description == "call the gate site")
        // The threshold quoted is the one that fired (10m), not the new one (30m).
        #expect(told.reasons == ["last heartbeat 1h ago (at least 10m)"])

        // And it survives the outbox: both of its readers get the text back.
        let json = planned.jsonData
        #expect(try NotificationIntent(outboxJSON: Array(json)).firing.first?.text == alert.text)
        #expect(try JSONDecoder().decode(NotificationIntent.self, from: json).firing.first?.text == alert.text)
    }

    @Test func aNotificationFromBeforeTextsWereKeptIsRenderedWithTheRulesNow() {
        let rules = RuleSet([rule(summary: "{{device.name}} is down", description: "d", minutes: 10)])
        let snapshot = AlertSnapshot(
            key: AlertKey(workspace: "acme", ruleID: "offline", deviceID: "cam-1"),
            status: .firing, severity: .critical, labels: [:], startsAt: Self.t0, endsAt: nil, resolveReason: nil,
            device: Device(id: "cam-1", name: "gate", status: .offline), evaluatedAt: Self.t0, firstSeen: nil,
            message: nil)
        #expect(snapshot.text == nil)
        #expect(rules.withText(snapshot).text?.summary == "gate is down")
    }
}
