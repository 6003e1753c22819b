import CurlHTTP
import DeviceWatchCore
import Foundation

/// Slack incoming webhooks: a `text` fallback and `blocks` (a header, a section per alert up to a
/// limit, "and N more", and a context line), within Slack's limits (50 blocks, 3,000 characters
/// a section, 150 a header, counted as Slack counts: code points and UTF-16 units, never
/// grapheme clusters). Every device-controlled string is escaped (`&`, `<`, `>`) and has its
/// `scheme://` broken, so a device named `<!channel>` mentions no one and `<https://evil|click>`
/// or `https://evil` links nowhere.
public struct SlackReceiver: ChatWebhookReceiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 1, burst: 3)
    /// Slack's limits: a header's plain text, a section's or context element's mrkdwn, the
    /// message's fallback `text` (Slack truncates past 40,000), blocks in a message.
    public static let headerLimit = TextLimit(150)
    public static let sectionLimit = TextLimit(3000)
    public static let textLimit = TextLimit(3000)
    public static let maxBlocks = 50

    public let endpoint: ChatEndpoint
    /// Alert sections at most (each kind); the rest are counted.
    public static let maxAlerts = 20

    public init(endpoint: ChatEndpoint) { self.endpoint = endpoint }

    public func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: Self.maxAlerts)
        let icon = view.isFiring ? (view.severity <= .warning ? ":warning:" : ":red_circle:") : ":large_green_circle:"
        // A header is plain text (no mrkdwn, nothing to escape): links are still broken.
        var blocks: [Block] = [
            .header("\(view.headline(escaping: Markup.unlinked)) (\(view.severity.rawValue))".capped(Self.headerLimit))
        ]
        if let template {
            blocks.append(.section(try template.render(view, escaping: Markup.slack).capped(Self.sectionLimit)))
        } else {
            for alert in view.firing {
                blocks.append(.section(Self.line(alert, icon: icon).capped(Self.sectionLimit)))
            }
            if view.firingCount > view.firing.count {
                blocks.append(.section("and \(view.firingCount - view.firing.count) more firing"))
            }
            for alert in view.resolved {
                blocks.append(.section(Self.line(alert, icon: ":large_green_circle:").capped(Self.sectionLimit)))
            }
            if view.resolvedCount > view.resolved.count {
                blocks.append(.section("and \(view.resolvedCount - view.resolved.count) more resolved"))
            }
        }
        var context = "workspace *\(Markup.slack(view.workspace))*"
        context += " · \(intent.reason.rawValue)"
        if let external = view.externalURL { context += " · <\(external)|status page>" }
        blocks.append(.context(context.capped(Self.sectionLimit)))
        let body = Body(
            text: view.headline(escaping: Markup.slack).capped(Self.textLimit),
            blocks: Array(blocks.prefix(Self.maxBlocks)))
        return try ReceiverJSON.encode(body)
    }

    static func line(_ alert: AlertSnapshot, icon: String) -> String {
        let device = "\(icon) *\(Markup.slack(alert.deviceName))* (\(Markup.slack(alert.deviceID)))"
        guard alert.isFiring else {
            return
                "\(device): \(Markup.slack(alert.key.ruleID)) resolved (\(Markup.slack(alert.resolveReasonText)))"
        }
        var text = "\(device): \(Markup.slack(alert.summary))"
        if !alert.reasons.isEmpty { text += "\n_\(Markup.slack(alert.reasons.joined(separator: "; ")))_" }
        return text
    }

    struct Body: Encodable {
        var text: String
        var blocks: [Block]
    }

    struct Text: Encodable {
        var type: String
        var text: String
        var emoji: Bool?
    }

    struct Block: Encodable {
        var type: String
        var text: Text?
        var elements: [Text]?

        static func header(_ text: String) -> Block {
            Block(type: "header", text: Text(type: "plain_text", text: text, emoji: true))
        }
        static func section(_ text: String) -> Block { Block(type: "section", text: Text(type: "mrkdwn", text: text)) }
        static func context(_ text: String) -> Block {
            Block(type: "context", elements: [Text(type: "mrkdwn", text: text)])
        }
    }
}
