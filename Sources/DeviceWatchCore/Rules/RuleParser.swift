/// Reads rule files: every problem in a file is reported at once, with file, rule id, JSON path,
/// line and column, and a suggestion for near-miss names.
public enum RuleParser {
    static let ruleKeys = [
        "id", "summary", "description", "severity", "where", "when", "for", "keep_firing_for", "notify",
        "repeat_every", "send_resolved", "labels", "group_by", "inhibits", "inhibit_equal", "fleet", "escalate",
        "mute_during",
        "flapping",
    ]
    static let conditionKeys =
        [
            "offline_for", "unknown_for", "rfdm_version_below", "status", "tags", "all", "any", "not",
        ] + DeviceField.allCases.map(\.rawValue)

    /// Parses one rule file's text.
    /// - Returns: the rules that are valid, and every problem found. A file with problems
    ///   should not be used at all; the rules are returned for tools that show what they can.
    /// - Parameters:
    ///   - receivers: the configured receiver names; when given, every `notify` entry must name one.
    ///   - timeIntervals: the configured `time_intervals`; when given, every `mute_during` entry must name one.
    public static func parse(
        _ text: String, file: String, receivers: Set<String>? = nil, timeIntervals: Set<String>? = nil
    ) -> (
        rules: [Rule], diagnostics: [Diagnostic]
    ) {
        let log = DiagnosticLog(file: file)
        guard let reader = NodeReader.parsing(text, log: log), let top = reader.object(known: ["rules"]) else {
            return ([], log.diagnostics)
        }
        let root = reader.node
        guard let list = top["rules"] else {
            log.report("a rule file needs a \"rules\" array", path: "", at: root)
            return ([], log.diagnostics)
        }
        var rules: [Rule] = []
        var seen: [String: String] = [:]
        for item in list.array() ?? [] {
            let before = log.diagnostics.count
            guard let rule = parseRule(item, file: file, receivers: receivers, timeIntervals: timeIntervals) else {
                continue
            }
            if let earlier = seen[rule.id] {
                log.ruleID = rule.id
                item.child("id", item.node["id"]!).report("duplicate rule id \"\(rule.id)\" (also at \(earlier))")
                log.ruleID = nil
                continue
            }
            seen[rule.id] = item.path
            if log.diagnostics.count == before { rules.append(rule) }
        }
        return (rules, sorted(log.diagnostics))
    }

    /// In file order, so a person fixes them top to bottom.
    public static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.enumerated().sorted {
            ($0.element.line ?? 0, $0.element.column ?? 0, $0.offset) < (
                $1.element.line ?? 0, $1.element.column ?? 0, $1.offset
            )
        }.map(\.element)
    }

    static func parseRule(
        _ reader: NodeReader, file: String, receivers: Set<String>? = nil, timeIntervals: Set<String>? = nil
    ) -> Rule? {
        let log = reader.log
        defer { log.ruleID = nil }
        // Name the rule in every problem, when its id can be read.
        if case .string(let id)? = reader.node["id"]?.value { log.ruleID = id }
        guard let fields = reader.object(known: ruleKeys) else { return nil }
        var valid = true
        func need<T>(_ value: T?) -> T? {
            if value == nil { valid = false }
            return value
        }

        let id = parseID(fields["id"], rule: reader)
        if id == nil { valid = false }
        let severity = parseSeverity(fields["severity"])
        if severity == nil { valid = false }

        let selector = fields["where"].flatMap { need(parseCondition($0)) }
        var condition: Condition?
        var fleet: FleetCondition?
        if let fleetReader = fields["fleet"] {
            fleet = need(parseFleet(fleetReader))
            condition = fleet?.of
            if let when = fields["when"] {
                when.report(
                    "a fleet rule judges groups, not devices: its condition goes in fleet.when (e.g. "
                        + "{\"count_at_least\": 3, \"of\": {\"offline_for\": \"10m\"}}); leave the rule's \"when\" out")
                valid = false
            }
        } else if let when = fields["when"] {
            condition = need(parseCondition(when))
        } else {
            reader.report("a rule needs a \"when\": the condition that is wrong, e.g. {\"offline_for\": \"15m\"}")
            valid = false
        }

        let flapping = fields["flapping"].flatMap { need(parseFlapping($0)) }
        if fleet != nil, let field = fields["flapping"] {
            field.report(
                "flapping is for a device rule: a fleet rule's group has no single device to flap; leave it out")
            valid = false
        }

        func duration(_ key: String) -> Duration? { fields[key].flatMap { need($0.duration()) } }
        let pendingFor = duration("for")
        let keepFiringFor = duration("keep_firing_for")
        let repeatEvery = duration("repeat_every")
        if let repeatEvery, repeatEvery <= .zero {
            fields["repeat_every"]?.report("repeat_every must be longer than 0s")
            valid = false
        }

        var notify: [String] = []
        if let notifyReader = fields["notify"],
            let names = need(notifyReader.stringOrList("a receiver name or a list of them"))
        {
            notify = names
            for (index, name) in names.enumerated() {
                let at = notifyReader.element(index)
                if name.isEmpty {
                    at.report("a receiver name must not be empty")
                    valid = false
                } else if let receivers, !receivers.contains(name) {
                    ConfigurationParser.reportUnknownReceiver(name, at: at, known: Array(receivers))
                    valid = false
                }
            }
        }

        var escalate: [EscalationStep]?
        if let field = fields["escalate"] {
            escalate = ConfigurationParser.parseEscalation(field, receivers: receivers)
            if escalate == nil { valid = false }
        }

        var muteDuring: [String] = []
        if let field = fields["mute_during"], let names = need(field.stringOrList("a time interval's name or a list")) {
            muteDuring = names
            for (index, name) in names.enumerated() {
                if let timeIntervals, !timeIntervals.contains(name) {
                    let hint =
                        NameSuggestion.closest(to: name, among: Array(timeIntervals)).map {
                            "; did you mean \"\($0)\"?"
                        }
                        ?? (timeIntervals.isEmpty
                            ? "; the configuration defines none (add it under \"time_intervals\")"
                            : "; defined: \(timeIntervals.sorted().joined(separator: ", "))")
                    field.element(index).report("no time interval named \"\(name)\"\(hint)")
                    valid = false
                }
            }
        }

        var labels: [String: String] = [:]
        if let labelsReader = fields["labels"], let members = need(labelsReader.members()) {
            for (key, value) in members {
                if let text = need(value.string()) { labels[key] = text }
            }
        }

        var groupBy: [String]?
        if let groupReader = fields["group_by"], let keys = need(groupReader.strings()) {
            for (index, key) in keys.enumerated() where !GroupKey.isValid(key) {
                groupReader.element(index).report(GroupKey.problem(key))
                valid = false
            }
            groupBy = keys
        }

        func template(_ key: String) -> String? {
            guard let field = fields[key], let text = need(field.string()) else { return nil }
            do {
                _ = try RuleSet.template(text)
            } catch {
                field.report("not a valid Mustache template: \(error)")
                valid = false
            }
            return text
        }
        let inhibits = fields["inhibits"].flatMap { need($0.stringOrList("a rule id or a list of them")) } ?? []
        let inhibitEqual = parseInhibitEqual(fields["inhibit_equal"], inhibits: inhibits, isFleet: fleet != nil)
        if inhibitEqual == nil { valid = false }

        let summary = template("summary")
        let description = template("description")
        let sendResolved = fields["send_resolved"].flatMap { need($0.bool()) }

        guard valid, let condition, let id, let severity, let inhibitEqual else { return nil }
        return Rule(
            id: id, summary: summary, description: description, severity: severity, selector: selector,
            condition: condition, pendingFor: pendingFor, keepFiringFor: keepFiringFor, notify: notify,
            repeatEvery: repeatEvery, sendResolved: sendResolved, labels: labels, groupBy: groupBy, inhibits: inhibits,
            inhibitEqual: inhibitEqual, file: file,
            definedAt: reader.node["id"].map { SourcePosition(line: $0.line, column: $0.column) }, fleet: fleet,
            flapping: flapping, escalate: escalate, muteDuring: muteDuring)
    }

    /// `[a-z0-9][a-z0-9_.-]*`
    public static func isValidID(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isLowerAlnum(first) else { return false }
        return text.unicodeScalars.allSatisfy { isLowerAlnum($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    private static func isLowerAlnum(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
