import CurlHTTP
import DeviceWatchCore
import Foundation

/// Microsoft Teams through a Workflows webhook: a message with an Adaptive Card attachment.
public struct TeamsReceiver: Receiver {
    public let name: String
    public let url: Secret
    public let rateLimit: Configuration.RateLimit
    public let template: TemplateOverride?
    public var secrets: [Secret] { [url] }

    public init(name: String, url: Secret, rateLimit: Configuration.RateLimit = .init(perSecond: 1, burst: 4), template: TemplateOverride? = nil) {
        self.name = name
        self.url = url
        self.rateLimit = rateLimit
        self.template = template
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        jsonPost(to: url, body: try payload(for: intent, context: context))
    }

    func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: 25)
        var body: [[String: Any]] = [[
            "type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
            "color": view.isFiring ? (view.severity <= .warning ? "Warning" : "Attention") : "Good", "text": view.headline,
        ]]
        if let template {
            body.append(["type": "TextBlock", "wrap": true, "text": try template.render(view)])
        } else {
            for alert in view.firing + view.resolved {
                body.append(["type": "TextBlock", "wrap": true, "weight": "Bolder",
                    "text": "\(alert.isFiring ? "FIRING" : "RESOLVED"): \(alert.summary)".truncated(to: 1000)])
                var facts: [[String: String]] = [
                    ["title": "Device", "value": "\(alert.deviceName) (\(alert.snapshot.device.id))"],
                    ["title": "Rule", "value": alert.snapshot.key.ruleID], ["title": "Workspace", "value": alert.snapshot.key.workspace],
                    ["title": "Severity", "value": alert.snapshot.severity.rawValue],
                ]
                if !alert.reasons.isEmpty { facts.append(["title": "Why", "value": alert.reasons.joined(separator: "; ")]) }
                body.append(["type": "FactSet", "facts": facts])
            }
            let more = view.firingCount + view.resolvedCount - view.firing.count - view.resolved.count
            if more > 0 { body.append(["type": "TextBlock", "wrap": true, "isSubtle": true, "text": "and \(more) more"]) }
        }
        var card: [String: Any] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": body,
        ]
        if let external = view.externalURL {
            card["actions"] = [["type": "Action.OpenUrl", "title": "Status page", "url": external]]
        }
        let message: [String: Any] = [
            "type": "message",
            "attachments": [["contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": NSNull(), "content": card]],
        ]
        return try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
