import CurlHTTP
import DeviceWatchCore
import Foundation

/// Microsoft Teams through a Workflows webhook: a message with an Adaptive Card attachment.
///
/// Teams refuses messages over about 28 KB, so the card is capped as a whole: alerts are listed
/// while the message stays within ``messageLimit`` bytes, then "and N more"; every text block and
/// fact is capped too. Device-controlled text has its Markdown escaped (TextBlocks and facts
/// render Markdown: no masked links, no formatting) and its `scheme://` broken.
public struct TeamsReceiver: ChatWebhookReceiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 1, burst: 4)
    /// The most bytes of JSON a message may take, with room to spare under Teams' ~28 KB.
    public static let messageLimit = 26_000
    /// A text block (the headline, an alert's summary) and a fact's value.
    public static let textLimit = TextLimit(1000, bytes: 2000)
    public static let factLimit = TextLimit(400, bytes: 1000)
    /// A template's rendered text.
    public static let templateLimit = TextLimit(20_000, bytes: 20_000)
    /// Alerts listed at most, whatever their size.
    public static let maxAlerts = 25

    public let endpoint: ChatEndpoint

    public init(endpoint: ChatEndpoint) { self.endpoint = endpoint }

    public func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: Self.maxAlerts)
        var body: [[String: Any]] = [
            [
                "type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
                "color": view.isFiring ? (view.severity <= .warning ? "Warning" : "Attention") : "Good",
                "text": view.headline(escaping: Markup.markdown).capped(Self.textLimit),
            ]
        ]
        if let template {
            body.append([
                "type": "TextBlock", "wrap": true,
                "text": try template.render(view, escaping: Markup.markdown).capped(Self.templateLimit),
            ])
        } else {
            // What the card takes without alerts, and a line saying how many are left out.
            var used = try Self.size(
                of: Self.message(
                    body: body + [Self.more(view.firingCount + view.resolvedCount)], externalURL: view.externalURL))
            var listed = 0
            for alert in view.firing + view.resolved {
                let elements = Self.elements(for: alert)
                let size = try elements.reduce(0) { $0 + (try Self.size(of: $1)) + 1 }
                guard used + size <= Self.messageLimit else { break }
                used += size
                body += elements
                listed += 1
            }
            let more = view.firingCount + view.resolvedCount - listed
            if more > 0 { body.append(Self.more(more)) }
        }
        return try JSONSerialization.data(
            withJSONObject: Self.message(body: body, externalURL: view.externalURL), options: Self.options)
    }

    /// An alert's text block and facts, every device-controlled value escaped and capped.
    static func elements(for alert: AlertSnapshot) -> [[String: Any]] {
        func fact(_ title: String, _ value: String) -> [String: String] {
            ["title": title, "value": Markup.markdown(value).capped(factLimit)]
        }
        var facts = [
            fact("Device", "\(alert.deviceName) (\(alert.deviceID))"), fact("Rule", alert.key.ruleID),
            fact("Workspace", alert.key.workspace), fact("Severity", alert.severity.rawValue),
        ]
        if !alert.reasons.isEmpty { facts.append(fact("Why", alert.reasons.joined(separator: "; "))) }
        return [
            [
                "type": "TextBlock", "wrap": true, "weight": "Bolder",
                "text": "\(alert.isFiring ? "FIRING" : "RESOLVED"): \(Markup.markdown(alert.summary))".capped(
                    textLimit),
            ],
            ["type": "FactSet", "facts": facts],
        ]
    }

    static func more(_ count: Int) -> [String: Any] {
        ["type": "TextBlock", "wrap": true, "isSubtle": true, "text": "and \(count) more"]
    }

    static func message(body: [[String: Any]], externalURL: String?) -> [String: Any] {
        var card: [String: Any] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
            "body": body,
        ]
        if let externalURL {
            card["actions"] = [["type": "Action.OpenUrl", "title": "Status page", "url": externalURL]]
        }
        return [
            "type": "message",
            "attachments": [
                ["contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": NSNull(), "content": card]
            ],
        ]
    }

    static let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]

    static func size(of object: [String: Any]) throws -> Int {
        try JSONSerialization.data(withJSONObject: object, options: options).count
    }
}
