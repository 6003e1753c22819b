import CurlHTTP
import DeviceWatchCore
import Foundation

/// Discord webhooks: `content` (at most 2,000 characters) and embeds within Discord's limits
/// (10 embeds, 6,000 characters in all), with `allowed_mentions: {"parse": []}` so no device
/// name can ping anyone. A 429's `retry_after` (in the JSON body) is honoured, and so is an empty
/// rate-limit bucket (`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After`): the next request
/// waits for the reset.
public struct DiscordReceiver: Receiver {
    public let name: String
    public let url: Secret
    public let rateLimit: Configuration.RateLimit
    public let template: TemplateOverride?
    public var secrets: [Secret] { [url] }

    public init(name: String, url: Secret, rateLimit: Configuration.RateLimit = .init(perSecond: 0.5, burst: 5), template: TemplateOverride? = nil) {
        self.name = name
        self.url = url
        self.rateLimit = rateLimit
        self.template = template
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        jsonPost(to: url, body: try payload(for: intent, context: context))
    }

    public func interpret(_ response: HTTPResponseData) -> DeliveryOutcome {
        if response.status == 429,
            let body = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let seconds = (body["retry_after"] as? NSNumber)?.doubleValue
        {
            return .retry(reason: "HTTP 429 (Discord rate limit)", after: .milliseconds(Int(seconds * 1000)))
        }
        return DeliveryOutcome.classify(response).scrubbed(by: self)
    }

    public func pause(after response: HTTPResponseData) -> Double? {
        if response.status == 429,
            let body = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let seconds = (body["retry_after"] as? NSNumber)?.doubleValue, seconds > 0
        {
            return min(seconds, 300)
        }
        guard response.headers["X-RateLimit-Remaining"] == "0",
            let reset = response.headers["X-RateLimit-Reset-After"].flatMap(Double.init), reset > 0
        else { return nil }
        return min(reset, 300)
    }

    func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: 10)
        let color = view.isFiring ? (view.severity <= .warning ? 0xF2C744 : 0xD93F0B) : 0x2EB67D
        var embeds: [Embed] = []
        var budget = 6000
        for alert in view.firing + view.resolved {
            var description = alert.isFiring
                ? alert.summary : "\(alert.snapshot.key.ruleID) resolved (\(alert.snapshot.resolveReason ?? "recovered"))"
            if alert.isFiring, !alert.reasons.isEmpty { description += "\n" + alert.reasons.joined(separator: "; ") }
            let embed = Embed(
                title: "\(alert.isFiring ? "FIRING" : "RESOLVED"): \(alert.deviceName)".truncated(to: 256),
                description: description.truncated(to: 1024), color: alert.isFiring ? color : 0x2EB67D,
                footer: .init(text: "\(alert.snapshot.key.ruleID) · \(alert.snapshot.key.workspace) · \(alert.snapshot.device.id)".truncated(to: 256)),
                timestamp: Timestamp.format(alert.snapshot.endsAt ?? alert.snapshot.startsAt))
            guard embeds.count < 10, budget - embed.size >= 0 else { break }
            budget -= embed.size
            embeds.append(embed)
        }
        var content = view.headline
        if let template { content = try template.render(view) }
        let shown = embeds.count
        let total = view.firingCount + view.resolvedCount
        if total > shown { content += "\n(and \(total - shown) more)" }
        let body = Body(content: content.truncated(to: 2000), embeds: embeds, allowedMentions: .init(parse: []))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(body)
    }

    struct Body: Encodable {
        struct Mentions: Encodable { var parse: [String] }
        var content: String
        var embeds: [Embed]
        var allowedMentions: Mentions

        enum CodingKeys: String, CodingKey {
            case content, embeds
            case allowedMentions = "allowed_mentions"
        }
    }

    struct Embed: Encodable {
        struct Footer: Encodable { var text: String }
        var title: String
        var description: String
        var color: Int
        var footer: Footer
        var timestamp: String

        /// What counts toward Discord's 6,000-character limit.
        var size: Int { title.count + description.count + footer.text.count }
    }
}

extension DeliveryOutcome {
    func scrubbed(by receiver: some Receiver) -> DeliveryOutcome {
        switch self {
        case .retry(let reason, let after): .retry(reason: receiver.scrub(reason), after: after)
        case .permanentFailure(let reason): .permanentFailure(receiver.scrub(reason))
        case .delivered: .delivered
        }
    }
}
