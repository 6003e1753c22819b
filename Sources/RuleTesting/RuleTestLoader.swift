import DeviceAPISimulator
import DeviceWatch
import DeviceWatchCore
import Foundation

/// Reads rule test files, reporting every problem with its path, line and column.
public enum RuleTestLoader {
    static let defaultStart = Timestamp.parse("2026-01-01T00:00:00Z")!

    public static func load(_ path: String) throws(ConfigurationError) -> (suite: RuleTestSuite, rules: RuleSet) {
        let text: String
        switch ConfigurationLoader.readSource(path, what: "the test file") {
        case .failure(let problem): throw ConfigurationError(diagnostics: [problem])
        case .success(let decoded): text = decoded
        }
        let log = DiagnosticLog(file: path)
        let root: JSONNode
        do {
            root = try JSONParser.parse(text)
        } catch {
            throw ConfigurationError(diagnostics: [
                Diagnostic(
                    file: path, path: "", line: error.line, column: error.column,
                    message: "not valid JSON: \(error.message)")
            ])
        }
        let reader = NodeReader(node: root, log: log)
        let fields = reader.object(known: ["rule_files", "tests"]) ?? [:]
        let directory =
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var ruleFiles: [String] = []
        if let list = fields["rule_files"],
            let patterns = list.stringOrList("a rule file path or glob, or a list of them")
        {
            for pattern in patterns {
                let matches = ConfigurationLoader.expand(pattern, relativeTo: directory)
                if matches.isEmpty { list.report("no rule file matches \"\(pattern)\" (relative to \(directory))") }
                ruleFiles += matches.filter { !ruleFiles.contains($0) }
            }
        } else if fields["rule_files"] == nil {
            reader.report("a test file needs \"rule_files\": the rules under test")
        }
        var cases: [RuleTestSuite.Case] = []
        if let tests = fields["tests"] {
            for item in tests.array() ?? [] {
                if let testCase = parseCase(item) { cases.append(testCase) }
            }
        } else {
            reader.report("a test file needs \"tests\": a list of cases")
        }

        var diagnostics = RuleParser.sorted(log.diagnostics)
        var rules: [Rule] = []
        for file in ruleFiles {
            let ruleText: String
            switch ConfigurationLoader.readSource(file, what: "the rule file") {
            case .failure(let problem):
                diagnostics.append(problem)
                continue
            case .success(let decoded):
                ruleText = decoded
            }
            let parsed = RuleParser.parse(ruleText, file: file)
            diagnostics += parsed.diagnostics
            rules += parsed.rules
        }
        guard diagnostics.isEmpty else { throw ConfigurationError(diagnostics: diagnostics) }
        return (RuleTestSuite(file: path, ruleFiles: ruleFiles, cases: cases), RuleSet(rules))
    }

    static func parseCase(_ reader: NodeReader) -> RuleTestSuite.Case? {
        let before = reader.log.diagnostics.count
        guard
            let fields = reader.object(
                known: [
                    "name", "workspace", "start", "evaluate_every", "devices", "fleet", "timeline", "expect",
                    "defaults", "silences",
                ])
        else {
            return nil
        }
        let name = fields["name"]?.string() ?? reader.path
        let workspace = fields["workspace"]?.string() ?? "test"
        var start = defaultStart
        if let startReader = fields["start"], let text = startReader.string("an ISO-8601 time") {
            if let date = Timestamp.parse(text) {
                start = date
            } else {
                startReader.report("expected an ISO-8601 time, got \"\(text)\"")
            }
        }
        let step = fields["evaluate_every"]?.duration() ?? .seconds(60)
        if step <= .zero { fields["evaluate_every"]?.report("evaluate_every must be longer than 0s") }

        var source: RuleTestSuite.DeviceSource?
        switch (fields["devices"] ?? fields["fleet"], fields["timeline"]) {
        case (_?, nil):
            var definitions: [SimulatedDevice] = []
            if let fleet = fields["fleet"] {
                definitions += parseFleet(fleet, origin: start, file: reader.log.file)
            }
            let devices =
                fields["devices"] ?? NodeReader(node: JSONNode(value: .array([]), line: 0, column: 0), log: reader.log)
            for item in devices.array() ?? [] {
                do {
                    definitions.append(
                        try SimulatedDevice.parse(item.node.plainValue, source: reader.log.file, origin: start))
                } catch let error as ScenarioError {
                    item.report(
                        "not a device definition: \(error.path.isEmpty ? "" : error.path + ": ")\(error.problem)")
                } catch {
                    item.report("not a device definition: \(error)")
                }
            }
            source = .scenario(definitions)
        case (nil, let timeline?):
            var entries: [(Date, [Device])] = []
            for entry in timeline.array() ?? [] {
                guard let parts = entry.object(known: ["at", "devices"]),
                    let at = parts["at"].flatMap({ time($0, start: start) })
                else {
                    if case .object = entry.node.value, entry.node["at"] == nil {
                        entry.report("a timeline entry needs \"at\"")
                    }
                    continue
                }
                var devices: [Device] = []
                for item in parts["devices"]?.array() ?? [] {
                    if let device = apiDevice(item, at: at) { devices.append(device) }
                }
                entries.append((at, devices))
            }
            source = .timeline(entries.sorted { $0.0 < $1.0 })
        case (nil, nil):
            reader.report(
                "a test needs \"devices\" or \"fleet\" (simulator definitions) or \"timeline\" (device lists at times)")
        case (_?, _?):
            reader.report("give either \"devices\" or \"timeline\", not both")
        }

        var expectations: [RuleTestSuite.Expectation] = []
        if let expect = fields["expect"] {
            for item in expect.array() ?? [] {
                guard let parts = item.object(known: ["at", "firing", "rules", "notifications"]) else { continue }
                guard let atReader = parts["at"], let at = time(atReader, start: start) else {
                    if parts["at"] == nil { item.report("an expectation needs \"at\"") }
                    continue
                }
                var firing: [RuleTestSuite.ExpectedAlert] = []
                for alert in parts["firing"]?.array() ?? [] {
                    guard let alertFields = alert.object(known: ["rule", "device", "group", "summary"]) else {
                        continue
                    }
                    // A device rule's alert names its device; a fleet rule's, its group.
                    let subject = alertFields["device"] ?? alertFields["group"]
                    guard let rule = alertFields["rule"]?.string(), let device = subject?.string() else {
                        if alertFields["rule"] == nil || subject == nil {
                            alert.report(
                                "an expected alert needs \"rule\" and \"device\" (or \"group\", for a fleet rule)")
                        }
                        continue
                    }
                    if alertFields["device"] != nil, alertFields["group"] != nil {
                        alert.report("give \"device\" (a device rule's alert) or \"group\" (a fleet rule's), not both")
                        continue
                    }
                    firing.append(
                        .init(
                            rule: rule, device: device, summary: alertFields["summary"]?.string(),
                            isGroup: alertFields["group"] != nil))
                }
                if parts["firing"] == nil, parts["notifications"] == nil {
                    item.report(
                        "an expectation needs \"firing\" (the alerts firing then, [] for none) or \"notifications\"")
                }
                let rules = parts["rules"]?.stringOrList().map(Set.init)
                let notifications = parts["notifications"].map { list in
                    (list.array() ?? []).compactMap(expectedNotification)
                }
                expectations.append(
                    .init(
                        at: at, atText: atReader.string() ?? "", firing: parts["firing"] == nil ? nil : firing,
                        rules: rules,
                        notifications: notifications))
            }
        } else {
            reader.report("a test needs \"expect\": what fires when")
        }
        var defaults = Configuration.Defaults()
        if let defaultsReader = fields["defaults"] {
            ConfigurationParser.parseDefaults(defaultsReader, into: &defaults)
        }
        var silences: [Silence] = []
        for (index, item) in (fields["silences"]?.array() ?? []).enumerated() {
            guard let parts = item.object(known: ["matchers", "starts", "ends", "comment"]) else { continue }
            var matchers: [Silence.Matcher] = []
            for text in parts["matchers"]?.stringOrList() ?? [] {
                switch Silence.Matcher.parse(text) {
                case .success(let matcher): matchers.append(matcher)
                case .failure(let error): parts["matchers"]?.report(error.description)
                }
            }
            if matchers.isEmpty, parts["matchers"] == nil {
                item.report("a silence needs \"matchers\", e.g. [\"rule=production-offline\"]")
            }
            let starts = parts["starts"].flatMap { time($0, start: start) } ?? start
            guard let ends = parts["ends"].flatMap({ time($0, start: start) }) else {
                if parts["ends"] == nil { item.report("a silence needs \"ends\"") }
                continue
            }
            silences.append(
                Silence(
                    id: "test-\(index)", matchers: matchers, startsAt: starts, endsAt: ends,
                    comment: parts["comment"]?.string() ?? "",
                    author: "test", createdAt: start))
        }
        guard reader.log.diagnostics.count == before, let source else { return nil }
        return RuleTestSuite.Case(
            name: name, workspace: workspace, start: start, evaluateEvery: step, devices: source,
            expectations: expectations.sorted { $0.at < $1.at }, defaults: RoutingDefaults(defaults), silences: silences
        )
    }

    static func expectedNotification(_ reader: NodeReader) -> RuleTestSuite.ExpectedNotification? {
        guard let fields = reader.object(known: ["receiver", "reason", "firing", "resolved", "firing_count"]) else {
            return nil
        }
        guard let receiver = fields["receiver"]?.string() else {
            if fields["receiver"] == nil { reader.report("an expected notification needs \"receiver\"") }
            return nil
        }
        var reason: NotificationIntent.Reason?
        if let reasonReader = fields["reason"], let text = reasonReader.string() {
            reason = NotificationIntent.Reason(rawValue: text)
            if reason == nil { reasonReader.report("reason is new, changed, repeat or resolved; got \"\(text)\"") }
        }
        var count: Int?
        if let number = fields["firing_count"]?.number() {
            if number >= 0, number == number.rounded() {
                count = Int(number)
            } else {
                fields["firing_count"]?.report("expected a whole number")
            }
        }
        return .init(
            receiver: receiver, reason: reason, firing: fields["firing"]?.stringOrList().map(Set.init),
            resolved: fields["resolved"]?.stringOrList().map(Set.init), firingCount: count)
    }

    /// An ISO-8601 time or one relative to `start` (`+20m`, `-1h`).
    static func time(_ reader: NodeReader, start: Date) -> Date? {
        guard let text = reader.string("a time: ISO-8601 or relative to the test's start like \"+20m\"") else {
            return nil
        }
        if let date = relative(text, to: start) ?? Timestamp.parse(text) { return date }
        reader.report("expected a time: ISO-8601 or relative to the test's start like \"+20m\", got \"\(text)\"")
        return nil
    }

    static func relative(_ text: String, to origin: Date) -> Date? {
        guard let sign = text.first, sign == "+" || sign == "-",
            let seconds = DurationText.seconds(String(text.dropFirst()))
        else {
            return nil
        }
        return origin.addingTimeInterval(sign == "-" ? -seconds : seconds)
    }

    /// A device object as the API sends it; `last_heartbeat` and `created_at` may be relative to the entry's time.
    static func apiDevice(_ reader: NodeReader, at: Date) -> Device? {
        guard case .object(var members) = reader.node.value else {
            reader.report("expected a device object, got \(reader.node.kindDescription)")
            return nil
        }
        for index in members.indices where ["last_heartbeat", "created_at"].contains(members[index].key) {
            if case .string(let text) = members[index].value.value, let date = relative(text, to: at) {
                members[index].value.value = .string(Timestamp.format(date))
            }
        }
        let node = JSONNode(value: .object(members), line: reader.node.line, column: reader.node.column)
        do {
            let data = try JSONEncoder().encode(node.plainValue)
            let (device, warnings) = try DeviceListDecoder.decodeDevice(data)
            for warning in warnings { reader.report("field \(warning.field) ignored: \(warning.problem)") }
            return warnings.isEmpty ? device : nil
        } catch {
            reader.report("not a device: \(error)")
            return nil
        }
    }
}
