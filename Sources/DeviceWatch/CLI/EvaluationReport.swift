import DeviceWatchCore
import Foundation

/// What `devicewatch eval` shows for one workspace.
public struct EvaluationReport: Sendable {
    public var workspace: String
    public var at: Date
    public var clock: EvaluationTime.Source
    public var deviceCount: Int
    public var evaluation: Evaluation
    public var ruleSet: RuleSet
    /// What the worker's cycle would do with this poll.
    public var cycle: CyclePreview?
    var rules: [Rule] { ruleSet.rules }

    public init(
        workspace: String, at: Date, clock: EvaluationTime.Source, deviceCount: Int, evaluation: Evaluation,
        rules: RuleSet, cycle: CyclePreview? = nil
    ) {
        self.cycle = cycle
        self.workspace = workspace
        self.at = at
        self.clock = clock
        self.deviceCount = deviceCount
        self.evaluation = evaluation
        self.ruleSet = rules
    }

    /// Findings grouped by rule, each with its explanation, then counts and silent rules.
    public var text: String {
        var lines: [String] = []
        let clockName =
            switch clock {
            case .api: "the API's clock"
            case .local: "the local clock (the API sent no usable Date header)"
            case .given: "the time given with --at"
            }
        lines.append(
            "workspace \(workspace): \(deviceCount) devices evaluated at \(Timestamp.format(at)) (\(clockName))")
        for rule in rules {
            let findings = evaluation.findings.filter { $0.ruleID == rule.id }
            guard !findings.isEmpty else { continue }
            lines.append("")
            lines.append(
                "\(rule.id) (\(rule.severity.rawValue)): \(findings.count) device\(findings.count == 1 ? "" : "s")")
            for finding in findings {
                lines.append(
                    "  \(clean(finding.device.displayName)) [\(clean(finding.deviceID))]: \(clean(ruleSet.summary(of: finding)))"
                )
                lines.append("      because " + ruleSet.reasons(for: finding).map(clean).joined(separator: "; "))
            }
        }
        for rule in rules where rule.isFleet { lines += fleetLines(rule) }
        let silent = rules.filter { !$0.isFleet && (evaluation.matchCounts[$0.id] ?? 0) == 0 }.map(\.id)
        lines.append("")
        if !silent.isEmpty { lines.append("rules that matched no device: \(silent.joined(separator: ", "))") }
        if !evaluation.unversionedDevices.isEmpty {
            let sample = evaluation.unversionedDevices.prefix(5).map {
                "\(clean($0.deviceID)) (\($0.raw.map { "\"\(clean($0))\"" } ?? "none"))"
            }
            lines.append(
                "devices whose rfdm version cannot be compared (never match rfdm_version_below): "
                    + "\(evaluation.unversionedDevices.count): \(sample.joined(separator: ", "))\(evaluation.unversionedDevices.count > 5 ? ", …" : "")"
            )
        }
        if let cycle {
            lines.append("")
            lines += cycle.lines(clean: clean)
        }
        lines.append(
            "\(evaluation.findings.count) finding\(evaluation.findings.count == 1 ? "" : "s"); nothing was sent")
        return lines.joined(separator: "\n")
    }

    /// Groups that do not fire listed per fleet rule (those that fire are all listed).
    static let quietGroupsShown = 10

    /// A fleet rule's groups: those that fire with their summary, why, and who is counted; then
    /// the first few that do not, with why not.
    private func fleetLines(_ rule: Rule) -> [String] {
        guard let fleet = rule.fleet else { return [] }
        let groups = evaluation.fleetGroups.filter { $0.ruleID == rule.id }
        let firing = groups.filter(\.holds)
        var lines = [
            "",
            "\(rule.id) (\(rule.severity.rawValue), fleet rule by \(fleet.groupBy.joined(separator: ", "))): "
                + "\(firing.count) of \(groups.count) group\(groups.count == 1 ? "" : "s") fire"
                + (groups.isEmpty ? " (no device is selected by its where)" : ""),
        ]
        for group in firing {
            let finding = Self.finding(group, rule: rule, at: at, workspace: workspace)
            lines.append("  \(clean(group.facts.group)): fires: \(clean(ruleSet.summary(of: finding)))")
            lines.append("      because " + ruleSet.reasons(for: finding).map(clean).joined(separator: "; "))
            lines.append(memberLine(group.facts))
        }
        let quiet = groups.filter { !$0.holds }
        for group in quiet.prefix(Self.quietGroupsShown) {
            let facts = group.facts
            let why =
                facts.total < fleet.minDevices
                ? "only \(facts.total) device\(facts.total == 1 ? "" : "s") (min_devices \(fleet.minDevices))"
                : "needs \(fleet.thresholdSummary)"
            lines.append(
                "  \(clean(facts.group)): \(facts.matching) of \(facts.total) (\(FleetFacts.percent(facts.fraction))) "
                    + "\(fleet.of.summary): does not fire (\(why))")
            lines.append(memberLine(facts))
        }
        if quiet.count > Self.quietGroupsShown {
            lines.append("  ... and \(quiet.count - Self.quietGroupsShown) more groups that do not fire")
        }
        return lines
    }

    /// A group's first members with their status, counted ones marked `*`.
    private func memberLine(_ facts: FleetFacts) -> String {
        let shown = facts.members.prefix(10).map {
            "\(clean($0.name)) [\(clean($0.id))] \(clean($0.status))\($0.matches ? "*" : "")"
        }
        let more = facts.members.count > 10 ? ", … and \(facts.members.count - 10) more" : ""
        return "      members (* counted): " + shown.joined(separator: ", ") + more
    }

    static func finding(_ group: FleetGroup, rule: Rule, at: Date, workspace: String) -> Finding {
        Finding(
            workspace: workspace, ruleID: rule.id, severity: rule.severity,
            device: FleetGroup.device(for: group.facts.group), evaluatedAt: at, fleet: group.facts)
    }

    /// The same, as a JSON-encodable value.
    public var json: JSON {
        JSON(
            workspace: workspace, evaluatedAt: Timestamp.format(at), clock: clock.rawValue, devices: deviceCount,
            findings: evaluation.findings.map {
                .init(
                    rule: $0.ruleID, severity: $0.severity.rawValue, device: $0.deviceID, deviceName: $0.device.name,
                    summary: ruleSet.summary(of: $0), reasons: ruleSet.reasons(for: $0))
            },
            matchCounts: evaluation.matchCounts,
            unmatchedRules: rules.filter { !$0.isFleet && (evaluation.matchCounts[$0.id] ?? 0) == 0 }.map(\.id),
            unversionedDevices: evaluation.unversionedDevices.map { .init(device: $0.deviceID, rfdmVersion: $0.raw) },
            fleetGroups: evaluation.fleetGroups.compactMap { group in
                guard let rule = ruleSet.rule(group.ruleID), let fleet = rule.fleet else { return nil }
                let finding = Self.finding(group, rule: rule, at: at, workspace: workspace)
                return JSON.Group(
                    rule: rule.id, group: group.facts.group, total: group.facts.total,
                    matching: group.facts.matching, fraction: group.facts.fraction, fires: group.holds,
                    tooSmall: group.facts.total < fleet.minDevices,
                    summary: group.holds ? ruleSet.summary(of: finding) : nil,
                    reasons: ruleSet.reasons(for: finding), members: group.facts.members)
            },
            cycle: cycle?.json)
    }

    public struct JSON: Encodable, Sendable {
        public struct Item: Encodable, Sendable {
            var rule: String
            var severity: String
            var device: String
            var deviceName: String?
            var summary: String
            var reasons: [String]
        }

        public struct Unversioned: Encodable, Sendable {
            var device: String
            var rfdmVersion: String?
        }

        var workspace: String
        var evaluatedAt: String
        var clock: String
        var devices: Int
        var findings: [Item]
        var matchCounts: [String: Int]
        var unmatchedRules: [String]
        var unversionedDevices: [Unversioned]
        /// Every group of every fleet rule, with its members.
        var fleetGroups: [Group]
        var cycle: CyclePreview.JSON?

        public struct Group: Encodable, Sendable {
            var rule: String
            var group: String
            var total: Int
            var matching: Int
            var fraction: Double
            var fires: Bool
            /// Fewer devices than the rule's `min_devices`.
            var tooSmall: Bool
            var summary: String?
            var reasons: [String]
            var members: [FleetMember]
        }
    }

    /// Device-controlled text must not move the cursor or colour the terminal.
    private func clean(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}
