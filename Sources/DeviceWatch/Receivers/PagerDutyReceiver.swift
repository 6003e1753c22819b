import CurlHTTP
import DeviceWatchCore
import Foundation

/// PagerDuty Events API v2: one event per alert, `trigger` while firing and `resolve` after, with
/// the alert's fingerprint as `dedup_key` (so repeats and retries never open a second incident);
/// or, in `per_group` mode, one event per notification group (its `dedup_key` from the group),
/// triggered while any of its alerts fires and resolved when none does.
public struct PagerDutyReceiver: Receiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 2, burst: 2)
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
    public let mode: Configuration.PagerDutyMode

    public var secrets: [Secret] { [routingKey] }

    public init(
        name: String, routingKey: Secret, endpoint: String? = nil,
        rateLimit: Configuration.RateLimit? = nil,
        mode: Configuration.PagerDutyMode = .perAlert
    ) {
        self.mode = mode
        self.name = name
        self.routingKey = routingKey
        self.endpoint = endpoint ?? Self.defaultEndpoint
        self.rateLimit = rateLimit ?? Self.defaultRateLimit
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        let encoder = ReceiverJSON.encoder()
        if mode == .perGroup {
            guard let event = groupEvent(for: intent, context: context) else { return .httpSequence([]) }
            return .httpSequence([
                HTTPRequestSpec(
                    method: "POST", url: endpoint, headers: ["Content-Type": "application/json"],
                    body: try encoder.encode(event), connectTimeout: .seconds(10), totalTimeout: .seconds(30))
            ])
        }
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
        let alert = context.rules.withText(snapshot)
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

    /// The group's `dedup_key`: stable for the receiver's group (32 hex digits), so every
    /// notification of the group updates one incident, and its resolve closes it.
    func groupDedupKey(_ intent: NotificationIntent) -> String {
        "group-" + Fingerprint.ofGroup(name + "\u{0}" + intent.groupKey)
    }

    /// `per_group`: a trigger while the group has firing alerts (all of them, the most severe
    /// setting the severity), a resolve once it has none; nil when there is nothing to say.
    func groupEvent(for intent: NotificationIntent, context: RenderContext) -> Event? {
        let key = groupDedupKey(intent)
        guard !intent.firing.isEmpty else {
            if intent.resolved.isEmpty { return nil }
            return Event(
                routingKey: routingKey.exposedValue, eventAction: "resolve", dedupKey: key, payload: nil, links: nil)
        }
        let firing = intent.firing
        let severity = firing.map(\.severity).max() ?? .critical
        let labels = intent.groupLabelPairs.labels
        let rules = Set(firing.map(\.key.ruleID))
        let title =
            labels.first { $0.name == "rule" }?.value ?? (rules.count == 1 ? rules.first! : "devicewatch")
        let names = firing.map { snapshot in
            snapshot.fleet.map { "\($0.group) (\($0.matching) of \($0.total))" }
                ?? snapshot.deviceName
        }
        // "production-offline: 12 firing (site-b cam 1, site-b cam 2, ... and 9 more)", within 1,024.
        let head = "\(title): \(firing.count) firing"
        let listed = Self.list(
            names.map { Markup.unlinked(InertText.line($0)) },
            fitting: Self.summaryLimit.characters - head.utf16.count - 3)
        var details: [String: String] = [
            "alerts": "\(firing.count) firing" + (intent.resolved.isEmpty ? "" : ", \(intent.resolved.count) resolved"),
            "members": Self.list(
                firing.map {
                    Markup.unlinked(
                        InertText.line("\($0.deviceName) [\($0.key.deviceID)]"))
                },
                fitting: Self.detailLimit.characters),
            "rules": rules.sorted().joined(separator: ", ").capped(Self.detailLimit),
            "reason": intent.reason.rawValue,
        ]
        for label in labels where details[label.name] == nil {
            details[label.name] = Markup.unlinked(InertText.line(label.value)).capped(Self.detailLimit)
        }
        if !intent.resolved.isEmpty {
            details["resolved"] = Self.list(
                intent.resolved.map { Markup.unlinked(InertText.line($0.deviceName)) },
                fitting: Self.detailLimit.characters)
        }
        let workspaces = Set(firing.map(\.key.workspace))
        let payload = Event.Payload(
            summary: (head + " (" + listed + ")").capped(Self.summaryLimit),
            source: Markup.unlinked(InertText.line(workspaces.count == 1 ? workspaces.first! : "devicewatch"))
                .capped(Self.fieldLimit),
            severity: severity.rawValue,
            timestamp: Timestamp.format(firing.map(\.startsAt).min() ?? intent.createdAt), component: nil,
            group: InertText.line(workspaces.sorted().joined(separator: ", ")).capped(Self.fieldLimit),
            eventClass: rules.count == 1 ? rules.first! : "devicewatch", customDetails: details)
        let links = context.externalURL.map { [Event.Link(href: "\($0)/", text: "devicewatch status page")] }
        return Event(
            routingKey: routingKey.exposedValue, eventAction: "trigger", dedupKey: key, payload: payload, links: links)
    }

    /// Names joined by ", " until `limit` (UTF-16 units) would be passed, then "and N more".
    static func list(_ names: [String], fitting limit: Int) -> String {
        var text = ""
        for (index, name) in names.enumerated() {
            let piece = (text.isEmpty ? "" : ", ") + name
            let rest = names.count - index
            let more = rest > 1 ? ", and \(rest - 1) more" : ""
            if (text + piece + more).utf16.count > limit {
                let tail = (text.isEmpty ? "" : ", ") + "and \(rest) more"
                return (text + tail).utf16.count <= limit ? text + tail : text.capped(TextLimit(max(1, limit)))
            }
            text += piece
        }
        return text
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
