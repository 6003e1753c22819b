import Foundation
import Mustache

/// Rules compiled once (at load or reload) for evaluation without parsing, regex building or
/// allocation per device-rule pair: durations are seconds, versions numeric, tags interned as
/// bits, globs precompiled and summary templates parsed.
public struct RuleSet: Sendable {
    public let rules: [Rule]
    private let compiled: [CompiledRule]
    private let tags: TagTable
    private let comparesVersions: Bool

    struct CompiledRule: Sendable {
        var selector: CompiledCondition?
        var condition: CompiledCondition
        var summary: MustacheTemplate
    }

    /// Compiles rules whose summaries are valid templates (see ``templateProblems(_:)``);
    /// an invalid summary falls back to ``Rule/defaultSummary``.
    public init(_ rules: [Rule]) {
        self.rules = rules
        var table = TagTable()
        compiled = rules.map { rule in
            CompiledRule(
                selector: rule.selector.map { CompiledCondition($0, tags: &table) },
                condition: CompiledCondition(rule.condition, tags: &table),
                summary: (try? RuleSet.template(rule.summary ?? Rule.defaultSummary))
                    ?? (try! RuleSet.template(Rule.defaultSummary)))
        }
        tags = table
        comparesVersions = rules.contains { $0.selector?.comparesVersions == true || $0.condition.comparesVersions }
    }

    /// Summary templates are plain text: nothing is HTML-escaped (receivers escape for their format).
    static func template(_ text: String) throws -> MustacheTemplate {
        try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
    }

    /// The rules whose summary or description is not a valid Mustache template, with the parser's message.
    public static func templateProblems(_ rules: [Rule]) -> [(rule: Rule, field: String, message: String)] {
        var problems: [(Rule, String, String)] = []
        for rule in rules {
            for (field, text) in [("summary", rule.summary), ("description", rule.description)] {
                guard let text else { continue }
                do { _ = try template(text) } catch { problems.append((rule, field, "not a valid Mustache template: \(error)")) }
            }
        }
        return problems
    }

    /// Evaluates every rule against every device of one workspace's snapshot.
    /// - Parameters:
    ///   - devices: the workspace's device list.
    ///   - firstSeen: when devicewatch first saw each device, for `unknown_for` without `created_at`.
    ///   - now: the evaluation time (the API's clock).
    public func evaluate(workspace: String, devices: [Device], firstSeen: [String: Date] = [:], at now: Date) -> Evaluation {
        var byRule = [[Finding]](repeating: [], count: rules.count)
        var unversioned: [(String, String?)] = []
        var bits = [UInt64](repeating: 0, count: tags.wordCount)
        let nowSeconds = now.timeIntervalSince1970
        for device in devices {
            tags.fill(&bits, for: device.tags)
            var facts = DeviceFacts(device: device, now: nowSeconds, firstSeen: firstSeen[device.id])
            if comparesVersions {
                facts.version = device.rfdmVersion.flatMap(Version.init)
                if facts.version == nil { unversioned.append((device.id, device.rfdmVersion)) }
            }
            bits.withUnsafeBufferPointer { tagBits in
                for (index, rule) in compiled.enumerated() {
                    if let selector = rule.selector, !selector.holds(facts, tagBits) { continue }
                    guard rule.condition.holds(facts, tagBits) else { continue }
                    byRule[index].append(finding(rules[index], rule, workspace: workspace, facts: facts, tagBits: tagBits))
                }
            }
        }
        var counts: [String: Int] = [:]
        for (index, rule) in rules.enumerated() { counts[rule.id] = byRule[index].count }
        return Evaluation(findings: byRule.flatMap { $0 }, unversionedDevices: unversioned, matchCounts: counts)
    }

    private func finding(
        _ rule: Rule, _ compiledRule: CompiledRule, workspace: String, facts: DeviceFacts, tagBits: UnsafeBufferPointer<UInt64>
    ) -> Finding {
        var reasons: [String] = []
        if let selector = rule.selector { explain(selector, facts, into: &reasons) }
        explain(rule.condition, facts, into: &reasons)
        let summary = compiledRule.summary.render(templateContext(rule, workspace: workspace, facts: facts))
        return Finding(workspace: workspace, ruleID: rule.id, severity: rule.severity, device: facts.device, reasons: reasons, summary: summary)
    }

    // MARK: Explanations (only for matches)

    private func explain(_ predicate: Condition, _ facts: DeviceFacts, into reasons: inout [String]) {
        switch predicate {
        case .offlineFor(let seconds):
            reasons.append("last heartbeat \(DurationText.format(seconds: facts.heartbeatAge ?? 0)) ago (at least \(DurationText.format(seconds: seconds)))")
        case .unknownFor(let seconds):
            let since = facts.device.createdAt != nil ? "created" : "first seen"
            reasons.append("never checked in; \(since) \(DurationText.format(seconds: facts.unknownAge ?? 0)) ago (at least \(DurationText.format(seconds: seconds)))")
        case .rfdmVersionBelow(let minimum):
            reasons.append("rfdm \(facts.device.rfdmVersion ?? "?") is below \(minimum)")
        case .status:
            reasons.append("status is \(facts.device.status?.rawValue ?? "missing")")
        case .tags(let filter):
            for glob in filter.allOf {
                let tag = facts.device.tags.first(where: glob.matches) ?? glob.pattern
                reasons.append("tags include \(tag)")
            }
            if !filter.anyOf.isEmpty, let tag = facts.device.tags.first(where: { tag in filter.anyOf.contains { $0.matches(tag) } }) {
                reasons.append("tags include \(tag)")
            }
            if !filter.noneOf.isEmpty {
                reasons.append("tags include none of \(filter.noneOf.map(\.pattern).joined(separator: ", "))")
            }
        case .field(let field, let patterns):
            let value = field.value(of: facts.device) ?? ""
            let pattern = patterns.first { $0.matches(value) }?.pattern ?? ""
            reasons.append(pattern == value ? "\(field.rawValue) is \"\(value)\"" : "\(field.rawValue) \"\(value)\" matches \"\(pattern)\"")
        case .all(let parts):
            for part in parts { explain(part, facts, into: &reasons) }
        case .any(let parts):
            var table = TagTable()
            if let first = parts.first(where: { part in
                // Re-check the alternatives one by one to name the one that held.
                let compiled = CompiledCondition(part, tags: &table)
                var bits = [UInt64](repeating: 0, count: table.wordCount)
                table.fill(&bits, for: facts.device.tags)
                return bits.withUnsafeBufferPointer { compiled.holds(facts, $0) }
            }) {
                explain(first, facts, into: &reasons)
            }
        case .not(let inner):
            reasons.append("not (\(inner.summary))")
        }
    }

    private func templateContext(_ rule: Rule, workspace: String, facts: DeviceFacts) -> [String: Any] {
        let device = facts.device
        var deviceContext: [String: Any] = [
            "id": device.id, "name": device.displayName, "status": device.status?.rawValue ?? "",
            "tags": device.tags.joined(separator: ", "),
        ]
        for (key, value) in [("hostname", device.hostname), ("rfdm_version", device.rfdmVersion), ("type", device.type),
            ("platform", device.platform), ("architecture", device.architecture)]
        {
            if let value { deviceContext[key] = value }
        }
        if let heartbeat = device.lastHeartbeat { deviceContext["last_heartbeat"] = Timestamp.format(heartbeat) }
        var context: [String: Any] = [
            "device": deviceContext, "workspace": workspace,
            "rule": ["id": rule.id, "severity": rule.severity.rawValue], "labels": rule.labels,
        ]
        if let age = facts.heartbeatAge { context["offline_for"] = DurationText.format(seconds: age) }
        if let age = facts.unknownAge { context["unknown_for"] = DurationText.format(seconds: age) }
        return context
    }
}

/// What the predicates need of one device, computed once per device (not per rule).
struct DeviceFacts {
    let device: Device
    /// Seconds since the last heartbeat (a future heartbeat counts as 0); nil if it never heartbeated.
    let heartbeatAge: Double?
    /// Seconds since creation (or first sighting) of a device that never heartbeated.
    let unknownAge: Double?
    var version: Version?

    init(device: Device, now: Double, firstSeen: Date?) {
        self.device = device
        if let heartbeat = device.lastHeartbeat {
            heartbeatAge = max(0, now - heartbeat.timeIntervalSince1970)
            unknownAge = nil
        } else {
            heartbeatAge = nil
            unknownAge = (device.createdAt ?? firstSeen).map { max(0, now - $0.timeIntervalSince1970) }
        }
    }
}

extension Condition {
    var comparesVersions: Bool {
        switch self {
        case .rfdmVersionBelow: true
        case .all(let parts), .any(let parts): parts.contains { $0.comparesVersions }
        case .not(let inner): inner.comparesVersions
        default: false
        }
    }
}
