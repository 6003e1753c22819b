import Crypto
import CurlHTTP
import DeviceWatchCore
import Foundation

/// A generic webhook: Alertmanager's webhook JSON (so tools that accept Alertmanager work
/// unchanged) plus a `devicewatch` object per alert, signed per Standard Webhooks when a secret is set.
public struct WebhookReceiver: Receiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 10, burst: 10)
    public let name: String
    public let url: Secret
    public let signingSecret: Secret?
    public let headers: [String: String]
    public let rateLimit: Configuration.RateLimit
    /// Alerts listed at most; the rest are counted in `truncatedAlerts`.
    public let maxAlerts: Int
    /// Longest time for one delivery.
    public let timeout: Duration

    public var secrets: [Secret] { [url] + (signingSecret.map { [$0] } ?? []) }

    public init(
        name: String, url: Secret, signingSecret: Secret? = nil, headers: [String: String] = [:],
        rateLimit: Configuration.RateLimit? = nil, maxAlerts: Int = 1000,
        timeout: Duration = .seconds(30)
    ) {
        self.timeout = timeout
        self.name = name
        self.url = url
        self.signingSecret = signingSecret
        self.headers = headers
        self.rateLimit = rateLimit ?? Self.defaultRateLimit
        self.maxAlerts = maxAlerts
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        let body = try WebhookPayload.body(for: intent, receiver: name, context: context, maxAlerts: maxAlerts)
        var list = HTTPHeaderList([
            .init(name: "Content-Type", value: "application/json"), .init(name: "User-Agent", value: "devicewatch"),
        ])
        for (header, value) in headers.sorted(by: { $0.key < $1.key }) { list.set(name: header, value: value) }
        if let signingSecret {
            let timestamp = String(Int(now.timeIntervalSince1970))
            list.set(name: "webhook-id", value: intent.id)
            list.set(name: "webhook-timestamp", value: timestamp)
            list.set(
                name: "webhook-signature",
                value: try StandardWebhooks.signature(
                    secret: signingSecret, id: intent.id, timestamp: timestamp, body: body))
        }
        return .http(
            HTTPRequestSpec(
                method: "POST", url: url.exposedValue, headers: list, body: body,
                connectTimeout: min(.seconds(10), timeout), totalTimeout: timeout))
    }
}

/// Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body")), the key
/// being the base64 after `whsec_` (or the secret's bytes when it is not in that form).
public enum StandardWebhooks {
    public static func signature(secret: Secret, id: String, timestamp: String, body: Data) throws -> String {
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key(secret)))
        return "v1," + Data(mac).base64EncodedString()
    }

    static func key(_ secret: Secret) -> Data {
        let text = secret.exposedValue
        if text.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(text.dropFirst(6))) { return decoded }
        return Data(text.utf8)
    }
}

/// Alertmanager's webhook format (version 4), keys in sorted order.
///
/// Written with the core's `JSONWriter` rather than `JSONEncoder`: encoding was 30% of the
/// dispatcher's CPU time in the 10,000-notification benchmark. The golden tests pin the output.
enum WebhookPayload {
    struct Alert {
        var snapshot: AlertSnapshot
        var labels: [String: String]
        var annotations: [String: String]
        var reasons: [String]
    }

    static func body(for intent: NotificationIntent, receiver: String, context: RenderContext, maxAlerts: Int) throws
        -> Data
    {
        let all = intent.firing + intent.resolved
        let listed = all.prefix(maxAlerts)
        let alerts = listed.map { snapshot -> Alert in
            var labels = snapshot.labels
            if !snapshot.device.tags.isEmpty { labels["tags"] = snapshot.device.tags.joined(separator: ",") }
            let view = context.rules.withText(snapshot)
            var annotations = ["summary": view.summary]
            if let description = view.description { annotations["description"] = description }
            return Alert(snapshot: snapshot, labels: labels, annotations: annotations, reasons: view.reasons)
        }
        var writer = JSONWriter(capacity: 1024 * max(1, alerts.count))
        writer.beginObject()
        writer.key("alerts")
        writer.beginArray()
        for alert in alerts { write(alert, externalURL: context.externalURL, to: &writer) }
        writer.endArray()
        writer.member("commonAnnotations", common(alerts.map(\.annotations)))
        writer.member("commonLabels", common(alerts.map(\.labels)))
        writer.member("externalURL", context.externalURL ?? "")
        writer.member("groupKey", intent.groupKey)
        writer.member("groupLabels", intent.groupLabels)
        writer.member("receiver", receiver)
        writer.member("status", intent.firing.isEmpty ? "resolved" : "firing")
        writer.key("truncatedAlerts")
        writer.number(Double(all.count - listed.count))
        writer.member("version", "4")
        writer.endObject()
        return writer.data
    }

    /// The members of a fleet alert's group listed in its `devicewatch.group`.
    static let membersListed = 500

    static func write(_ alert: Alert, externalURL: String?, to writer: inout JSONWriter) {
        let snapshot = alert.snapshot
        writer.beginObject()
        writer.member("annotations", alert.annotations)
        writer.key("devicewatch")
        writer.beginObject()
        writer.key("device")
        snapshot.device.write(to: &writer, nulls: true)
        if let group = snapshot.fleet {
            // A fleet alert's group, its members listed up to a bound (the rest counted).
            writer.key("group")
            writer.beginObject()
            writer.member("key", group.group)
            writer.member("total", Double(group.total))
            writer.member("matching", Double(group.matching))
            writer.key("members")
            writer.beginArray()
            for member in group.members.prefix(Self.membersListed) { member.write(to: &writer) }
            writer.endArray()
            writer.member("members_omitted", Double(max(0, group.members.count - Self.membersListed)))
            writer.endObject()
        }
        writer.key("reasons")
        writer.beginArray()
        for reason in alert.reasons { writer.string(reason) }
        writer.endArray()
        writer.member("resolve_reason", snapshot.resolveReason)
        writer.member("rule", snapshot.key.ruleID)
        writer.member("workspace", snapshot.key.workspace)
        writer.endObject()
        // Alertmanager's zero time for alerts still firing.
        writer.member("endsAt", snapshot.endsAt.map(Timestamp.format) ?? "0001-01-01T00:00:00Z")
        writer.member("fingerprint", snapshot.fingerprint)
        writer.member("generatorURL", externalURL.map { "\($0)/#alert-\(snapshot.fingerprint)" } ?? "")
        writer.member("labels", alert.labels)
        writer.member("startsAt", Timestamp.format(snapshot.startsAt))
        writer.member("status", snapshot.status == .resolved ? "resolved" : "firing")
        writer.endObject()
    }

    /// The label pairs every alert shares.
    static func common(_ maps: [[String: String]]) -> [String: String] {
        guard var shared = maps.first else { return [:] }
        for map in maps.dropFirst() { shared = shared.filter { map[$0.key] == $0.value } }
        return shared
    }
}
