import CurlHTTP
import DeviceWatchCore
import Foundation

/// What the chat receivers (Slack, Discord, Teams) share: an incoming-webhook URL that is itself
/// the secret (scrubbed from every error and log line), one JSON POST per notification, a rate
/// limit and an optional template. Each supplies only its payload.
public protocol ChatWebhookReceiver: Receiver {
    var endpoint: ChatEndpoint { get }
    /// The rate limit when the configuration gives none.
    static var defaultRateLimit: Configuration.RateLimit { get }
    init(endpoint: ChatEndpoint)
    /// The service's JSON body for one notification.
    func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data
}

/// How a chat receiver is configured: its name, the incoming webhook's URL (whoever has it can
/// post to the channel), its rate limit and an optional template.
public struct ChatEndpoint: Sendable {
    public let name: String
    public let url: Secret
    public let rateLimit: Configuration.RateLimit
    public let template: TemplateOverride?
}

extension ChatWebhookReceiver {
    public init(
        name: String, url: Secret, rateLimit: Configuration.RateLimit? = nil, template: TemplateOverride? = nil
    ) {
        self.init(
            endpoint: ChatEndpoint(
                name: name, url: url, rateLimit: rateLimit ?? Self.defaultRateLimit, template: template))
    }

    public var name: String { endpoint.name }
    public var url: Secret { endpoint.url }
    public var rateLimit: Configuration.RateLimit { endpoint.rateLimit }
    public var template: TemplateOverride? { endpoint.template }
    public var secrets: [Secret] { [url] }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        jsonPost(to: url, body: try payload(for: intent, context: context))
    }
}
