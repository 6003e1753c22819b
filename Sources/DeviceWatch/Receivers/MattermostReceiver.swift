import CurlHTTP
import DeviceWatchCore
import Foundation

/// Mattermost incoming webhooks (Slack-compatible): a `text` headline and one attachment per
/// notification, coloured by severity, listing the alerts. Mattermost reads Markdown: device text
/// has every markup character backslash-escaped (CommonMark, as Mattermost parses it), its links
/// broken, and a word joiner after `@` and `~` so `@channel`, `@all` or `~town-square` mention
/// and link nothing. The text stays within Mattermost's 16,383 characters a post (counted in
/// UTF-16 units, never fewer than the code points Mattermost counts). The webhook URL is the secret.
public struct MattermostReceiver: ChatWebhookReceiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 1, burst: 5)
    public static let textLimit = TextLimit(16_383)
    public static let titleLimit = TextLimit(250)
    public static let maxAlerts = 50

    public let endpoint: ChatEndpoint

    public init(endpoint: ChatEndpoint) { self.endpoint = endpoint }

    /// Mattermost Markdown, inert.
    static func markdown(_ text: String) -> String {
        var text = Markup.markdown(InertText.line(text))
        for mark in ["@", "~"] where text.contains(mark) {
            text = text.replacingOccurrences(of: mark, with: mark + "\u{2060}")
        }
        return text
    }

    public func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: Self.maxAlerts)
        var lines: [String] = []
        if let template {
            lines.append(try template.render(view, escaping: Self.markdown))
        } else {
            for alert in view.firing {
                var line = "- **\(Self.markdown(alert.deviceName))** (\(Self.markdown(alert.deviceID))): "
                line += Self.markdown(alert.summary)
                if !alert.reasons.isEmpty { line += " — _\(Self.markdown(alert.reasons.joined(separator: "; ")))_" }
                lines.append(line)
            }
            if view.firingCount > view.firing.count {
                lines.append("and \(view.firingCount - view.firing.count) more firing")
            }
            for alert in view.resolved {
                lines.append(
                    "- ✅ **\(Self.markdown(alert.deviceName))** (\(Self.markdown(alert.deviceID))): resolved (\(Self.markdown(alert.resolveReasonText)))"
                )
            }
            if view.resolvedCount > view.resolved.count {
                lines.append("and \(view.resolvedCount - view.resolved.count) more resolved")
            }
        }
        var footer = "workspace **\(Self.markdown(view.workspace))** · \(intent.reason.rawValue)"
        if let external = view.externalURL { footer += " · [status page](\(external)/)" }
        // Whole lines, so no escape or emphasis is cut in half; the footer always fits.
        var text = ""
        var shown = 0
        for line in lines {
            let next = text.isEmpty ? line : text + "\n" + line
            guard (next + "\nand 9999 more lines\n\n" + footer).fits(Self.textLimit) else { break }
            text = next
            shown += 1
        }
        if shown < lines.count { text += "\nand \(lines.count - shown) more lines" }
        text = (text + "\n\n" + footer).capped(Self.textLimit)
        let colour = view.isFiring ? (view.severity >= .error ? "#d32f2f" : "#f9a825") : "#2e7d32"
        let headline = view.headline(escaping: Self.markdown).capped(Self.titleLimit)
        let body = Body(
            text: "**\(headline)**",
            attachments: [
                .init(fallback: Markup.unlinked(view.headline).capped(Self.titleLimit), color: colour, text: text)
            ])
        return try ReceiverJSON.encode(body)
    }

    struct Body: Encodable {
        struct Attachment: Encodable {
            var fallback: String
            var color: String
            var text: String
        }
        var text: String
        var attachments: [Attachment]
    }
}
