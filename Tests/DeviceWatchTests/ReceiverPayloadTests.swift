import CurlHTTP
import DeviceWatch
import Foundation
import Testing

@testable import DeviceWatchCore

/// A fixed group of alerts, for golden payloads.
enum Fixed {
    static let now = Timestamp.parse("2026-11-28T12:00:00Z")!
    static let rules = RuleSet([
        Rule(
            id: "production-offline", summary: "{{device.name}} has been offline for {{offline_for}}",
            description: "Check power and network.",
            severity: .critical, condition: .offlineFor(.seconds(900)), notify: ["r"]),
        Rule(
            id: "site-down", summary: "{{group.key}}: {{group.matching}} of {{group.total}} cameras offline",
            severity: .critical, condition: .offlineFor(.seconds(300)), notify: ["r"], inhibits: ["production-offline"],
            fleet: FleetCondition(
                groupBy: ["tag:site-*"], minDevices: 3, threshold: .fractionAtLeast(0.5),
                of: .offlineFor(.seconds(300)))),
    ])
    static let context = RenderContext(rules: rules, externalURL: "http://devicewatch.example:9464")

    static func alert(_ index: Int, name: String? = nil, status: AlertInstance.State = .firing) -> AlertSnapshot {
        let key = AlertKey(workspace: "acme", ruleID: "production-offline", deviceID: "cam-\(index)")
        return AlertSnapshot(
            key: key,
            status: status,
            severity: .critical,
            labels: ["rule": key.ruleID, "workspace": "acme", "device": key.deviceID, "severity": "critical"],
            startsAt: now.addingTimeInterval(-300), endsAt: status == .resolved ? now : nil,
            resolveReason: status == .resolved ? "recovered" : nil,
            device: Device(
                id: key.deviceID, name: name ?? "line-\(index)-cam", status: .offline,
                lastHeartbeat: now.addingTimeInterval(-1200),
                hostname: "jetson-\(index)", rfdmVersion: "1.4.0", type: "jetson", tags: ["production", "site-a"]),
            evaluatedAt: now, firstSeen: nil, message: nil)
    }

    static func intent(
        firing: [AlertSnapshot], resolved: [AlertSnapshot] = [], reason: NotificationIntent.Reason = .new
    ) -> NotificationIntent {
        NotificationIntent(
            id: "0123456789abcdef0123456789abcdef-1", receiver: "r",
            groupKey: #"{rule="production-offline",workspace="acme"}"#,
            groupLabels: ["rule": "production-offline", "workspace": "acme"], firing: firing, resolved: resolved,
            reason: reason, createdAt: now)
    }

    static let firingGroup = intent(firing: [alert(1), alert(2)])
    static let resolvedGroup = intent(firing: [], resolved: [alert(1, status: .resolved)], reason: .resolved)
    static let largeGroup = intent(firing: (1...500).map { alert($0) })
    static let hostile = intent(firing: [alert(1, name: "<!channel> <https://evil|click> @everyone & co")])
    /// The groups every receiver has golden payloads of, by the name in the golden file's.
    static func group(_ name: String) -> NotificationIntent {
        ["firing": firingGroup, "resolved": resolvedGroup, "large": largeGroup, "fleet": fleetGroup][name]!
    }
    /// One fleet alert for a site of 500 cameras, 480 of them offline, the first with a hostile name.
    static let fleetGroup: NotificationIntent = {
        let members = (1...500).map { index in
            FleetMember(
                id: "cam-\(index)",
                name: index == 1 ? "<!channel> <https://evil|click> @everyone & co" : "line-\(index)-cam",
                status: index <= 480 ? "offline" : "online", matches: index <= 480)
        }
        let key = AlertKey(workspace: "acme", ruleID: "site-down", deviceID: "site-b")
        let site = AlertSnapshot(
            key: key,
            status: .firing, severity: .critical, labels: [:], startsAt: now.addingTimeInterval(-300), endsAt: nil,
            resolveReason: nil, device: FleetGroup.device(for: "site-b"), evaluatedAt: now, firstSeen: nil,
            message: nil, fleet: FleetFacts(group: "site-b", total: 500, matching: 480, members: members))
        var intent = Self.intent(firing: [site])
        intent.groupKey = #"{rule="site-down",workspace="acme"}"#
        intent.groupLabelPairs = GroupLabels(["rule": "site-down", "workspace": "acme"])
        return intent
    }()
}

func body(_ receiver: any Receiver, _ intent: NotificationIntent, context: RenderContext = Fixed.context) throws
    -> [Data]
{
    switch try receiver.delivery(for: intent, context: context, at: Fixed.now) {
    case .http(let request): return [request.body ?? Data()]
    case .httpSequence(let requests): return requests.map { $0.body ?? Data() }
    case .mail(let message): return [message.message]
    case .local: return []
    }
}

/// The one HTTP request `receiver` makes for `intent`; fails the test if it makes anything else.
func httpRequest(
    _ receiver: any Receiver, _ intent: NotificationIntent, sourceLocation: SourceLocation = #_sourceLocation
)
    throws -> HTTPRequestSpec
{
    let delivery = try receiver.delivery(for: intent, context: Fixed.context, at: Fixed.now)
    guard case .http(let request) = delivery else {
        Issue.record("not one HTTP request: \(delivery)", sourceLocation: sourceLocation)
        throw CancellationError()
    }
    return request
}

func json(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Compares with `Golden/NAME.json` (canonical JSON: sorted keys, pretty). Set DEVICEWATCH_UPDATE_GOLDEN=1 to rewrite.
func expectGolden(_ name: String, _ payloads: [Data], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let canonical = try payloads.map { try JSONSerialization.jsonObject(with: $0) }
    let text =
        String(
            decoding: try JSONSerialization.data(
                withJSONObject: canonical, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
            as: UTF8.self) + "\n"
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).json")
    if ProcessInfo.processInfo.environment["DEVICEWATCH_UPDATE_GOLDEN"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(text == expected, "payload \(name) differs from its golden file", sourceLocation: sourceLocation)
}

/// One receiver of each kind, with made-up secrets, for payload tests.
enum SampleReceivers {
    static let slack = SlackReceiver(name: "r", url: Secret("https://hooks.slack.test/services/T0/B0/SECRET"))
    static let pagerduty = PagerDutyReceiver(
        name: "r", routingKey: Secret("R0UTINGKEY0000000000000000000000"), endpoint: "http://127.0.0.1:9/v2/enqueue")
    static let discord = DiscordReceiver(name: "r", url: Secret("https://discord.test/api/webhooks/1/SECRET"))
    static let teams = TeamsReceiver(name: "r", url: Secret("https://teams.test/workflows/SECRET"))
    static let webhook = WebhookReceiver(name: "r", url: Secret("http://127.0.0.1:9/hook"))
    static let opsgenie = OpsgenieReceiver(name: "r", apiKey: Secret("0000-GENIE-KEY-SECRET"), region: "eu")
    static let googlechat = GoogleChatReceiver(
        name: "r", url: Secret("https://chat.googleapis.test/v1/spaces/AAA/messages?key=KEY&token=SECRET"))
    static let mattermost = MattermostReceiver(name: "r", url: Secret("https://mattermost.test/hooks/SECRET"))
    static let email = try! EmailReceiver(
        name: "r", server: "smtp://127.0.0.1:9",
        mail: Configuration.Mail(
            from: "alerts@fleet.example.com", fromAddress: "alerts@fleet.example.com", to: ["oncall@example.com"]))
}

/// A suite that calls the sample receivers by their names.
protocol SampleReceiverSuite {}

extension SampleReceiverSuite {
    var slack: SlackReceiver { SampleReceivers.slack }
    var pagerduty: PagerDutyReceiver { SampleReceivers.pagerduty }
    var discord: DiscordReceiver { SampleReceivers.discord }
    var teams: TeamsReceiver { SampleReceivers.teams }
    var webhook: WebhookReceiver { SampleReceivers.webhook }
    var opsgenie: OpsgenieReceiver { SampleReceivers.opsgenie }
    var googlechat: GoogleChatReceiver { SampleReceivers.googlechat }
    var mattermost: MattermostReceiver { SampleReceivers.mattermost }
    var email: EmailReceiver { SampleReceivers.email }
}

@Suite("Receiver payloads")
struct ReceiverPayloadTests: SampleReceiverSuite {

    @Test(arguments: ["firing", "resolved", "large", "fleet"])
    func payloadsMatchTheirGoldenFiles(group: String) throws {
        let intent = Fixed.group(group)
        try expectGolden("slack-\(group)", body(slack, intent))
        try expectGolden("discord-\(group)", body(discord, intent))
        try expectGolden("teams-\(group)", body(teams, intent))
        // A request per alert: the large group's golden keeps its first three of 500.
        let opsgenie = try body(SampleReceivers.opsgenie, intent)
        #expect(opsgenie.count == intent.firing.count + intent.resolved.count)
        try expectGolden("opsgenie-\(group)", group == "large" ? Array(opsgenie.prefix(3)) : opsgenie)
        try expectGolden("googlechat-\(group)", body(SampleReceivers.googlechat, intent))
        try expectGolden("mattermost-\(group)", body(SampleReceivers.mattermost, intent))
        // The large webhook golden lists 20 alerts (max_alerts) to stay readable.
        try expectGolden(
            "webhook-\(group)",
            body(
                group == "large"
                    ? WebhookReceiver(name: "r", url: Secret("http://127.0.0.1:9/hook"), maxAlerts: 20) : webhook,
                intent))
        if group != "large" { try expectGolden("pagerduty-\(group)", body(pagerduty, intent)) }
    }

    @Test func slackEscapesDeviceControlledTextSoNoOneIsMentionedAndNothingLinks() throws {
        let text = String(decoding: try body(slack, Fixed.hostile)[0], as: UTF8.self)
        #expect(!text.contains("<!channel>"))
        #expect(!text.contains("<https://evil|click>"))
        // The scheme's "://" is broken by a zero-width space, so Slack does not link it either.
        #expect(text.contains("&lt;!channel&gt; &lt;https:\u{200B}//evil|click&gt;"))
        #expect(text.contains("&amp; co"))
    }

    @Test func discordAllowsNoMentions() throws {
        let payload = try json(body(discord, Fixed.hostile)[0])
        #expect((payload["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
    }

    @Test func largeGroupsStayWithinEachReceiversLimits() throws {
        let slackPayload = try json(body(slack, Fixed.largeGroup)[0])
        let blocks = try #require(slackPayload["blocks"] as? [[String: Any]])
        #expect(blocks.count <= 50)
        for block in blocks {
            let text = (block["text"] as? [String: Any])?["text"] as? String ?? ""
            #expect(text.count <= 3000)
        }
        #expect(String(decoding: try body(slack, Fixed.largeGroup)[0], as: UTF8.self).contains("and 480 more firing"))

        let discordPayload = try json(body(discord, Fixed.largeGroup)[0])
        let embeds = try #require(discordPayload["embeds"] as? [[String: Any]])
        #expect(embeds.count <= 10)
        let total = embeds.reduce(0) { sum, embed in
            sum + ((embed["title"] as? String)?.count ?? 0) + ((embed["description"] as? String)?.count ?? 0)
                + (((embed["footer"] as? [String: Any])?["text"] as? String)?.count ?? 0)
        }
        #expect(total <= 6000)
        #expect(((discordPayload["content"] as? String)?.count ?? 0) <= 2000)
        #expect((discordPayload["content"] as? String)?.contains("and 490 more") == true)

        let events = try body(pagerduty, Fixed.largeGroup)
        #expect(events.count == 500)  // one event per alert, each deduplicated by fingerprint
        let webhookPayload = try json(
            body(WebhookReceiver(name: "r", url: Secret("http://x/"), maxAlerts: 100), Fixed.largeGroup)[0])
        #expect((webhookPayload["alerts"] as? [Any])?.count == 100)
        #expect(webhookPayload["truncatedAlerts"] as? Int == 400)
    }

    @Test func pagerDutyTriggersAndResolvesByFingerprintWithinItsLimits() throws {
        let long = Fixed.intent(firing: [Fixed.alert(1, name: String(repeating: "x", count: 3000))])
        let trigger = try json(body(pagerduty, long)[0])
        #expect(trigger["event_action"] as? String == "trigger")
        #expect(trigger["dedup_key"] as? String == Fixed.alert(1).fingerprint)
        let payload = try #require(trigger["payload"] as? [String: Any])
        #expect((payload["summary"] as? String)?.count == 1024)
        #expect(payload["source"] as? String == "jetson-1")
        #expect(payload["severity"] as? String == "critical")
        let resolve = try json(body(pagerduty, Fixed.resolvedGroup)[0])
        #expect(resolve["event_action"] as? String == "resolve")
        #expect(resolve["dedup_key"] as? String == Fixed.alert(1).fingerprint)
        #expect(resolve["payload"] == nil)
    }

    @Test func teamsSendsAnAdaptiveCardMessage() throws {
        let message = try json(body(teams, Fixed.firingGroup)[0])
        #expect(message["type"] as? String == "message")
        let attachment = try #require((message["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        #expect((attachment["content"] as? [String: Any])?["type"] as? String == "AdaptiveCard")
    }

    @Test func aTemplateOverrideReplacesTheText() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dw-template-\(UUID().uuidString).mustache"
        ).path
        try "{{headline}}: {{#firing}}{{device.name}} {{/firing}}({{firing_count}})".write(
            toFile: path, atomically: true, encoding: .utf8)
        let custom = SlackReceiver(
            name: "r", url: Secret("https://hooks.slack.test/x"), template: try TemplateOverride(path: path))
        let text = String(decoding: try body(custom, Fixed.firingGroup)[0], as: UTF8.self)
        #expect(text.contains("[FIRING:2] production-offline in acme: line-1-cam line-2-cam (2)"))
        #expect(try TemplateOverride(path: path).check(rules: Fixed.rules).isEmpty)
        #expect(throws: TemplateError.self) { try TemplateOverride(path: "/nonexistent.mustache") }
    }

    @Test func webhookSignaturesFollowStandardWebhooks() throws {
        // The Standard Webhooks specification's published example.
        let secret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Data(#"{"test": 2432232314}"#.utf8)
        let signature = try StandardWebhooks.signature(
            secret: secret, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", body: body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func fileReceiverAppendsJSONLines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-file-\(UUID().uuidString).jsonl")
            .path
        let receiver = FileReceiver(name: "f", path: path)
        for intent in [Fixed.firingGroup, Fixed.resolvedGroup] {
            guard case .local(let write) = try receiver.delivery(for: intent, context: Fixed.context, at: Fixed.now)
            else {
                Issue.record("expected a local delivery")
                return
            }
            try write()
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try json(Data(lines[0].utf8))
        #expect(first["status"] as? String == "firing")
        #expect(
            (first["alerts"] as? [[String: Any]])?.first?["summary"] as? String == "line-1-cam has been offline for 20m"
        )
    }
}

/// Text fixed at planning (``AlertText``) goes through exactly the escaping and limits that text
/// rendered at delivery does: for hostile device text, every receiver's payload is byte for byte
/// the one the hostile and limit tests check, planned text or not.
@Suite("Receiver payloads from planned text")
struct PlannedTextPayloadTests {
    @Test func everyReceiverSaysTheSameOfAHostileDeviceWhetherItsTextWasFixedAtPlanning() throws {
        let flags = String(repeating: "🇺🇦e\u{301}", count: 1500)  // about 10 KB of flags and combining marks
        let names = ["<!channel> <https://evil|click> @everyone & co [x](https://evil) \u{202E}\u{7}", flags]
        let devices = names.enumerated().map { index, name in
            Device(
                id: "cam-\(index)", name: name, status: .offline, lastHeartbeat: Fixed.now.addingTimeInterval(-1200),
                tags: ["production", "@here"])
        }
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(0)
        var state = AlertState()
        let planned = try #require(
            AlertCycle.run(
                &state, .poll(workspace: "acme", devices: devices, at: Fixed.now),
                settings: AlertCycle.Settings(rules: Fixed.rules, defaults: RoutingDefaults(defaults))
            ).intents.first)
        #expect(planned.firing.count == 2 && planned.firing.allSatisfy { $0.text != nil })
        var unplanned = planned
        unplanned.firing = planned.firing.map { snapshot in
            var old = snapshot
            old.text = nil
            return old
        }
        let receivers: [any Receiver] = [
            SampleReceivers.slack, SampleReceivers.discord, SampleReceivers.teams, SampleReceivers.pagerduty,
            SampleReceivers.webhook,
        ]
        for receiver in receivers {
            #expect(try body(receiver, planned) == body(receiver, unplanned), "\(receiver.name) \(type(of: receiver))")
        }
        // And the planned text itself is the device's text made inert.
        let summary = try #require(planned.firing.first { $0.key.deviceID == "cam-0" }?.text?.summary)
        #expect(!summary.contains("\u{202E}") && !summary.contains("\u{7}"))
    }

    /// A fleet alert whose members are named with 10 KB of flags and of combining marks, and a
    /// mention: every receiver's payload stays within its limits, counted in UTF-16 units.
    @Test func aFleetAlertOfHostileMembersStaysWithinEveryLimit() throws {
        var intent = Fixed.fleetGroup
        let heavy = [
            String(repeating: "🇺🇦", count: 2500), "e" + String(repeating: "\u{301}", count: 10_000), "@here <!channel>",
        ]
        let facts = try #require(intent.firing[0].fleet)
        intent.firing[0].fleet = FleetFacts(
            group: facts.group, total: facts.total, matching: facts.matching,
            members: heavy.enumerated().map {
                FleetMember(id: "cam-\($0.offset)", name: $0.element, status: "offline", matches: true)
            } + facts.members)
        let event = try json(body(SampleReceivers.pagerduty, intent)[0])
        let details = try #require((event["payload"] as? [String: Any])?["custom_details"] as? [String: String])
        for (key, value) in details { #expect(value.utf16.count <= 1024, "\(key): \(value.utf16.count)") }
        let slackText = String(decoding: try body(SampleReceivers.slack, intent)[0], as: UTF8.self)
        #expect(!slackText.contains("<!channel>") && !slackText.contains("@here <"))
        for data in try body(SampleReceivers.discord, intent) + body(SampleReceivers.teams, intent)
            + body(SampleReceivers.slack, intent)
        {
            #expect(data.count < 28_000, "\(data.count) bytes")
        }
    }
}
