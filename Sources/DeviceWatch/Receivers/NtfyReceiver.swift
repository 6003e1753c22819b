import CurlHTTP
import DeviceWatchCore
import Foundation

/// ntfy (ntfy.sh or a self-hosted server): one JSON publish per notification to the server's
/// root, naming the topic (`https://ntfy.sh/fleet-alerts` is server `https://ntfy.sh`, topic
/// `fleet-alerts`), with a title, a plain-text message (ntfy renders Markdown only when asked, and
/// devicewatch never asks), a priority and tags from the severity, and a click link to the status
/// page when `server.external_url` is set. The topic URL is a secret (on a public server whoever
/// knows the topic can read it); an access token, when configured, goes in `Authorization`.
public struct NtfyReceiver: Receiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 1, burst: 5)
    /// ntfy's default `message-size-limit` is 4,096 bytes (longer bodies become attachments or are
    /// refused); titles are kept to a line.
    public static let messageLimit = TextLimit(4096, bytes: 4096)
    public static let titleLimit = TextLimit(250)
    public static let maxAlerts = 20

    public let name: String
    public let url: Secret
    public let token: Secret?
    public let rateLimit: Configuration.RateLimit
    public let template: TemplateOverride?

    public var secrets: [Secret] { [url] + (token.map { [$0] } ?? []) }

    public init(
        name: String, url: Secret, token: Secret? = nil,
        rateLimit: Configuration.RateLimit? = nil,
        template: TemplateOverride? = nil
    ) {
        self.name = name
        self.url = url
        self.token = token
        self.rateLimit = rateLimit ?? Self.defaultRateLimit
        self.template = template
    }

    /// The server's root and the topic, from the topic URL; nil when it names no topic.
    public static func split(_ topicURL: String) -> (server: String, topic: String)? {
        guard let slash = topicURL.lastIndex(of: "/"), topicURL.distance(from: topicURL.startIndex, to: slash) > 8
        else { return nil }
        let topic = String(topicURL[topicURL.index(after: slash)...])
        guard !topic.isEmpty, topic.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return nil }
        return (String(topicURL[..<slash]), topic)
    }

    /// ntfy's priorities: 5 urgent (critical), 4 high (error), 3 default (warning), 2 low (info,
    /// and every resolve).
    static func priority(_ severity: Severity, firing: Bool) -> Int {
        guard firing else { return 2 }
        switch severity {
        case .critical: return 5
        case .error: return 4
        case .warning: return 3
        case .info: return 2
        }
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        guard let (server, topic) = Self.split(url.exposedValue) else {
            throw ReceiverSetupError(receiver: name, problem: "the ntfy URL names no topic (https://ntfy.sh/TOPIC)")
        }
        var headers: HTTPHeaderList = ["Content-Type": "application/json", "User-Agent": "devicewatch"]
        if let token { headers.set(name: "Authorization", value: "Bearer \(token.exposedValue)") }
        return .http(
            HTTPRequestSpec(
                method: "POST", url: server + "/", headers: headers,
                body: try payload(for: intent, topic: topic, context: context), connectTimeout: .seconds(10),
                totalTimeout: .seconds(30)))
    }

    func payload(for intent: NotificationIntent, topic: String, context: RenderContext) throws -> Data {
        let view = NotificationView(intent, context: context, limit: Self.maxAlerts)
        let message: String
        if let template {
            message = try template.render(view, escaping: { $0 })
        } else {
            var lines: [String] = []
            for alert in view.firing { lines.append("• " + Markup.unlinked(InertText.line(alert.summary))) }
            if view.firingCount > view.firing.count {
                lines.append("and \(view.firingCount - view.firing.count) more firing")
            }
            for alert in view.resolved {
                lines.append("✓ " + Markup.unlinked(InertText.line(alert.summary)) + " (\(alert.resolveReasonText))")
            }
            if view.resolvedCount > view.resolved.count {
                lines.append("and \(view.resolvedCount - view.resolved.count) more resolved")
            }
            lines.append("workspace \(Markup.unlinked(view.workspace)) · \(intent.reason.rawValue)")
            message = lines.joined(separator: "\n")
        }
        let severity = view.severity
        var tags = [view.isFiring ? (severity >= .error ? "rotating_light" : "warning") : "white_check_mark"]
        tags.append(severity.rawValue)
        let body = Body(
            topic: topic, title: view.headline(escaping: Markup.unlinked).capped(Self.titleLimit),
            message: message.capped(Self.messageLimit), priority: Self.priority(severity, firing: view.isFiring),
            tags: tags, click: view.externalURL.map { "\($0)/" })
        return try ReceiverJSON.encode(body)
    }

    struct Body: Encodable {
        var topic: String
        var title: String
        var message: String
        var priority: Int
        var tags: [String]
        var click: String?
    }
}
