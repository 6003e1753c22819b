import DeviceWatchCore
import Foundation
import Testing

@Suite("RuleParser")
struct RuleParserTests {
    func parse(_ text: String) -> (rules: [Rule], diagnostics: [Diagnostic]) {
        RuleParser.parse(text, file: "rules/test.json")
    }

    @Test func parsesEveryFieldOfARule() throws {
        let (rules, diagnostics) = parse(
            """
            {"$schema": "schema/rules.schema.json", "rules": [{
              "id": "production-offline", "summary": "{{device.name}} offline for {{offline_for}}", "description": "d",
              "severity": "critical", "where": {"tags": {"all_of": ["production"], "none_of": ["retired", "lab-*"]}},
              "when": {"offline_for": "15m"}, "for": "1m", "keep_firing_for": "2m", "notify": ["pagerduty", "slack"],
              "repeat_every": "4h", "send_resolved": false, "labels": {"team": "vision"}, "group_by": ["rule", "label:team"]
            }]}
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let rule = try #require(rules.first)
        #expect(rule.id == "production-offline")
        #expect(rule.severity == .critical)
        #expect(
            rule.selector == .tags(TagFilter(allOf: [Glob("production")], noneOf: [Glob("retired"), Glob("lab-*")])))
        #expect(rule.condition == .offlineFor(.seconds(900)))
        #expect(rule.pendingFor == .seconds(60))
        #expect(rule.keepFiringFor == .seconds(120))
        #expect(rule.notify == ["pagerduty", "slack"])
        #expect(rule.repeatEvery == .seconds(14_400))
        #expect(rule.sendResolved == false)
        #expect(rule.labels == ["team": "vision"])
        #expect(rule.groupBy == ["rule", "label:team"])
        #expect(rule.file == "rules/test.json")
    }

    @Test func severalKeysInOneConditionMustAllHold() throws {
        let (rules, _) = parse(
            #"{"rules": [{"id": "a", "when": {"status": "offline", "type": ["jetson", "x86*"], "not": {"name": "lab-?"}}}]}"#
        )
        #expect(
            rules.first?.condition
                == .all([
                    .status(["offline"]), .field(.type, [Glob("jetson"), Glob("x86*")]),
                    .not(.field(.name, [Glob("lab-?")])),
                ]))
    }

    @Test func nearMissKeysGetASuggestionWithFileRulePathLineAndColumn() throws {
        let (rules, diagnostics) = parse(
            """
            {"rules": [
              {"id": "ok", "when": {"offline_for": "15m"}},
              {"id": "typo",
               "when": {"ofline_for": "15m"}}
            ]}
            """)
        #expect(rules.map(\.id) == ["ok"])
        let diagnostic = try #require(diagnostics.first)
        #expect(diagnostics.count == 1)
        #expect(
            diagnostic.description
                == #"rules/test.json:4:13: rule "typo": rules[1].when.ofline_for: unknown key "ofline_for"; did you mean "offline_for"?"#
        )
    }

    @Test func everyProblemInAFileIsReportedAtOnce() {
        let (_, diagnostics) = parse(
            """
            {"rules": [
              {"id": "Bad ID", "when": {"offline_for": "soon"}, "severity": "critcal"},
              {"when": {"rfdm_version_below": "one.two"}},
              {"id": "x", "when": {}, "notify": 5, "colour": "red"},
              {"id": "y", "when": {"status": "ofline", "tags": {"all": ["a"]}}, "group_by": ["rules"]},
              {"id": "z", "summary": 3}
            ]}
            """)
        let text = diagnostics.map(\.description)
        let expected = [
            #"rules[0].id: a rule id is lowercase"#,
            #"rules[0].severity: severity must be critical, error, warning or info; got "critcal"; did you mean "critical"?"#,
            #"rules[0].when.offline_for: expected a duration such as "90s", "15m", "4h" or "2d", got "soon""#,
            #"rules[1]: a rule needs an "id""#,
            #"rules[1].when.rfdm_version_below: expected a dotted numeric version"#,
            #"rules[2].colour: unknown key "colour""#,
            #"rules[2].when: an empty condition"#,
            #"rules[2].notify: expected a receiver name or a list of them, got the number 5"#,
            #"rules[3].when.status: "ofline" is not a status the API sends; did you mean "offline"?"#,
            #"rules[3].when.tags.all: unknown key "all"; did you mean "all_of"?"#,
            #"rules[3].group_by[0]: group_by entries are rule, workspace, severity, device, type, platform, architecture, label:NAME or tag:PATTERN; got "rules"; did you mean "rule"?"#,
            #"rules[4]: a rule needs a "when""#,
            #"rules[4].summary: expected a string, got the number 3"#,
        ]
        for phrase in expected {
            #expect(text.contains { $0.contains(phrase) }, "missing: \(phrase)\nin:\n\(text.joined(separator: "\n"))")
        }
        #expect(text.filter { $0.contains("rule \"x\"") }.count == 3)
    }

    @Test func duplicateIDsInAFileAreErrors() {
        let (rules, diagnostics) = parse(
            #"{"rules": [{"id": "a", "when": {"status": "offline"}}, {"id": "a", "when": {"status": "online"}}]}"#)
        #expect(rules.count == 1)
        #expect(diagnostics.first?.description.contains(#"duplicate rule id "a" (also at rules[0])"#) == true)
    }

    @Test(arguments: [
        (#"{"rules": [}"#, "rules/test.json:1:12: not valid JSON: a value is missing (trailing comma?)"),
        ("{\"rules\": [\n  {\"id\": 'a'}]}", "rules/test.json:2:10: not valid JSON: strings need double quotes"),
        (#"{"rules": [], "rules": []}"#, "duplicate key \"rules\""),
        (#"{"rule": []}"#, #"unknown key "rule"; did you mean "rules"?"#),
        ("[]", "expected an object, got an array"),
    ])
    func malformedFilesSayWhere(text: String, expected: String) {
        let (_, diagnostics) = parse(text)
        #expect(diagnostics.contains { $0.description.contains(expected) }, "\(diagnostics)")
    }

    @Test func aDescriptionIsCheckedAsATemplateAndRenderedLikeTheSummary() {
        let bad = parse(
            "{\"rules\": [{\"id\": \"a\", \"when\": {\"status\": \"offline\"},\n  \"description\": \"{{#device.name}} open\"}]}"
        )
        #expect(
            bad.1.contains {
                $0.description.hasPrefix(
                    "rules/test.json:2:18: rule \"a\": rules[0].description: not a valid Mustache template")
            }, "\(bad.1)")
        let (rules, diagnostics) = parse(
            #"{"rules": [{"id": "a", "when": {"status": "offline"}, "description": "{{device.name}} ({{device.id}}) on {{device.hostname}}"}]}"#
        )
        #expect(diagnostics.isEmpty)
        let finding = Finding(
            workspace: "acme", ruleID: "a", severity: .warning,
            device: Device(id: "cam-1", name: "gate\u{202E}cam", status: .offline, hostname: "jetson-1"),
            evaluatedAt: Date(timeIntervalSince1970: 0), firstSeen: nil)
        #expect(RuleSet(rules).description(of: finding) == "gatecam (cam-1) on jetson-1")
    }

    @Test func unknownStatusesThatAreNoTyposAreAllowed() {
        let (rules, diagnostics) = parse(#"{"rules": [{"id": "a", "when": {"status": ["maintenance"]}}]}"#)
        #expect(diagnostics.isEmpty)
        #expect(rules.first?.condition == .status(["maintenance"]))
    }
}

@Suite("JSONParser")
struct JSONParserTests {
    @Test func recordsLinesAndColumnsOfValues() throws {
        let node = try JSONParser.parse("{\n  \"a\": [1, \"é\", {\"b\": null}],\n  \"c\": true }")
        let a = try #require(node["a"])
        #expect((a.line, a.column) == (2, 8))
        guard case .array(let items) = a.value else { Issue.record("not an array"); return }
        #expect(items[1].value == .string("é"))
        #expect((items[2].line, items[2].column) == (2, 17))
        #expect(node["c"]?.value == .bool(true))
    }

    @Test(arguments: [
        #""a\"b\\c\/\n\u00e9\ud83d\ude00""#
    ])
    func decodesEscapes(text: String) throws {
        #expect(try JSONParser.parse(text).value == .string("a\"b\\c/\né😀"))
    }

    @Test(arguments: ["01", "1.", "-", "tru", "\"abc", "[1,]", "{\"a\" 1}", "1 2", "{\"a\":1,}", "\"a\u{01}\""])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
    }
}
