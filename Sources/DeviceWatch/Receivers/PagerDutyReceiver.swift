import CurlHTTP
import DeviceWatchCore
import Foundation

/// PagerDuty Events API v2: one event per alert, `trigger` while firing and `resolve` after, with
/// the alert's fingerprint as `dedup_key` (so repeats and retries never open a second incident).
public struct PagerDutyReceiver: Receiver {
    public static let defaultEndpoint = "https://events.pagerduty.com/v2/enqueue"

    public let name: String
    public let routingKey: Secret
    public let endpoint: String
    public let rateLimit: Configuration.RateLimit

    public var secrets: [Secret] { [routingKey] }

    public init(name: String, routingKey: Secret, endpoint: String? = nil, rateLimit: Configuration.RateLimit = .init(perSecond: 2, burst: 2)) {
        self.name = name
        self.routingKey = routingKey
        self.endpoint = endpoint ?? Self.defaultEndpoint
        self.rateLimit = rateLimit
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let requests = try (intent.firing + intent.resolved).map { snapshot in
            HTTPRequestSpec(
                method: "POST", url: endpoint, headers: ["Content-Type": "application/json"],
                body: try encoder.encode(event(for: snapshot, context: context)), connectTimeout: .seconds(10), totalTimeout: .seconds(30))
        }
        return .httpSequence(requests)
    }

    func event(for snapshot: AlertSnapshot, context: RenderContext) -> Event {
        guard snapshot.status != .resolved else {
            return Event(routingKey: routingKey.exposedValue, eventAction: "resolve", dedupKey: snapshot.fingerprint, payload: nil, links: nil)
        }
        let alert = AlertView(snapshot, context: context)
        var details: [String: String] = [
            "rule": snapshot.key.ruleID, "workspace": snapshot.key.workspace, "device_id": snapshot.device.id,
            "device_name": alert.deviceName, "tags": snapshot.device.tags.joined(separator: ", "),
        ]
        if !alert.reasons.isEmpty { details["reasons"] = alert.reasons.joined(separator: "; ") }
        if let description = alert.description { details["description"] = description }
        for (key, value) in [("status", snapshot.device.status?.rawValue), ("hostname", snapshot.device.hostname),
            ("rfdm_version", snapshot.device.rfdmVersion), ("type", snapshot.device.type),
            ("last_heartbeat", snapshot.device.lastHeartbeat.map(Timestamp.format))]
        {
            if let value { details[key] = value }
        }
        let payload = Event.Payload(
            summary: alert.summary.truncated(to: 1024),
            source: (snapshot.device.hostname.flatMap { $0.isEmpty ? nil : $0 } ?? snapshot.device.id.nonEmpty ?? snapshot.key.workspace).truncated(to: 255),
            severity: snapshot.severity.rawValue, timestamp: Timestamp.format(snapshot.startsAt), component: snapshot.device.type,
            group: snapshot.key.workspace, eventClass: snapshot.key.ruleID, customDetails: details)
        let links = context.externalURL.map { [Event.Link(href: "\($0)/#alert-\(snapshot.fingerprint)", text: "devicewatch status page")] }
        return Event(routingKey: routingKey.exposedValue, eventAction: "trigger", dedupKey: snapshot.fingerprint, payload: payload, links: links)
    }

    struct Event: Encodable {
        struct Payload: Encodable {
            var summary: String
            var source: String
            var severity: String
            var timestamp: String
            var component: String?
            var group: String
            var eventClass: String
            var customDetails: [String: String]

            enum CodingKeys: String, CodingKey {
                case summary, source, severity, timestamp, component, group
                case eventClass = "class"
                case customDetails = "custom_details"
            }
        }

        struct Link: Encodable {
            var href: String
            var text: String
        }

        var routingKey: String
        var eventAction: String
        var dedupKey: String
        var payload: Payload?
        var links: [Link]?

        enum CodingKeys: String, CodingKey {
            case payload, links
            case routingKey = "routing_key"
            case eventAction = "event_action"
            case dedupKey = "dedup_key"
        }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
