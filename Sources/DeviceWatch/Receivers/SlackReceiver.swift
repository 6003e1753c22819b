import CurlHTTP
import DeviceWatchCore
import Foundation

/// Slack incoming webhooks: a `text` fallback and `blocks` (a header, a section per alert up to a
/// limit, "and N more", and a context line), within Slack's limits (50 blocks, 3,000 characters
/// a section, 150 a header). Every device-controlled string is escaped (`&`, `<`, `>`), so a device
/// named `<!channel>` mentions no one and `<https://evil|click>` links nowhere.
public struct SlackReceiver: Receiver {
    public let name: String
    public let url: Secret
    public let rateLimit: Configuration.RateLimit
    public let template: TemplateOverride?
    /// Alert sections at most (each kind); the rest are counted.
    public let maxAlerts: Int

    public var secrets: [Secret] { [url] }

    public init(
        name: String, url: Secret, rateLimit: Configuration.RateLimit = .init(perSecond: 1, burst: 3), template: TemplateOverride? = nil,
        maxAlerts: Int = 20
    ) {
        self.name = name
        self.url = url
        self.rateLimit = rateLimit
        self.template = template
        self.maxAlerts = maxAlerts
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        jsonPost(to: url, body: try payload(for: intent, context: context))
    }

    func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: maxAlerts)
        let icon = view.isFiring ? (view.severity <= .warning ? ":warning:" : ":red_circle:") : ":large_green_circle:"
        var blocks: [Block] = [.header("\(view.headline) (\(view.severity.rawValue))".truncated(to: 150))]
        if let template {
            blocks.append(.section(Self.escape(try template.render(view)).truncated(to: 3000)))
        } else {
            for alert in view.firing {
                blocks.append(.section(Self.line(alert, icon: icon).truncated(to: 3000)))
            }
            if view.firingCount > view.firing.count { blocks.append(.section("and \(view.firingCount - view.firing.count) more firing")) }
            for alert in view.resolved {
                blocks.append(.section(Self.line(alert, icon: ":large_green_circle:").truncated(to: 3000)))
            }
            if view.resolvedCount > view.resolved.count {
                blocks.append(.section("and \(view.resolvedCount - view.resolved.count) more resolved"))
            }
        }
        var context = "workspace *\(Self.escape(intent.groupLabelPairs["workspace"] ?? view.firing.first?.snapshot.key.workspace ?? "-"))*"
        context += " · \(intent.reason.rawValue)"
        if let external = view.externalURL { context += " · <\(external)|status page>" }
        blocks.append(.context(context))
        let body = Body(text: Self.escape(view.headline), blocks: Array(blocks.prefix(50)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(body)
    }

    static func line(_ alert: AlertView, icon: String) -> String {
        let device = "\(icon) *\(escape(alert.deviceName))* (\(escape(alert.snapshot.device.id)))"
        guard alert.isFiring else {
            return "\(device): \(escape(alert.snapshot.key.ruleID)) resolved (\(escape(alert.snapshot.resolveReason ?? "recovered")))"
        }
        var text = "\(device): \(escape(alert.summary))"
        if !alert.reasons.isEmpty { text += "\n_\(escape(alert.reasons.joined(separator: "; ")))_" }
        return text
    }

    /// Slack's three control characters in text.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
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

        static func header(_ text: String) -> Block { Block(type: "header", text: Text(type: "plain_text", text: text, emoji: true)) }
        static func section(_ text: String) -> Block { Block(type: "section", text: Text(type: "mrkdwn", text: text)) }
        static func context(_ text: String) -> Block { Block(type: "context", elements: [Text(type: "mrkdwn", text: text)]) }
    }
}
