import Foundation

/// The `receivers` section: one receiver of each type, its secrets by reference, its limits.
extension ConfigurationParser {
    static func parseReceiver(name: String, _ reader: NodeReader, allowInline: Bool) -> Configuration.Receiver? {
        let common = ["type", "template", "rate_limit"]
        guard case .object = reader.node.value else {
            reader.report("expected an object with a \"type\", got \(reader.node.kindDescription)")
            return nil
        }
        guard let typeNode = reader.node["type"] else {
            reader.report(
                "receiver \"\(name)\" needs a \"type\": one of \(Configuration.ReceiverType.allCases.map(\.rawValue).joined(separator: ", "))"
            )
            return nil
        }
        let typeReader = reader.child("type", typeNode)
        guard let typeName = typeReader.string() else { return nil }
        guard let type = Configuration.ReceiverType(rawValue: typeName) else {
            let hint =
                NameSuggestion.closest(to: typeName, among: Configuration.ReceiverType.allCases.map(\.rawValue)).map {
                    "; did you mean \"\($0)\"?"
                } ?? ""
            typeReader.report(
                "unknown receiver type \"\(typeName)\"; expected one of \(Configuration.ReceiverType.allCases.map(\.rawValue).joined(separator: ", "))\(hint)"
            )
            return nil
        }
        let specific: [String]
        switch type {
        case .slack, .discord, .teams: specific = ["url_env", "url_file", "url"]
        case .pagerduty: specific = ["routing_key_env", "routing_key_file", "routing_key", "url", "mode"]
        case .webhook: specific = ["url", "url_env", "url_file", "secret_env", "secret_file", "secret", "headers"]
        case .ntfy: specific = ["url_env", "url_file", "url", "token_env", "token_file", "token"]
        case .telegram: specific = ["bot_token_env", "bot_token_file", "bot_token", "chat_id", "url"]
        case .console: specific = []
        case .file: specific = ["path"]
        }
        let before = reader.log.diagnostics.count
        guard let fields = reader.object(known: common + specific) else { return nil }
        var receiver = Configuration.Receiver(name: name, type: type)
        receiver.template = fields["template"]?.string()
        if let rate = fields["rate_limit"], let parts = rate.object(known: ["per_second", "burst"]) {
            let perSecond = parts["per_second"]?.number()
            let burst = parts["burst"]?.number() ?? 1
            if let perSecond, perSecond > 0, burst >= 1, burst == burst.rounded() {
                receiver.rateLimit = .init(perSecond: perSecond, burst: Int(burst))
            } else {
                rate.report("rate_limit needs \"per_second\" above 0 and optionally a whole \"burst\" of at least 1")
            }
        }
        switch type {
        case .slack, .discord, .teams:
            receiver.url = secret(
                fields, env: "url_env", file: "url_file", inline: "url", allowInline: allowInline, owner: reader,
                required: "the webhook URL")
        case .pagerduty:
            receiver.routingKey = secret(
                fields, env: "routing_key_env", file: "routing_key_file", inline: "routing_key",
                allowInline: allowInline, owner: reader,
                required: "the Events API routing key")
            if let url = fields["url"], let text = url.string() {
                if isHTTPURL(text) {
                    receiver.endpoint = text
                } else {
                    url.report("url must start with http:// or https://")
                }
            }
            if let mode = fields["mode"], let text = mode.string() {
                if let parsed = Configuration.PagerDutyMode(rawValue: text) {
                    receiver.pagerDutyMode = parsed
                } else {
                    mode.report(
                        "mode must be per_alert (an event per alert) or per_group (an event per notification group), not \"\(text)\""
                    )
                }
            }
        case .ntfy:
            receiver.url = secret(
                fields, env: "url_env", file: "url_file", inline: "url", allowInline: allowInline, owner: reader,
                required: "the topic URL (https://ntfy.sh/TOPIC or your server's)")
            if case .inline(let text)? = receiver.url, !isHTTPURL(text) || text.hasSuffix("/") {
                fields["url"]?.report("url must be a topic URL such as https://ntfy.sh/fleet-alerts")
            }
            receiver.token = secret(
                fields, env: "token_env", file: "token_file", inline: "token", allowInline: allowInline, owner: reader,
                required: nil)
        case .telegram:
            receiver.token = secret(
                fields, env: "bot_token_env", file: "bot_token_file", inline: "bot_token", allowInline: allowInline,
                owner: reader, required: "the bot token (from @BotFather)")
            if let chat = fields["chat_id"], let text = chat.string() {
                let numeric = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
                if (!numeric.isEmpty && numeric.allSatisfy(\.isASCII) && numeric.allSatisfy(\.isNumber))
                    || (text.hasPrefix("@") && text.count > 1)
                {
                    receiver.chatID = text
                } else {
                    chat.report("chat_id must be a chat's numeric id (-1001234567890) or a public channel's @name")
                }
            } else if fields["chat_id"] == nil {
                reader.report("needs \"chat_id\": the chat, group or channel to post to")
            }
            if let url = fields["url"], let text = url.string() {
                if isHTTPURL(text) {
                    receiver.endpoint = text
                } else {
                    url.report("url must start with http:// or https://")
                }
            }
        case .webhook:
            // A generic webhook URL is often not secret, so a literal one is allowed.
            receiver.url = secret(
                fields, env: "url_env", file: "url_file", inline: "url", allowInline: true, owner: reader,
                required: "the URL")
            if case .inline(let text)? = receiver.url, !isHTTPURL(text) {
                fields["url"]?.report("url must start with http:// or https://")
            }
            receiver.signingSecret = secret(
                fields, env: "secret_env", file: "secret_file", inline: "secret", allowInline: allowInline,
                owner: reader)
            for (header, value) in fields["headers"]?.members() ?? [] {
                if let text = value.string() { receiver.headers[header] = text }
            }
        case .file:
            if let path = fields["path"]?.string() {
                receiver.path = path
            } else if fields["path"] == nil {
                reader.report("a file receiver needs a \"path\"")
            }
        case .console:
            break
        }
        return reader.log.diagnostics.count == before ? receiver : nil
    }
}
