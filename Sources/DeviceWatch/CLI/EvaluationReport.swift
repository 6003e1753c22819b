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
        let silent = rules.filter { (evaluation.matchCounts[$0.id] ?? 0) == 0 }.map(\.id)
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
            unmatchedRules: rules.filter { (evaluation.matchCounts[$0.id] ?? 0) == 0 }.map(\.id),
            unversionedDevices: evaluation.unversionedDevices.map { .init(device: $0.deviceID, rfdmVersion: $0.raw) },
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

            enum CodingKeys: String, CodingKey {
                case rule, severity, device, summary, reasons
                case deviceName = "device_name"
            }
        }

        public struct Unversioned: Encodable, Sendable {
            var device: String
            var rfdmVersion: String?

            enum CodingKeys: String, CodingKey {
                case device
                case rfdmVersion = "rfdm_version"
            }
        }

        var workspace: String
        var evaluatedAt: String
        var clock: String
        var devices: Int
        var findings: [Item]
        var matchCounts: [String: Int]
        var unmatchedRules: [String]
        var unversionedDevices: [Unversioned]
        var cycle: CyclePreview.JSON?

        enum CodingKeys: String, CodingKey {
            case workspace, clock, devices, findings, cycle
            case evaluatedAt = "evaluated_at"
            case matchCounts = "match_counts"
            case unmatchedRules = "unmatched_rules"
            case unversionedDevices = "unversioned_devices"
        }
    }

    /// Device-controlled text must not move the cursor or colour the terminal.
    private func clean(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}
