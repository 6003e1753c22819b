import CurlHTTP
import DeviceWatchCore
import Foundation

/// Opsgenie's Alert API v2: for each firing alert a create with `alias` = the alert's
/// fingerprint (Opsgenie deduplicates a create for an open alias, so repeats and retries never
/// open a second alert), for each resolved one a close by that alias. Priority from severity;
/// the device's facts in `details`; every device-controlled string inert and within Opsgenie's
/// limits (message 130 characters, description 15,000, entity 512, source 100, tags 50 each,
/// details 8,000 in all), counted in UTF-16 units as Opsgenie (Java) counts them.
public struct OpsgenieReceiver: Receiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 2, burst: 4)
    public static let endpoints = ["us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"]
    public static let messageLimit = TextLimit(130)
    public static let descriptionLimit = TextLimit(15_000)
    public static let entityLimit = TextLimit(512)
    public static let sourceLimit = TextLimit(100)
    public static let tagLimit = TextLimit(50)
    /// Each detail value; with the member list's larger share the map stays under 8,000.
    public static let detailLimit = TextLimit(400)
    public static let membersLimit = TextLimit(2000)

    public let name: String
    public let apiKey: Secret
    /// The API's base address (`https://api.opsgenie.com`).
    public let endpoint: String
    public let rateLimit: Configuration.RateLimit

    public var secrets: [Secret] { [apiKey] }

    public init(
        name: String, apiKey: Secret, region: String? = nil, endpoint: String? = nil,
        rateLimit: Configuration.RateLimit? = nil
    ) {
        self.name = name
        self.apiKey = apiKey
        let base = endpoint ?? Self.endpoints[region ?? "us"] ?? Self.endpoints["us"]!
        self.endpoint = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.rateLimit = rateLimit ?? Self.defaultRateLimit
    }

    /// Opsgenie's priorities: P1 critical, P2 error, P3 warning, P5 info.
    static func priority(_ severity: Severity) -> String {
        switch severity {
        case .critical: "P1"
        case .error: "P2"
        case .warning: "P3"
        case .info: "P5"
        }
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        let encoder = ReceiverJSON.encoder()
        let headers: HTTPHeaderList = [
            "Content-Type": "application/json", "User-Agent": "devicewatch",
            "Authorization": "GenieKey \(apiKey.exposedValue)",
        ]
        var requests: [HTTPRequestSpec] = []
        for snapshot in intent.firing {
            requests.append(
                HTTPRequestSpec(
                    method: "POST", url: "\(endpoint)/v2/alerts", headers: headers,
                    body: try encoder.encode(create(snapshot, context: context)), connectTimeout: .seconds(10),
                    totalTimeout: .seconds(30)))
        }
        for snapshot in intent.resolved {
            // The alias is a fingerprint (hex): nothing to escape in the path.
            requests.append(
                HTTPRequestSpec(
                    method: "POST", url: "\(endpoint)/v2/alerts/\(snapshot.fingerprint)/close?identifierType=alias",
                    headers: headers,
                    body: try encoder.encode(
                        Close(
                            source: "devicewatch",
                            note: Markup.unlinked(snapshot.resolveReasonText)
                                .capped(Self.detailLimit))),
                    connectTimeout: .seconds(10), totalTimeout: .seconds(30)))
        }
        return .httpSequence(requests)
    }

    func create(_ snapshot: AlertSnapshot, context: RenderContext) -> Create {
        let alert = context.rules.withText(snapshot)
        func inert(_ text: String, _ limit: TextLimit) -> String { Markup.unlinked(InertText.line(text)).capped(limit) }
        var details: [String: String] = [
            "rule": snapshot.key.ruleID, "workspace": inert(snapshot.key.workspace, Self.detailLimit),
            "severity": snapshot.severity.rawValue, "starts_at": Timestamp.format(snapshot.startsAt),
        ]
        if let group = snapshot.fleet {
            details["group"] = inert(group.group, Self.detailLimit)
            details["devices"] = "\(group.matching) of \(group.total) (\(FleetFacts.percent(group.fraction)))"
            details["members"] = Markup.unlinked(group.memberList(fitting: Self.membersLimit)).capped(Self.membersLimit)
        } else {
            details["device_id"] = inert(snapshot.device.id, Self.detailLimit)
            details["device_name"] = inert(alert.deviceName, Self.detailLimit)
            details["tags"] = inert(snapshot.device.tags.joined(separator: ", "), Self.detailLimit)
        }
        for (key, value) in [
            ("status", snapshot.device.status?.rawValue), ("hostname", snapshot.device.hostname),
            ("rfdm_version", snapshot.device.rfdmVersion), ("type", snapshot.device.type),
            ("last_heartbeat", snapshot.device.lastHeartbeat.map(Timestamp.format)),
        ] {
            if let value { details[key] = inert(value, Self.detailLimit) }
        }
        var description = [Markup.unlinked(alert.summary)]
        if let text = alert.description { description.append(Markup.unlinked(text)) }
        if !alert.reasons.isEmpty { description.append(Markup.unlinked(alert.reasons.joined(separator: "\n"))) }
        if let external = context.externalURL { description.append("\(external)/#alert-\(snapshot.fingerprint)") }
        // Tags: the rule, the severity and the device's own tags (each within 50, at most 20).
        var seen = Set<String>()
        let tags = (["devicewatch", snapshot.key.ruleID, snapshot.severity.rawValue] + snapshot.device.tags)
            .map { inert($0, Self.tagLimit) }.filter { !$0.isEmpty && seen.insert($0).inserted }
        return Create(
            message: inert(alert.summary, Self.messageLimit), alias: snapshot.fingerprint,
            description: description.joined(separator: "\n\n").capped(Self.descriptionLimit),
            tags: Array(tags.prefix(20)),
            details: details,
            entity: inert(snapshot.fleet?.group ?? alert.deviceName, Self.entityLimit), source: "devicewatch",
            priority: Self.priority(snapshot.severity))
    }

    struct Create: Encodable {
        var message: String
        var alias: String
        var description: String
        var tags: [String]
        var details: [String: String]
        var entity: String
        var source: String
        var priority: String
    }

    struct Close: Encodable {
        var source: String
        var note: String
    }
}
