import DeviceWatchCore
import Foundation

/// A receiver that cannot be built from the configuration: which, and what to do.
public struct ReceiverSetupError: Error, Sendable, CustomStringConvertible {
    public var receiver: String
    public var problem: String
    public var description: String { "receiver \"\(receiver)\": \(problem)" }
}

extension LoadedConfiguration {
    /// Builds every configured receiver, reading its secrets. Secrets never appear in errors.
    public func makeReceivers() throws(ReceiverSetupError) -> [String: any Receiver] {
        var receivers: [String: any Receiver] = [:]
        for (name, config) in configuration.receivers {
            func secret(_ reference: Configuration.SecretReference?, _ what: String) throws(ReceiverSetupError)
                -> Secret?
            {
                guard let reference else { return nil }
                do {
                    return try self.secret(reference)
                } catch {
                    throw ReceiverSetupError(receiver: name, problem: "its \(what) cannot be read: \(error)")
                }
            }
            var template: TemplateOverride?
            if let file = config.template {
                do {
                    template = try TemplateOverride(path: resolve(file))
                } catch {
                    throw ReceiverSetupError(receiver: name, problem: "\(error)")
                }
            }
            func required(_ reference: Configuration.SecretReference?, _ what: String) throws(ReceiverSetupError)
                -> Secret
            {
                guard let value = try secret(reference, what) else {
                    throw ReceiverSetupError(receiver: name, problem: "no \(what)")
                }
                return value
            }
            /// The chat receivers differ only in their payload: an incoming-webhook URL, a rate limit, a template.
            func chat(_ type: any ChatWebhookReceiver.Type) throws(ReceiverSetupError) -> any Receiver {
                type.init(
                    name: name, url: try required(config.url, "webhook URL"), rateLimit: config.rateLimit,
                    template: template)
            }
            switch config.type {
            case .slack: receivers[name] = try chat(SlackReceiver.self)
            case .discord: receivers[name] = try chat(DiscordReceiver.self)
            case .teams: receivers[name] = try chat(TeamsReceiver.self)
            case .googlechat: receivers[name] = try chat(GoogleChatReceiver.self)
            case .mattermost: receivers[name] = try chat(MattermostReceiver.self)
            case .pagerduty:
                receivers[name] = PagerDutyReceiver(
                    name: name, routingKey: try required(config.routingKey, "routing key"), endpoint: config.endpoint,
                    rateLimit: config.rateLimit, mode: config.pagerDutyMode)
            case .file:
                receivers[name] = FileReceiver(
                    name: name, path: resolve(config.path ?? "devicewatch-notifications.jsonl"))
            case .webhook:
                guard let url = try secret(config.url, "URL") else {
                    throw ReceiverSetupError(receiver: name, problem: "no URL")
                }
                receivers[name] = WebhookReceiver(
                    name: name, url: url, signingSecret: try secret(config.signingSecret, "signing secret"),
                    headers: config.headers,
                    rateLimit: config.rateLimit)
            case .ntfy:
                let url = try required(config.url, "topic URL")
                guard NtfyReceiver.split(url.exposedValue) != nil else {
                    throw ReceiverSetupError(
                        receiver: name,
                        problem: "the topic URL names no topic (https://ntfy.sh/TOPIC, letters, digits, - and _)")
                }
                receivers[name] = NtfyReceiver(
                    name: name, url: url, token: try secret(config.token, "access token"),
                    rateLimit: config.rateLimit, template: template)
            case .telegram:
                receivers[name] = TelegramReceiver(
                    name: name, botToken: try required(config.token, "bot token"), chatID: config.chatID ?? "",
                    api: config.endpoint, rateLimit: config.rateLimit)
            case .email:
                guard let server = config.endpoint, let mail = config.mail else {
                    throw ReceiverSetupError(receiver: name, problem: "no SMTP server or addresses")
                }
                var settings = mail
                settings.caFile = mail.caFile.map(resolve)
                do {
                    receivers[name] = try EmailReceiver(
                        name: name, server: server, mail: settings, username: try secret(mail.username, "username"),
                        password: try secret(mail.password, "password"),
                        rateLimit: config.rateLimit, template: template)
                } catch let error as ReceiverSetupError {
                    throw error
                } catch {
                    throw ReceiverSetupError(receiver: name, problem: "\(error)")
                }
            case .opsgenie:
                receivers[name] = OpsgenieReceiver(
                    name: name, apiKey: try required(config.token, "API key"), region: config.region,
                    endpoint: config.endpoint, rateLimit: config.rateLimit)
            case .console:
                receivers[name] = ConsoleReceiver(name: name)
            }
        }
        return receivers
    }
}
