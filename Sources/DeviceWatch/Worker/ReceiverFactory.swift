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
            func secret(_ reference: Configuration.SecretReference?, _ what: String) throws(ReceiverSetupError) -> Secret? {
                guard let reference else { return nil }
                do {
                    return try self.secret(reference)
                } catch {
                    throw ReceiverSetupError(receiver: name, problem: "its \(what) cannot be read: \(error)")
                }
            }
            switch config.type {
            case .webhook:
                guard let url = try secret(config.url, "URL") else { throw ReceiverSetupError(receiver: name, problem: "no URL") }
                receivers[name] = WebhookReceiver(
                    name: name, url: url, signingSecret: try secret(config.signingSecret, "signing secret"), headers: config.headers,
                    rateLimit: config.rateLimit ?? .init(perSecond: 10, burst: 10))
            case .console:
                receivers[name] = ConsoleReceiver(name: name)
            case .slack, .pagerduty, .discord, .teams, .file:
                throw ReceiverSetupError(
                    receiver: name,
                    problem: "type \(config.type.rawValue) cannot deliver yet in this version; use a webhook or console receiver for now")
            }
        }
        return receivers
    }
}
