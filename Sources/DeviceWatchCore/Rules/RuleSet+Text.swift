import Foundation
import Mustache

/// A rule set's words: why a finding matched (explanations, only for matches), and its summary
/// and description rendered from the rule's templates, every piece of device text inert.
extension RuleSet {
    /// The facts that made a finding match, e.g. `last heartbeat 17m ago (at least 15m)`.
    public func reasons(for finding: Finding) -> [String] {
        guard let rule = rule(finding.ruleID) else { return [] }
        if let group = finding.fleet, let fleet = rule.fleet { return Self.reasons(group, fleet).map(InertText.line) }
        let facts = facts(of: finding)
        var reasons: [String] = []
        if let selector = rule.selector { explain(selector, facts, into: &reasons) }
        explain(rule.condition, facts, into: &reasons)
        // Reasons quote the device's own text (tags, versions, names): make it inert.
        return reasons.map(InertText.line)
    }

    /// The rule's summary template rendered for a finding; device text in it is inert (``InertText``).
    public func summary(of finding: Finding) -> String {
        guard let index = indexByID[finding.ruleID] else { return finding.ruleID }
        return InertText.block(
            summaries[index].render(
                templateContext(rules[index], workspace: finding.workspace, facts: facts(of: finding))))
    }

    /// The rule's description template rendered for a finding, with the values its summary sees;
    /// nil when the rule has no description.
    public func description(of finding: Finding) -> String? {
        guard let index = indexByID[finding.ruleID], let template = descriptions[index]
        else { return nil }
        return InertText.block(
            template.render(templateContext(rules[index], workspace: finding.workspace, facts: facts(of: finding))))
    }

    private func facts(of finding: Finding) -> DeviceFacts {
        DeviceFacts(
            device: finding.device, now: finding.evaluatedAt.timeIntervalSince1970, firstSeen: finding.firstSeen,
            fleet: finding.fleet)
    }

    /// How many of the group meet the rule's per-device condition against its threshold, and
    /// who they are (the first few; receivers cap the text to their limits).
    static func reasons(_ group: FleetFacts, _ fleet: FleetCondition) -> [String] {
        var reasons = [
            "\(group.matching) of \(group.total) devices in \(group.group) (\(FleetFacts.percent(group.fraction))) are "
                + "\(fleet.of.summary) (\(fleet.thresholdSummary))"
        ]
        let matching = group.members.filter(\.matches)
        if !matching.isEmpty {
            let shown = matching.prefix(membersInReasons).map { "\($0.name) (\($0.id))" }.joined(separator: ", ")
            let more = matching.count > membersInReasons ? " and \(matching.count - membersInReasons) more" : ""
            reasons.append("\(fleet.threshold.isCountBelow ? "counted" : "matching"): \(shown)\(more)")
        }
        return reasons
    }

    /// The members a fleet alert's reasons name; the rest are counted.
    static let membersInReasons = 20

    // MARK: Explanations (only for matches)

    private func explain(_ predicate: Condition, _ facts: DeviceFacts, into reasons: inout [String]) {
        switch predicate {
        case .offlineFor(let age):
            reasons.append(
                "last heartbeat \(DurationText.format(seconds: facts.heartbeatAge ?? 0)) ago (at least \(DurationText.format(age)))"
            )
        case .unknownFor(let age):
            let since = facts.device.createdAt != nil ? "created" : "first seen"
            reasons.append(
                "never checked in; \(since) \(DurationText.format(seconds: facts.unknownAge ?? 0)) ago (at least \(DurationText.format(age)))"
            )
        case .rfdmVersionBelow(let minimum):
            reasons.append("rfdm \(facts.device.rfdmVersion ?? "?") is below \(minimum)")
        case .status:
            reasons.append("status is \(facts.device.status?.rawValue ?? "missing")")
        case .tags(let filter):
            for glob in filter.allOf {
                let tag = facts.device.tags.first(where: glob.matches) ?? glob.pattern
                reasons.append("tags include \(tag)")
            }
            if !filter.anyOf.isEmpty,
                let tag = facts.device.tags.first(where: { tag in filter.anyOf.contains { $0.matches(tag) } })
            {
                reasons.append("tags include \(tag)")
            }
            if !filter.noneOf.isEmpty {
                reasons.append("tags include none of \(filter.noneOf.map(\.pattern).joined(separator: ", "))")
            }
        case .field(let field, let patterns):
            let value = field.value(of: facts.device) ?? ""
            let pattern = patterns.first { $0.matches(value) }?.pattern ?? ""
            reasons.append(
                pattern == value
                    ? "\(field.rawValue) is \"\(value)\"" : "\(field.rawValue) \"\(value)\" matches \"\(pattern)\"")
        case .all(let parts):
            for part in parts { explain(part, facts, into: &reasons) }
        case .any(let parts):
            let now = Date(timeIntervalSince1970: facts.now)
            if let first = parts.first(where: { $0.holds(for: facts.device, at: now, firstSeen: facts.firstSeen) }) {
                explain(first, facts, into: &reasons)
            }
        case .not(let inner):
            reasons.append("not (\(inner.summary))")
        }
    }

    /// A fleet member as templates see it: every value inert (a status the API adds is its text too).
    private static func templateValues(_ member: FleetMember) -> [String: String] {
        ["id": InertText.line(member.id), "name": InertText.line(member.name), "status": InertText.line(member.status)]
    }

    private func templateContext(_ rule: Rule, workspace: String, facts: DeviceFacts) -> [String: Any] {
        let device = facts.device
        // Every value from the device is inert and on one line: a name cannot add a line to a summary.
        var deviceContext: [String: Any] = [
            "id": InertText.line(device.id), "name": InertText.line(device.displayName),
            "status": InertText.line(device.status?.rawValue ?? ""),
            "tags": InertText.line(device.tags.joined(separator: ", ")),
        ]
        for (key, value) in [
            ("hostname", device.hostname), ("rfdm_version", device.rfdmVersion), ("type", device.type),
            ("platform", device.platform), ("architecture", device.architecture),
        ] {
            if let value { deviceContext[key] = InertText.line(value) }
        }
        if let heartbeat = device.lastHeartbeat { deviceContext["last_heartbeat"] = Timestamp.format(heartbeat) }
        var context: [String: Any] = [
            "device": deviceContext, "workspace": workspace,
            "rule": ["id": rule.id, "severity": rule.severity.rawValue], "labels": rule.labels,
        ]
        if let age = facts.heartbeatAge { context["offline_for"] = DurationText.format(seconds: age) }
        if let age = facts.unknownAge { context["unknown_for"] = DurationText.format(seconds: age) }
        if let group = facts.fleet {
            context["group"] =
                [
                    "key": InertText.line(group.group), "total": group.total, "matching": group.matching,
                    "fraction": "\((group.fraction * 1000).rounded() / 1000)",
                    "percent": FleetFacts.percent(group.fraction),
                    "devices": group.members.filter(\.matches).map(Self.templateValues),
                    "all_devices": group.members.map(Self.templateValues),
                ] as [String: Any]
        }
        return context
    }
}

/// What explanations and summaries need of one device.
struct DeviceFacts {
    let device: Device
    let now: Double
    let firstSeen: Date?
    let fleet: FleetFacts?
    /// Seconds since the last heartbeat (a future heartbeat counts as 0); nil if it never heartbeated.
    let heartbeatAge: Double?
    /// Seconds since creation (or first sighting) of a device that never heartbeated.
    let unknownAge: Double?

    init(device: Device, now: Double, firstSeen: Date?, fleet: FleetFacts? = nil) {
        self.device = device
        self.now = now
        self.firstSeen = firstSeen
        self.fleet = fleet
        if let heartbeat = device.lastHeartbeat {
            heartbeatAge = max(0, now - heartbeat.timeIntervalSince1970)
            unknownAge = nil
        } else {
            heartbeatAge = nil
            unknownAge = (device.createdAt ?? firstSeen).map { max(0, now - $0.timeIntervalSince1970) }
        }
    }
}
