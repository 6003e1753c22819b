import CurlHTTP
import DeviceWatchCore
import Foundation

/// Telegram's Bot API `sendMessage` with HTML parse mode: a bold headline and a line per alert,
/// every device-controlled string escaped for Telegram's HTML (`&`, `<`, `>`, `"`), its
/// `scheme://` broken and its `@` followed by a word joiner, so a device name links nowhere and
/// mentions no one; link previews off. The text stays within Telegram's 4,096 characters (counted
/// in UTF-16 units, before the entities are parsed: never more than Telegram counts). A 429's
/// `parameters.retry_after` (in the JSON body) is honoured for every message of the receiver.
/// The bot token is a secret (it is in the request URL), scrubbed from every error and log line.
public struct TelegramReceiver: Receiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 1, burst: 3)
    public static let textLimit = TextLimit(4096)
    public static let defaultAPI = "https://api.telegram.org"
    public static let maxAlerts = 20

    public let name: String
    public let botToken: Secret
    public let chatID: String
    public let api: String
    public let rateLimit: Configuration.RateLimit

    public var secrets: [Secret] { [botToken] }

    public init(
        name: String, botToken: Secret, chatID: String, api: String? = nil,
        rateLimit: Configuration.RateLimit? = nil
    ) {
        self.name = name
        self.botToken = botToken
        self.chatID = chatID
        self.api = api ?? Self.defaultAPI
        self.rateLimit = rateLimit ?? Self.defaultRateLimit
    }

    /// Telegram's HTML: HTML's special characters as entities (Telegram reads named and numeric
    /// ones); links and mentions broken.
    static func html(_ text: String) -> String {
        var out = ""
        for character in Markup.html(Markup.unlinked(InertText.line(text))) {
            switch character {
            // A word joiner after `@` and `/` keeps `@user` and `/command` from being read as such.
            case "@": out += "@\u{2060}"
            case "/" where out.isEmpty || out.last == " ": out += "/\u{2060}"
            default: out.append(character)
            }
        }
        return out
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        .http(
            HTTPRequestSpec(
                method: "POST", url: "\(api)/bot\(botToken.exposedValue)/sendMessage",
                headers: ["Content-Type": "application/json", "User-Agent": "devicewatch"],
                body: try payload(for: intent, context: context), connectTimeout: .seconds(10),
                totalTimeout: .seconds(30)))
    }

    func payload(for intent: NotificationIntent, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: Self.maxAlerts)
        var lines = ["<b>\(view.headline(escaping: Self.html))</b>"]
        for alert in view.firing { lines.append("🔴 " + Self.html(alert.summary)) }
        if view.firingCount > view.firing.count {
            lines.append("and \(view.firingCount - view.firing.count) more firing")
        }
        for alert in view.resolved {
            lines.append("✅ " + Self.html(alert.summary) + " (\(Self.html(alert.resolveReasonText)))")
        }
        if view.resolvedCount > view.resolved.count {
            lines.append("and \(view.resolvedCount - view.resolved.count) more resolved")
        }
        var footer = "workspace <b>\(Self.html(view.workspace))</b> · \(intent.reason.rawValue)"
        if let external = view.externalURL {
            footer += " · <a href=\"\(external.replacingOccurrences(of: "\"", with: "%22"))/\">status page</a>"
        }
        // Whole lines only, so no entity or tag is cut in half; the footer always fits.
        var text = lines[0]
        var shown = 1
        for line in lines.dropFirst() {
            let next = text + "\n" + line
            guard (next + "\nand 9999 more\n" + footer).utf16.count <= Self.textLimit.characters else { break }
            text = next
            shown += 1
        }
        if shown < lines.count { text += "\nand \(lines.count - shown) more lines" }
        text += "\n" + footer
        let body = Body(
            chatID: chatID, text: text, parseMode: "HTML", linkPreviewOptions: .init(isDisabled: true),
            disableWebPagePreview: true)
        return try ReceiverJSON.encode(body)
    }

    /// `{"ok": false, "error_code": 429, "parameters": {"retry_after": 5}}`: when to try again.
    static func retryAfter(_ response: HTTPResponseData) -> Double? {
        guard response.status == 429,
            let body = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let parameters = body["parameters"] as? [String: Any],
            let seconds = (parameters["retry_after"] as? NSNumber)?.doubleValue, seconds > 0
        else { return nil }
        return min(seconds, 300)
    }

    public func interpret(_ response: HTTPResponseData) -> DeliveryOutcome {
        if let seconds = Self.retryAfter(response) {
            return .retry(reason: "HTTP 429 (Telegram flood control)", after: .seconds(seconds))
        }
        return DeliveryOutcome.classify(response).scrubbed(by: self)
    }

    public func pause(after response: HTTPResponseData) -> Double? { Self.retryAfter(response) }

    struct Body: Encodable {
        struct LinkPreviewOptions: Encodable {
            var isDisabled: Bool
            enum CodingKeys: String, CodingKey { case isDisabled = "is_disabled" }
        }

        var chatID: String
        var text: String
        var parseMode: String
        var linkPreviewOptions: LinkPreviewOptions
        var disableWebPagePreview: Bool

        enum CodingKeys: String, CodingKey {
            case text
            case chatID = "chat_id"
            case parseMode = "parse_mode"
            case linkPreviewOptions = "link_preview_options"
            case disableWebPagePreview = "disable_web_page_preview"
        }
    }
}
