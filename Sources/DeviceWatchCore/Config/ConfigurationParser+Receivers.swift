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
        case .slack, .discord, .teams, .googlechat, .mattermost: specific = ["url_env", "url_file", "url"]
        case .email:
            specific = [
                "url", "from", "to", "username", "username_env", "username_file", "password_env", "password_file",
                "password", "starttls", "ca_file", "subject",
            ]
        case .opsgenie: specific = ["api_key_env", "api_key_file", "api_key", "region", "url"]
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
        case .slack, .discord, .teams, .googlechat, .mattermost:
            receiver.url = secret(
                fields, env: "url_env", file: "url_file", inline: "url", allowInline: allowInline, owner: reader,
                required: "the webhook URL")
        case .pagerduty:
            receiver.routingKey = secret(
                fields, env: "routing_key_env", file: "routing_key_file", inline: "routing_key",
                allowInline: allowInline, owner: reader,
                required: "the Events API routing key")
            if let url = httpURL(fields, "url") { receiver.endpoint = url }
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
            if let url = httpURL(fields, "url") { receiver.endpoint = url }
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
        case .email:
            receiver.endpoint = parseMailServer(fields, reader)
            receiver.mail = parseMail(fields, reader, server: receiver.endpoint, allowInline: allowInline)
        case .opsgenie:
            receiver.token = secret(
                fields, env: "api_key_env", file: "api_key_file", inline: "api_key", allowInline: allowInline,
                owner: reader, required: "the API key of an Opsgenie API integration")
            if let region = fields["region"], let text = region.string() {
                if ["us", "eu"].contains(text) {
                    receiver.region = text
                } else {
                    region.report("region must be \"us\" (api.opsgenie.com) or \"eu\" (api.eu.opsgenie.com)")
                }
            }
            if let url = httpURL(fields, "url") { receiver.endpoint = url }
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

    /// An email receiver's `url`: `smtp://host[:port]` (STARTTLS) or `smtps://host[:port]`, no credentials in it.
    static func parseMailServer(_ fields: [String: NodeReader], _ reader: NodeReader) -> String? {
        guard let url = fields["url"] else {
            reader.report(
                "an email receiver needs \"url\": its SMTP server, smtp://HOST:587 (STARTTLS) or smtps://HOST:465")
            return nil
        }
        guard let text = url.string() else { return nil }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", let host = components.host, !host.isEmpty
        else {
            url.report("url must be smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT] (TLS from the start)")
            return nil
        }
        if components.user != nil || components.password != nil {
            // Never echo it: the password may be in it.
            url.report(
                "put the credentials in \"username\" and \"password_env\" (or \"password_file\"), not in the URL")
            return nil
        }
        return text
    }

    static func parseMail(_ fields: [String: NodeReader], _ reader: NodeReader, server: String?, allowInline: Bool)
        -> Configuration.Mail?
    {
        var from: (header: String, address: String)?
        if let node = fields["from"], let text = node.string() {
            if let parsed = MailAddress.parse(text) {
                from = (text, parsed)
            } else {
                node.report(
                    "from must be an address (alerts@example.com) or a name and an address (devicewatch <alerts@example.com>)"
                )
            }
        } else if fields["from"] == nil {
            reader.report("an email receiver needs \"from\": the sender's address")
        }
        var to: [String] = []
        if let node = fields["to"] {
            if let items = node.array(), !items.isEmpty {
                for child in items {
                    guard let text = child.string() else { continue }
                    if MailAddress.isAddress(text) {
                        to.append(text)
                    } else {
                        child.report("\"\(text)\" is not an email address (name@example.com)")
                    }
                }
            } else if case .array = node.node.value {
                node.report("to must be a non-empty list of addresses")
            }
        } else {
            reader.report("an email receiver needs \"to\": a list of addresses")
        }
        guard let from, !to.isEmpty else { return nil }
        var mail = Configuration.Mail(from: from.header, fromAddress: from.address, to: to)
        mail.username = secret(
            fields, env: "username_env", file: "username_file", inline: "username", allowInline: true, owner: reader)
        mail.password = secret(
            fields, env: "password_env", file: "password_file", inline: "password", allowInline: allowInline,
            owner: reader)
        let namesUser = ["username", "username_env", "username_file"].contains { fields[$0] != nil }
        let namesPassword = ["password", "password_env", "password_file"].contains { fields[$0] != nil }
        if namesUser != namesPassword {
            reader.report("give both a username and a password (password_env or password_file), or neither")
        }
        if let node = fields["starttls"], let value = node.bool() {
            mail.startTLS = value
            let host = server.flatMap { URLComponents(string: $0)?.host } ?? ""
            if !value, !(host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]") {
                node.report(
                    "\"starttls\": false sends mail (and the password) in the clear; it is accepted only for a server on loopback (127.0.0.1, localhost); use smtps:// or a server that offers STARTTLS"
                )
            }
        }
        mail.caFile = fields["ca_file"]?.string("a PEM file path")
        if let node = fields["subject"], let text = node.string() {
            if text.contains("\n") || text.contains("\r") {
                node.report("subject must be one line")
            } else {
                mail.subject = text
            }
        }
        return mail
    }
}

/// Email addresses as the configuration accepts them: `local@domain`, printable ASCII, no spaces,
/// quotes or angle brackets (an address that needs RFC 5322 quoting is not accepted).
public enum MailAddress {
    public static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), text.count <= 254
        else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value < 0x7F && !"<>()[]\\,;:\"".unicodeScalars.contains(scalar)
        }
    }

    /// The address of `alerts@example.com` or `Name <alerts@example.com>`; nil when neither.
    public static func parse(_ text: String) -> String? {
        if isAddress(text) { return text }
        guard text.hasSuffix(">"), let open = text.lastIndex(of: "<") else { return nil }
        let name = text[..<open].trimmingCharacters(in: .whitespaces)
        let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        guard !name.isEmpty, !name.contains("<"), !name.contains(">"), !name.contains("\n"), !name.contains("\r"),
            !name.contains("\""), isAddress(address)
        else { return nil }
        return address
    }
}
