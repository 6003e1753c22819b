import CurlHTTP
import DeviceWatchCore
import Foundation
import Testing

@testable import DeviceWatch

/// Device text that tries everything: a Markdown link, mentions, markup, a bare URL, control
/// characters, a bidirectional override and line breaks.
enum Hostile {
    static let name =
        "[click here](http://evil.example/phish) <!channel> @everyone <@123456> **bold** `code` ||spoiler|| "
        + "\u{202E}gpj.exe\u{0}\u{1B}[31m red\r\n# Second line"
    static let device = Device(
        id: "cam-<1>", name: name, status: .offline, lastHeartbeat: Fixed.now.addingTimeInterval(-1200),
        hostname: "evil.example\u{202E}\n> quoted", rfdmVersion: "1.4.0\u{1B}]0;title\u{7}",
        type: "jetson*[x](https://evil.example)",
        tags: ["production", "[x](http://evil.example)", "site\u{2066}-a"])

    static func alert(_ device: Device, status: AlertInstance.State = .firing) -> AlertSnapshot {
        var snapshot = Fixed.alert(1, status: status)
        snapshot.device = device
        return snapshot
    }

    static let intent = Fixed.intent(firing: [alert(device)])

    /// 10 KB names of the kinds that pass a grapheme count: flags, ZWJ families, combining marks,
    /// CJK, right-to-left text, and a mix with a Markdown link.
    static let longNames: [(kind: String, name: String)] = [
        ("flags", String(repeating: "🇺🇦🇯🇵", count: 640)),
        ("ZWJ sequences", String(repeating: "👨‍👩‍👧‍👦", count: 400)),
        ("combining marks", "a" + String(repeating: "\u{301}", count: 10_000)),
        ("CJK", String(repeating: "監視カメラ", count: 700)),
        (
            "right-to-left",
            String(
                repeating: "\u{5DE}\u{5E6}\u{5DC}\u{5de}\u{5D4} \u{643}\u{627}\u{645}\u{64A}\u{631}\u{627} ", count: 500
            )
        ),
        ("markup", String(repeating: "[a](http://e.x) *_~`|", count: 500)),
    ]

    /// A group of `count` alerts for devices with this name.
    static func group(name: String, count: Int) -> NotificationIntent {
        Fixed.intent(
            firing: (1...count).map { index in
                var snapshot = Fixed.alert(index, name: name)
                snapshot.device.hostname = name
                snapshot.device.type = name
                snapshot.device.tags = [name]
                return snapshot
            })
    }
}

/// Every string in a decoded JSON value.
func strings(in value: Any) -> [String] {
    switch value {
    case let text as String: [text]
    case let array as [Any]: array.flatMap(strings(in:))
    case let object as [String: Any]: object.values.flatMap(strings(in:))
    default: []
    }
}

@Suite("Receiver text: inert device text, limits in the services' units")
struct ReceiverTextTests: SampleReceiverSuite {
    let ntfy = NtfyReceiver(name: "r", url: Secret("https://ntfy.test/fleet-alerts"))
    let telegram = TelegramReceiver(
        name: "r", botToken: Secret("123456:BOT-TOKEN-SECRET"), chatID: "-1001234567890", api: "http://127.0.0.1:9")
    let pagerdutyGroup = PagerDutyReceiver(
        name: "r", routingKey: Secret("R0UTINGKEY0000000000000000000000"), endpoint: "http://127.0.0.1:9/v2/enqueue",
        mode: .perGroup)

    @Test func hostileDevicePayloadsMatchTheirGoldenFiles() throws {
        try expectGolden("ntfy-hostile", body(ntfy, Hostile.intent))
        try expectGolden("telegram-hostile", body(telegram, Hostile.intent))
        try expectGolden("pagerduty-group-hostile", body(pagerdutyGroup, Hostile.intent))
        try expectGolden("slack-hostile", body(slack, Hostile.intent))
        try expectGolden("discord-hostile", body(discord, Hostile.intent))
        try expectGolden("teams-hostile", body(teams, Hostile.intent))
        try expectGolden("pagerduty-hostile", body(pagerduty, Hostile.intent))
        try expectGolden("webhook-hostile", body(webhook, Hostile.intent))
        try expectGolden("opsgenie-hostile", body(opsgenie, Hostile.intent))
        try expectGolden("googlechat-hostile", body(googlechat, Hostile.intent))
        try expectGolden("mattermost-hostile", body(mattermost, Hostile.intent))
    }

    /// 10 KB names of flags, combining marks and CJK, in a group of 12: `scripts/check-payloads`
    /// checks these with Slack's SDK and Microsoft's Adaptive Card schema.
    @Test func longNamePayloadsMatchTheirGoldenFiles() throws {
        let name =
            String(repeating: "🇺🇦", count: 300) + "a" + String(repeating: "\u{301}", count: 3000)
            + String(repeating: "監視カメラ", count: 120)
        let group = Hostile.group(name: name, count: 12)
        try expectGolden("slack-long", body(slack, group))
        try expectGolden("discord-long", body(discord, group))
        try expectGolden("teams-long", body(teams, group))
        try expectGolden("pagerduty-long", [body(pagerduty, group)[0]])
    }

    /// What a person reads carries no control or bidirectional character, and no bare link.
    @Test(arguments: [
        "slack", "discord", "teams", "pagerduty", "pagerduty-group", "ntfy", "telegram", "opsgenie", "googlechat",
        "mattermost", "email",
    ])
    func noControlCharacterBidiOverrideOrLinkReachesPeople(receiver name: String) throws {
        let receivers: [String: any Receiver] = [
            "slack": slack, "discord": discord, "teams": teams, "pagerduty": pagerduty,
            "pagerduty-group": pagerdutyGroup,
            "ntfy": ntfy, "telegram": telegram, "opsgenie": opsgenie, "googlechat": googlechat,
            "mattermost": mattermost,
        ]
        // Email's text is its message's parts and headers, not JSON.
        let texts: [String]
        if name == "email" {
            let message = try email.message(for: Hostile.intent, context: Fixed.context, at: Fixed.now)
            texts = [message.plainText, message.html] + message.headers.map(\.value)
        } else {
            texts = try body(receivers[name]!, Hostile.intent).flatMap {
                strings(in: try JSONSerialization.jsonObject(with: $0))
            }
        }
        do {
            for text in texts {
                for scalar in text.unicodeScalars {
                    #expect(
                        scalar == "\n" || scalar.properties.generalCategory != .control,
                        "\(name): control U+\(String(scalar.value, radix: 16)) in \(text)")
                    #expect(!InertText.isBidirectionalControl(scalar), "\(name): bidi control in \(text)")
                }
                #expect(
                    !text.contains("http://evil") && !text.contains("https://evil"), "\(name): a live link in \(text)")
            }
        }
    }

    @Test func mattermostAndGoogleChatMentionNoOne() throws {
        let post = try json(body(mattermost, Hostile.intent)[0])
        let text = try #require((post["attachments"] as? [[String: Any]])?.first?["text"] as? String)
        #expect(!text.contains("@everyone") && text.contains("@\u{2060}everyone"))
        #expect(text.contains("\\*\\*bold\\*\\*") && text.contains("\\[click here\\]"))
        let chat = String(decoding: try body(googlechat, Hostile.intent)[0], as: UTF8.self)
        #expect(!chat.contains("<!channel>") && !chat.contains("<@123456>"))
        #expect(chat.contains("&lt;!channel&gt;"))
    }

    @Test func slackMentionsNoOneAndLinksNowhere() throws {
        let text = String(decoding: try body(slack, Hostile.intent)[0], as: UTF8.self)
        #expect(!text.contains("<!channel>"))
        #expect(text.contains("&lt;!channel&gt;"))
        #expect(text.contains("cam-&lt;1&gt;"))
    }

    /// Discord and Teams render Markdown in titles, descriptions, text blocks and facts: every
    /// markup character of the device's text is escaped, so `[click here](…)` is not a link.
    @Test(arguments: ["discord", "teams"])
    func markdownReceiversEscapeMaskedLinksAndFormatting(receiver name: String) throws {
        let receiver: any Receiver = name == "discord" ? discord : teams
        let texts = strings(in: try JSONSerialization.jsonObject(with: try body(receiver, Hostile.intent)[0]))
        let shown = texts.filter { $0.contains("click here") }
        #expect(!shown.isEmpty)
        for text in texts {
            #expect(!text.contains("[click here]("), "\(name): a masked link in \(text)")
            #expect(!text.contains("[x]("), "\(name): a masked link in \(text)")
            #expect(!text.contains(" **bold**"), "\(name): formatting in \(text)")
            #expect(!text.contains(" <@123456>"), "\(name): a mention tag in \(text)")
        }
        #expect(
            shown.contains {
                $0.contains(#"\[click here\]"#) && $0.contains(#"\*\*bold\*\*"#) && $0.contains(#"\<@123456\>"#)
            })
    }

    @Test func aNameCannotForgeASecondLine() throws {
        for text in strings(in: try JSONSerialization.jsonObject(with: try body(discord, Hostile.intent)[0])) {
            #expect(!text.contains("\n# Second line") && !text.contains("\n\\# Second line"), "\(text)")
        }
    }

    // MARK: Limits

    @Test(arguments: Hostile.longNames.map(\.kind))
    func slackFieldsFitInCodePointsAndUTF16Units(kind: String) throws {
        let name = Hostile.longNames.first { $0.kind == kind }!.name
        for count in [1, 30] {
            let payload = try json(body(slack, Hostile.group(name: name, count: count))[0])
            let blocks = try #require(payload["blocks"] as? [[String: Any]])
            #expect(blocks.count <= 50)
            for block in blocks {
                let texts =
                    [(block["text"] as? [String: Any])?["text"] as? String].compactMap { $0 }
                    + ((block["elements"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }
                let limit = block["type"] as? String == "header" ? 150 : 3000
                for text in texts { expectFits(text, limit, "slack \(kind) \(block["type"] ?? "")") }
            }
            expectFits(try #require(payload["text"] as? String), 3000, "slack \(kind) text")
        }
    }

    @Test(arguments: Hostile.longNames.map(\.kind))
    func discordFieldsAndEmbedsFitInCodePointsAndUTF16Units(kind: String) throws {
        let name = Hostile.longNames.first { $0.kind == kind }!.name
        for count in [1, 30] {
            let payload = try json(body(discord, Hostile.group(name: name, count: count))[0])
            expectFits(try #require(payload["content"] as? String), 2000, "discord \(kind) content")
            let embeds = try #require(payload["embeds"] as? [[String: Any]])
            #expect(embeds.count <= 10 && !embeds.isEmpty)
            var total = 0
            for embed in embeds {
                let title = embed["title"] as? String ?? "", description = embed["description"] as? String ?? ""
                let footer = (embed["footer"] as? [String: Any])?["text"] as? String ?? ""
                expectFits(title, 256, "discord \(kind) title")
                expectFits(description, 4096, "discord \(kind) description")
                expectFits(footer, 2048, "discord \(kind) footer")
                total += title.utf16.count + description.utf16.count + footer.utf16.count
            }
            #expect(total <= 6000, "discord \(kind): \(total) UTF-16 units in the embeds")
        }
    }

    @Test(arguments: Hostile.longNames.map(\.kind))
    func pagerDutyFieldsFitInCodePointsAndUTF16Units(kind: String) throws {
        let name = Hostile.longNames.first { $0.kind == kind }!.name
        let event = try json(body(pagerduty, Hostile.group(name: name, count: 1))[0])
        let payload = try #require(event["payload"] as? [String: Any])
        expectFits(try #require(payload["summary"] as? String), 1024, "pagerduty \(kind) summary")
        for field in ["source", "component", "group", "class"] {
            expectFits(payload[field] as? String ?? "", 255, "pagerduty \(kind) \(field)")
        }
        #expect(try body(pagerduty, Hostile.group(name: name, count: 1))[0].count < 512 * 1024)
    }

    @Test(arguments: Hostile.longNames.map(\.kind))
    func pagerDutyGroupNtfyAndTelegramFitInCodePointsAndUTF16Units(kind: String) throws {
        let name = Hostile.longNames.first { $0.kind == kind }!.name
        for count in [1, 30] {
            let group = Hostile.group(name: name, count: count)
            let event = try json(body(pagerdutyGroup, group)[0])
            let payload = try #require(event["payload"] as? [String: Any])
            expectFits(try #require(payload["summary"] as? String), 1024, "pagerduty group \(kind) summary")
            for field in ["source", "group", "class"] {
                expectFits(payload[field] as? String ?? "", 255, "pagerduty group \(kind) \(field)")
            }
            for (key, value) in try #require(payload["custom_details"] as? [String: String]) {
                expectFits(value, 1024, "pagerduty group \(kind) \(key)")
            }
            let message = try json(body(ntfy, group)[0])
            expectFits(try #require(message["title"] as? String), 250, "ntfy \(kind) title")
            let text = try #require(message["message"] as? String)
            expectFits(text, 4096, "ntfy \(kind) message")
            #expect(text.utf8.count <= 4096, "ntfy \(kind): \(text.utf8.count) bytes")
            expectFits(try #require(try json(body(telegram, group)[0])["text"] as? String), 4096, "telegram \(kind)")
        }
    }

    @Test(arguments: Hostile.longNames.map(\.kind))
    func opsgenieGoogleChatMattermostAndEmailFitTheirLimits(kind: String) throws {
        let name = Hostile.longNames.first { $0.kind == kind }!.name
        for count in [1, 30] {
            let group = Hostile.group(name: name, count: count)
            let creates = try body(opsgenie, group).map { try json($0) }
            #expect(creates.count == count)
            for create in creates {
                expectFits(try #require(create["message"] as? String), 130, "opsgenie \(kind) message")
                expectFits(try #require(create["description"] as? String), 15_000, "opsgenie \(kind) description")
                expectFits(try #require(create["entity"] as? String), 512, "opsgenie \(kind) entity")
                expectFits(try #require(create["source"] as? String), 100, "opsgenie \(kind) source")
                for tag in try #require(create["tags"] as? [String]) { expectFits(tag, 50, "opsgenie \(kind) tag") }
                let details = try #require(create["details"] as? [String: String])
                expectFits(details.map { $0.key + $0.value }.joined(), 8000, "opsgenie \(kind) details")
            }
            let chat = try body(googlechat, group)[0]
            #expect(chat.count <= 32_000, "googlechat \(kind), \(count) alerts: \(chat.count) bytes")
            let post = try json(body(mattermost, group)[0])
            let text = try #require((post["attachments"] as? [[String: Any]])?.first?["text"] as? String)
            expectFits(text, 16_383, "mattermost \(kind) text")
            let message = try email.message(for: group, context: Fixed.context, at: Fixed.now)
            let subject = message.headers.first { $0.name == "Subject" }?.value ?? ""
            #expect(subject.components(separatedBy: "\r\n").allSatisfy { $0.count + 9 <= 78 }, "email \(kind)")
            #expect(message.data.count < 102_000, "email \(kind), \(count) alerts: \(message.data.count) bytes")
        }
    }

    /// Teams rejects messages over about 28 KB: a card of long names lists fewer alerts, then "and N more".
    @Test(arguments: Hostile.longNames.map(\.kind))
    func teamsCardsStayUnderTeamsMessageSize(kind: String) throws {
        let name = Hostile.longNames.first { $0.kind == kind }!.name
        for count in [1, 30] {
            let data = try body(teams, Hostile.group(name: name, count: count))[0]
            #expect(data.count <= 28_000, "teams \(kind), \(count) alerts: \(data.count) bytes")
            let card = try #require(
                ((try json(data))["attachments"] as? [[String: Any]])?.first?["content"] as? [String: Any])
            let blocks = try #require(card["body"] as? [[String: Any]])
            if count == 30 {
                let listed = blocks.filter { $0["type"] as? String == "FactSet" }.count
                #expect(blocks.last?["text"] as? String == "and \(30 - listed) more")
            }
            for fact in blocks.flatMap({ ($0["facts"] as? [[String: String]]) ?? [] }) {
                expectFits(fact["value"] ?? "", 400, "teams \(kind) fact")
            }
        }
    }

    @Test func aLongFirstGraphemeIsCutBetweenItsScalarsAndMarked() {
        let zalgo = "a" + String(repeating: "\u{301}", count: 10_000)
        let cut = zalgo.capped(TextLimit(100))
        #expect(cut.unicodeScalars.count == 100)
        #expect(cut.hasSuffix("…"))
        #expect(Array(cut.unicodeScalars.prefix(2)) == ["a", "\u{301}"])
    }

    func expectFits(_ text: String, _ limit: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            text.unicodeScalars.count <= limit, "\(what): \(text.unicodeScalars.count) code points, limit \(limit)",
            sourceLocation: sourceLocation)
        #expect(
            text.utf16.count <= limit, "\(what): \(text.utf16.count) UTF-16 units, limit \(limit)",
            sourceLocation: sourceLocation)
    }

    // MARK: Descriptions

    /// The shipped rules' summaries and descriptions are templates: every receiver gets them
    /// rendered, with the values the summary sees, and no `{{` survives anywhere.
    @Test func noTemplateSurvivesInAnyReceiversPayloadForTheShippedRules() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let loaded = try ConfigurationLoader.load(
            configPath: root.appendingPathComponent("examples/devicewatch.json").path)
        let context = RenderContext(rules: loaded.rules, externalURL: "http://devicewatch.example:9464")
        #expect(loaded.rules.rules.contains { $0.description?.contains("{{") == true })
        for rule in loaded.rules.rules {
            var alerts: [AlertSnapshot] = []
            for status in [AlertInstance.State.firing, .resolved] {
                var snapshot = Fixed.alert(1, status: status)
                snapshot.key = AlertKey(workspace: "acme", ruleID: rule.id, deviceID: "cam-1")
                snapshot.device.createdAt = Fixed.now.addingTimeInterval(-86_400)
                alerts.append(snapshot)
            }
            let intent = Fixed.intent(firing: [alerts[0]], resolved: [alerts[1]])
            for receiver in [slack, discord, teams, pagerduty, webhook] as [any Receiver] {
                for payload in try body(receiver, intent, context: context) {
                    let text = String(decoding: payload, as: UTF8.self)
                    #expect(!text.contains("{{") && !text.contains("}}"), "\(receiver.name) for \(rule.id): \(text)")
                }
            }
            #expect(!ConsoleReceiver.render(intent, context: context, at: Fixed.now).contains("{{"))
        }
        // The description reaches webhooks (annotations) and PagerDuty (custom_details), rendered.
        var offline = Fixed.alert(1)
        offline.key = AlertKey(workspace: "acme", ruleID: "production-offline", deviceID: "cam-1")
        let webhookAlert = try #require(
            (try json(body(webhook, Fixed.intent(firing: [offline]), context: context)[0])["alerts"] as? [[String: Any]])?
                .first)
        #expect(
            (webhookAlert["annotations"] as? [String: String])?["description"]
                == "line-1-cam (cam-1) on jetson-1 stopped heartbeating 20m ago. Check power and network at its site.")
        let event = try json(body(pagerduty, Fixed.intent(firing: [offline]), context: context)[0])
        #expect(
            ((event["payload"] as? [String: Any])?["custom_details"] as? [String: String])?["description"]?.hasPrefix(
                "line-1-cam (cam-1) on jetson-1") == true)
    }
}

@Suite("Console receiver text")
struct ConsoleTextTests {
    /// The terminal: no escape sequence, no carriage return, no second line from a device's name.
    @Test func aHostileNameCannotMoveTheCursorOrForgeALine() {
        let text = ConsoleReceiver.render(Hostile.intent, context: Fixed.context, at: Fixed.now)
        #expect(
            !text.unicodeScalars.contains {
                $0 == "\u{1B}" || $0 == "\r" || $0 == "\u{0}" || InertText.isBidirectionalControl($0)
            })
        // The header line, one line for the alert, nothing else.
        #expect(text.split(separator: "\n").count == 2, "\(text)")
        #expect(text.contains("gpj.exe"))
    }
}
