import DeviceWatchCore
import Foundation
import Testing

/// Acknowledgements and escalation, through the worker's own cycle.
@Suite("On call: acknowledge and escalate")
struct OnCallTests {
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!

    static let rules = RuleSet([
        Rule(
            id: "offline", severity: .critical, condition: .status(["offline"]), notify: ["chat"],
            repeatEvery: .seconds(600),
            escalate: [
                EscalationStep(after: .seconds(1800), notify: ["pager"]),
                EscalationStep(after: .seconds(7200), notify: ["managers"]),
            ])
    ])

    var settings: AlertCycle.Settings {
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(0)
        defaults.groupInterval = .seconds(60)
        return AlertCycle.Settings(rules: Self.rules, defaults: RoutingDefaults(defaults))
    }

    func device(_ id: String, offline: Bool = true) -> Device {
        Device(id: id, name: id, status: offline ? .offline : .online, lastHeartbeat: Self.t0)
    }

    /// Polls `devices` every minute from `from` to `to` (minutes after t0), collecting what is sent.
    func run(
        _ state: inout AlertState, _ devices: [Device], minutes: ClosedRange<Int>,
        acknowledgements: [Acknowledgement] = []
    ) -> [(minute: Int, intent: NotificationIntent)] {
        var sent: [(Int, NotificationIntent)] = []
        for minute in minutes {
            let (_, intents) = AlertCycle.run(
                &state, .poll(workspace: "acme", devices: devices, at: Self.t0.addingTimeInterval(Double(minute * 60))),
                settings: settings, acknowledgements: acknowledgements)
            sent += intents.map { (minute, $0) }
        }
        return sent
    }

    func acknowledge(
        _ target: Acknowledgement.Request.Target, _ state: AlertState, minute: Int, duration: String? = nil
    )
        throws -> Acknowledgement
    {
        try Acknowledgement.Request(target: target, author: "alice", comment: "on it", duration: duration)
            .acknowledgement(
                id: "ack-1", alerts: state.book.alerts, groups: Array(state.routing.groups.values),
                at: Self.t0.addingTimeInterval(Double(minute * 60))
            ).get()
    }

    @Test func anUnacknowledgedAlertEscalatesStepByStepAndItsResolveReachesEveryone() {
        var state = AlertState()
        let firing = run(&state, [device("cam-1")], minutes: 0...130)
        let first = firing.filter { $0.intent.reason == .new }.map { "\($0.minute) \($0.intent.receiver)" }
        // The chat at once; the pager after 30 minutes; the managers after 2 hours.
        #expect(first == ["0 chat", "30 pager", "120 managers"])
        // Each goes on its own repeat schedule (every 10 minutes).
        #expect(firing.filter { $0.intent.receiver == "pager" && $0.intent.reason == .repeat }.first?.minute == 40)
        let resolved = run(&state, [device("cam-1", offline: false)], minutes: 131...132)
        #expect(
            Set(resolved.filter { $0.intent.reason == .resolved }.map(\.intent.receiver)) == [
                "chat", "pager", "managers",
            ])
    }

    @Test func anAcknowledgedAlertNeitherRepeatsNorEscalatesAndTheNextNotificationSaysWho() throws {
        var state = AlertState()
        let before = run(&state, [device("cam-1")], minutes: 0...5)
        #expect(before.map(\.intent.receiver) == ["chat"])
        let fingerprint = try #require(before.first?.intent.firing.first?.fingerprint)
        let ack = try acknowledge(.alert(fingerprint: fingerprint), state, minute: 5)
        let quiet = run(&state, [device("cam-1")], minutes: 6...200, acknowledgements: [ack])
        // Something ran: the cycle kept the alert firing all along, and told no one anything.
        #expect(state.book.alerts.values.allSatisfy { $0.state == .firing })
        #expect(quiet.isEmpty, "\(quiet.map { "\($0.minute) \($0.intent.receiver) \($0.intent.reason)" })")
        // A second device joins the group: it is news, and says who acknowledged the first.
        let joined = run(&state, [device("cam-1"), device("cam-2")], minutes: 201...201, acknowledgements: [ack])
        let change = try #require(joined.first?.intent)
        #expect(change.reason == .changed)
        let acknowledged = change.firing.first { $0.fingerprint == fingerprint }?.acknowledgement
        #expect(acknowledged?.author == "alice" && acknowledged?.comment == "on it")
        #expect(change.firing.first { $0.fingerprint != fingerprint }?.acknowledgement == nil)
        // The newcomer is not acknowledged: repeats resume for the group, and it escalates.
        let later = run(&state, [device("cam-1"), device("cam-2")], minutes: 202...232, acknowledgements: [ack])
        #expect(later.contains { $0.intent.reason == .repeat && $0.intent.receiver == "chat" })
        let pages = later.filter { $0.intent.receiver == "pager" }
        #expect(pages.first?.minute == 231 && pages.first?.intent.firing.map(\.key.deviceID) == ["cam-2"])
    }

    @Test func anAcknowledgementThatExpiresLetsRepeatsGoOnAndAResolveEndsIt() throws {
        var state = AlertState()
        let before = run(&state, [device("cam-1")], minutes: 0...1)
        let fingerprint = try #require(before.first?.intent.firing.first?.fingerprint)
        let ack = try acknowledge(.alert(fingerprint: fingerprint), state, minute: 1, duration: "20m")
        let sent = run(&state, [device("cam-1")], minutes: 2...35, acknowledgements: [ack])
        // Quiet until minute 21; then the repeat is due at once, and the pager at 30.
        #expect(sent.first?.minute == 21 && sent.first?.intent.reason == .repeat)
        #expect(sent.contains { $0.minute == 30 && $0.intent.receiver == "pager" })
        // The device recovers and fails again: a new firing, not acknowledged.
        var fresh = AlertState()
        _ = run(&fresh, [device("cam-1")], minutes: 0...1)
        let forever = try acknowledge(.alert(fingerprint: fingerprint), fresh, minute: 1)
        _ = run(&fresh, [device("cam-1", offline: false)], minutes: 2...3, acknowledgements: [forever])
        let again = run(&fresh, [device("cam-1")], minutes: 4...40, acknowledgements: [forever])
        #expect(again.first?.intent.reason == .new)
        #expect(again.contains { $0.intent.receiver == "pager" })
    }

    @Test func aGroupIsAcknowledgedByItsKeyAndUnknownTargetsAreRefusedClearly() throws {
        var state = AlertState()
        let sent = run(&state, [device("cam-1"), device("cam-2")], minutes: 0...1)
        let key = try #require(sent.first?.intent.groupKey)
        let ack = try acknowledge(.group(key: key), state, minute: 1)
        #expect(ack.alerts.count == 2 && ack.groupKey == key)
        #expect(run(&state, [device("cam-1"), device("cam-2")], minutes: 2...100, acknowledgements: [ack]).isEmpty)
        let problems = { (target: Acknowledgement.Request.Target, duration: String?) -> [String] in
            let result = Acknowledgement.Request(target: target, author: "a", comment: "", duration: duration)
                .acknowledgement(
                    id: "x", alerts: state.book.alerts, groups: Array(state.routing.groups.values), at: Self.t0)
            if case .failure(let error) = result { return error.problems }
            return []
        }
        #expect(problems(.alert(fingerprint: "nope"), nil).first?.contains("no alert has the fingerprint nope") == true)
        #expect(problems(.group(key: "{x=\"y\"}"), nil).first?.contains("no notification group has the key") == true)
        #expect(problems(.group(key: key), "soon").first?.contains("a duration such as 30m") == true)
    }

    @Test func escalationStepsAreCheckedWhereTheyAreWritten() {
        let (_, diagnostics) = ConfigurationParser.parse(
            #"""
            {"workspaces": [{"id": "acme"}], "rule_files": [], "receivers": {"pager": {"type": "console"}},
             "defaults": {"escalate": [{"after": "2h", "notify": "pager"}, {"after": "1h", "notify": ["pagr"]}, {"notify": "pager"}]}}
            """#, file: "devicewatch.json")
        let text = diagnostics.map(\.description)
        expectProblem(text, at: "defaults.escalate[1].after", saying: "after the one before")
        expectProblem(text, at: "defaults.escalate[1].notify[0]", saying: "did you mean \"pager\"")
        expectProblem(text, at: "defaults.escalate[2]", saying: "needs \"after\"")
    }
}
