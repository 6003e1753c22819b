import CurlHTTP
import DeviceWatchCore
import Foundation

/// PagerDuty Events API v2: one event per alert, `trigger` while firing and `resolve` after, with
/// the alert's fingerprint as `dedup_key` (so repeats and retries never open a second incident).
public struct PagerDutyReceiver: Receiver {
    public static let defaultEndpoint = "https://events.pagerduty.com/v2/enqueue"
    /// Events API v2 limits, in code points and UTF-16 units: `summary` 1,024, `source` and the
    /// other short fields 255; each `custom_details` value is kept to 1,024 so an event stays far
    /// below the 512 KB PagerDuty accepts.
    public static let summaryLimit = TextLimit(1024)
    public static let fieldLimit = TextLimit(255)
    public static let detailLimit = TextLimit(1024)

    public let name: String
    public let routingKey: Secret
    public let endpoint: String
    public let rateLimit: Configuration.RateLimit

    public var secrets: [Secret] { [routingKey] }

    public init(
        name: String, routingKey: Secret, endpoint: String? = nil,
        rateLimit: Configuration.RateLimit = .init(perSecond: 2, burst: 2)
    ) {
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
                body: try encoder.encode(event(for: snapshot, context: context)), connectTimeout: .seconds(10),
                totalTimeout: .seconds(30))
        }
        return .httpSequence(requests)
    }

    func event(for snapshot: AlertSnapshot, context: RenderContext) -> Event {
        guard snapshot.status != .resolved else {
            return Event(
                routingKey: routingKey.exposedValue, eventAction: "resolve", dedupKey: snapshot.fingerprint,
                payload: nil, links: nil)
        }
        let alert = AlertView(snapshot, context: context)
        // Device text is inert and within the limits; people read all of it in PagerDuty's UI.
        func detail(_ text: String) -> String { Markup.unlinked(InertText.line(text)).capped(Self.detailLimit) }
        var details: [String: String] = [
            "rule": snapshot.key.ruleID, "workspace": detail(snapshot.key.workspace),
        ]
        if let group = snapshot.fleet {
            // A fleet alert is one event for its group: the members in the details, not 500 events.
            details["group"] = detail(group.group)
            details["devices"] = "\(group.matching) of \(group.total) (\(FleetFacts.percent(group.fraction)))"
            details["members"] = Markup.unlinked(group.memberList(fitting: Self.detailLimit)).capped(Self.detailLimit)
        } else {
            details["device_id"] = detail(snapshot.device.id)
            details["device_name"] = detail(alert.deviceName)
            details["tags"] = detail(snapshot.device.tags.joined(separator: ", "))
        }
        if !alert.reasons.isEmpty { details["reasons"] = detail(alert.reasons.joined(separator: "; ")) }
        if let description = alert.description {
            details["description"] = Markup.unlinked(description).capped(Self.detailLimit)
        }
        for (key, value) in [
            ("status", snapshot.device.status?.rawValue), ("hostname", snapshot.device.hostname),
            ("rfdm_version", snapshot.device.rfdmVersion), ("type", snapshot.device.type),
            ("last_heartbeat", snapshot.device.lastHeartbeat.map(Timestamp.format)),
        ] {
            if let value { details[key] = detail(value) }
        }
        let source =
            snapshot.device.hostname.flatMap { $0.isEmpty ? nil : $0 } ?? snapshot.device.id.nonEmpty
            ?? snapshot.key.workspace
        let payload = Event.Payload(
            summary: Markup.unlinked(alert.summary).capped(Self.summaryLimit),
            source: Markup.unlinked(InertText.line(source)).capped(Self.fieldLimit),
            severity: snapshot.severity.rawValue, timestamp: Timestamp.format(snapshot.startsAt),
            component: snapshot.device.type.map { Markup.unlinked(InertText.line($0)).capped(Self.fieldLimit) },
            group: InertText.line(snapshot.key.workspace).capped(Self.fieldLimit), eventClass: snapshot.key.ruleID,
            customDetails: details)
        let links = context.externalURL.map {
            [Event.Link(href: "\($0)/#alert-\(snapshot.fingerprint)", text: "devicewatch status page")]
        }
        return Event(
            routingKey: routingKey.exposedValue, eventAction: "trigger", dedupKey: snapshot.fingerprint,
            payload: payload, links: links)
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
