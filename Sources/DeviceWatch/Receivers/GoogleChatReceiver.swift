import CurlHTTP
import DeviceWatchCore
import Foundation

/// Google Chat incoming webhooks: a `cardsV2` message (a header, a widget per alert up to a
/// limit, "and N more", a button to the status page) in a thread per notification group
/// (`thread.threadKey`, with `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`), so a
/// group's firing, changes and resolve read as one conversation. Card text is Google Chat's HTML
/// subset: device text has `&`, `<` and `>` as entities and its links broken; the plain `text`
/// shown in notifications has no `<` (mentions such as `<users/all>`) or formatting marks left.
/// The whole message stays within Google Chat's 32,000 bytes. The webhook URL (its `key` and
/// `token`) is the secret.
public struct GoogleChatReceiver: ChatWebhookReceiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 1, burst: 1)
    public static let messageBytes = 32_000
    public static let maxAlerts = 20
    public static let widgetLimit = TextLimit(2000)
    public static let headerLimit = TextLimit(200)

    public let endpoint: ChatEndpoint

    public init(endpoint: ChatEndpoint) { self.endpoint = endpoint }

    /// Google Chat's card HTML: entities for its three markup characters, links broken.
    static func html(_ text: String) -> String {
        Markup.unlinked(InertText.line(text)).replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Plain message text, which Google Chat formats (`*bold*`, `<users/all>` mentions, `<url|text>`
    /// links) and cannot escape: angle brackets become look-alikes, formatting marks are kept
    /// from pairing by a zero-width space.
    static func plain(_ text: String) -> String {
        var out = ""
        for character in Markup.unlinked(InertText.line(text)) {
            switch character {
            case "<": out += "‹"
            case ">": out += "›"
            case "*", "_", "~", "`": out += "\(character)\u{200B}"
            default: out.append(character)
            }
        }
        return out
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        let base = url.exposedValue
        let separator = base.contains("?") ? "&" : "?"
        return jsonPost(
            to: Secret(base + separator + "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"),
            body: try payload(for: intent, context: context))
    }

    /// A thread per group of this receiver: stable across the group's notifications.
    func threadKey(_ intent: NotificationIntent) -> String {
        "devicewatch-" + Fingerprint.ofGroup(name + "\u{0}" + intent.groupKey)
    }

    public func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        var shown = Self.maxAlerts
        while true {
            let data = try encode(intent, context: context, shown: shown)
            if data.count <= Self.messageBytes || shown == 0 { return data }
            shown /= 2
        }
    }

    func encode(_ intent: NotificationIntent, context: RenderContext, shown: Int) throws -> Data {
        let view = NotificationView(intent, context: context, limit: shown)
        var widgets: [Widget] = []
        if let template {
            widgets.append(.paragraph(try template.render(view, escaping: Self.html).capped(Self.widgetLimit)))
        } else {
            for alert in view.firing {
                widgets.append(
                    .decorated(
                        top: "🔴 \(alert.severity.rawValue) · \(Self.html(alert.deviceID))",
                        text: Self.html(alert.summary).capped(Self.widgetLimit),
                        bottom: alert.reasons.isEmpty
                            ? nil : Self.html(alert.reasons.joined(separator: "; ")).capped(Self.widgetLimit)))
            }
            if view.firingCount > view.firing.count {
                widgets.append(.paragraph("and \(view.firingCount - view.firing.count) more firing"))
            }
            for alert in view.resolved {
                widgets.append(
                    .decorated(
                        top: "✅ resolved · \(Self.html(alert.deviceID))",
                        text: Self.html(alert.summary).capped(Self.widgetLimit),
                        bottom: Self.html(alert.resolveReasonText)))
            }
            if view.resolvedCount > view.resolved.count {
                widgets.append(.paragraph("and \(view.resolvedCount - view.resolved.count) more resolved"))
            }
        }
        if let external = view.externalURL {
            widgets.append(
                Widget(
                    buttonList: .init(buttons: [
                        .init(text: "Status page", onClick: .init(openLink: .init(url: "\(external)/")))
                    ])))
        }
        let card = Card(
            header: .init(
                title: view.headline(escaping: Markup.unlinked).capped(Self.headerLimit),
                subtitle: "workspace \(Markup.unlinked(view.workspace)) · \(intent.reason.rawValue)".capped(
                    Self.headerLimit)),
            sections: [.init(widgets: widgets)])
        let body = Body(
            text: Self.plain(view.headline).capped(Self.headerLimit),
            cardsV2: [.init(cardId: "devicewatch-\(intent.reason.rawValue)", card: card)],
            thread: .init(threadKey: threadKey(intent)))
        return try ReceiverJSON.encode(body)
    }

    struct Body: Encodable {
        struct CardWithID: Encodable {
            var cardId: String
            var card: Card
        }
        struct Thread: Encodable { var threadKey: String }
        var text: String
        var cardsV2: [CardWithID]
        var thread: Thread
    }

    struct Card: Encodable {
        struct Header: Encodable {
            var title: String
            var subtitle: String
        }
        struct Section: Encodable { var widgets: [Widget] }
        var header: Header
        var sections: [Section]
    }

    struct Widget: Encodable {
        struct Paragraph: Encodable { var text: String }
        struct Decorated: Encodable {
            var topLabel: String
            var text: String
            var bottomLabel: String?
            var wrapText = true
        }
        struct ButtonList: Encodable {
            struct Button: Encodable {
                struct OnClick: Encodable {
                    struct OpenLink: Encodable { var url: String }
                    var openLink: OpenLink
                }
                var text: String
                var onClick: OnClick
            }
            var buttons: [Button]
        }
        var textParagraph: Paragraph?
        var decoratedText: Decorated?
        var buttonList: ButtonList?

        static func paragraph(_ text: String) -> Widget { Widget(textParagraph: .init(text: text)) }
        static func decorated(top: String, text: String, bottom: String?) -> Widget {
            Widget(decoratedText: .init(topLabel: top, text: text, bottomLabel: bottom))
        }
    }
}
