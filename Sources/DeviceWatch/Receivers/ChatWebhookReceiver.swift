import CurlHTTP
import DeviceWatchCore
import Foundation

/// What the chat receivers (Slack, Discord, Teams) share: an incoming-webhook URL that is itself
/// the secret (scrubbed from every error and log line), one JSON POST per notification, a rate
/// limit and an optional template. Each supplies only its payload.
public protocol ChatWebhookReceiver: Receiver {
    /// The incoming webhook's URL; whoever has it can post to the channel.
    var url: Secret { get }
    var template: TemplateOverride? { get }
    /// The service's JSON body for one notification.
    func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data
}

extension ChatWebhookReceiver {
    public var secrets: [Secret] { [url] }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        jsonPost(to: url, body: try payload(for: intent, context: context))
    }
}
