import CurlHTTP
import DeviceWatchCore
import Foundation

/// Discord webhooks: `content` (at most 2,000 characters) and embeds within Discord's limits
/// (10 embeds, 6,000 characters in all, counted in UTF-16 units), with `allowed_mentions:
/// {"parse": []}` so no device name can ping anyone, and every device-controlled string's
/// Markdown escaped (no masked links, no `<@id>` tags, no formatting). A 429's `retry_after` (in the JSON body) is honoured, and so is an empty
/// rate-limit bucket (`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After`): the next request
/// waits for the reset.
public struct DiscordReceiver: ChatWebhookReceiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 0.5, burst: 5)
    /// Discord's limits, counted as Discord counts (UTF-16 units): a message's `content`, an
    /// embed's title, description (Discord allows 4,096; alerts need far less) and footer, all
    /// embeds' text together, and embeds in a message.
    public static let contentLimit = TextLimit(2000)
    public static let titleLimit = TextLimit(256)
    public static let descriptionLimit = TextLimit(1024)
    public static let footerLimit = TextLimit(256)
    public static let embedsLimit = 6000
    public static let maxEmbeds = 10

    public let endpoint: ChatEndpoint

    public init(endpoint: ChatEndpoint) { self.endpoint = endpoint }

    public func interpret(_ response: HTTPResponseData) -> DeliveryOutcome {
        if response.status == 429,
            let body = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let seconds = (body["retry_after"] as? NSNumber)?.doubleValue
        {
            return .retry(reason: "HTTP 429 (Discord rate limit)", after: .seconds(seconds))
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

    public func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: Self.maxEmbeds)
        let color = view.isFiring ? (view.severity <= .warning ? 0xF2C744 : 0xD93F0B) : 0x2EB67D
        var embeds: [Embed] = []
        var budget = Self.embedsLimit
        for alert in view.firing + view.resolved {
            var description =
                alert.isFiring
                ? Markup.markdown(alert.summary)
                : "\(Markup.markdown(alert.key.ruleID)) resolved (\(Markup.markdown(alert.resolveReasonText)))"
            if alert.isFiring, !alert.reasons.isEmpty {
                description += "\n" + Markup.markdown(alert.reasons.joined(separator: "; "))
            }
            let footer =
                "\(alert.key.ruleID) · \(InertText.line(alert.key.workspace)) · \(alert.deviceID)"
            let embed = Embed(
                title: "\(alert.isFiring ? "FIRING" : "RESOLVED"): \(Markup.markdown(alert.deviceName))".capped(
                    Self.titleLimit),
                description: description.capped(Self.descriptionLimit), color: alert.isFiring ? color : 0x2EB67D,
                footer: .init(text: Markup.unlinked(footer).capped(Self.footerLimit)),
                timestamp: Timestamp.format(alert.endsAt ?? alert.startsAt))
            guard embeds.count < Self.maxEmbeds, budget - embed.size >= 0 else { break }
            budget -= embed.size
            embeds.append(embed)
        }
        var content = view.headline(escaping: Markup.markdown)
        if let template { content = try template.render(view, escaping: Markup.markdown) }
        let shown = embeds.count
        let total = view.firingCount + view.resolvedCount
        let more = total > shown ? "\n(and \(total - shown) more)" : ""
        // The count of what is not shown survives any cut of the text before it.
        content = content.capped(TextLimit(Self.contentLimit.characters - more.serviceLength)) + more
        let body = Body(content: content, embeds: embeds, allowedMentions: .init(parse: []))
        return try ReceiverJSON.encode(body)
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

        /// What counts toward Discord's 6,000-character limit, in UTF-16 units as Discord counts.
        var size: Int { title.serviceLength + description.serviceLength + footer.text.serviceLength }
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
