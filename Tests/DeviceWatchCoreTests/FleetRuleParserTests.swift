import DeviceWatchCore
import Foundation
import Testing

@Suite("RuleParser: fleet rules")
struct FleetRuleParserTests {
    func parse(_ rule: String) -> (rules: [Rule], diagnostics: [String]) {
        let (rules, diagnostics) = RuleParser.parse(#"{"rules": [\#(rule)]}"#, file: "rules/fleet.json")
        return (rules, diagnostics.map(\.description))
    }

    @Test func theIssuesExampleParses() throws {
        let (rules, diagnostics) = parse(
            """
            { "id": "site-down", "severity": "critical",
              "where": { "tags": { "all_of": ["production"] } },
              "fleet": { "group_by": ["tag:site-*"], "min_devices": 3,
                         "when": { "offline_fraction_at_least": 0.5 } },
              "summary": "{{group.key}}: {{group.matching}} of {{group.total}} cameras offline",
              "inhibits": ["production-offline"], "for": "2m", "keep_firing_for": "5m" }
            """)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let rule = try #require(rules.first)
        #expect(
            rule.fleet
                == FleetCondition(
                    groupBy: ["tag:site-*"], minDevices: 3, threshold: .fractionAtLeast(0.5), of: .status(["offline"])))
        #expect(rule.condition == .status(["offline"]))
        #expect(rule.pendingFor == .seconds(120) && rule.keepFiringFor == .seconds(300))
    }

    @Test(arguments: [
        (
            #""count_at_least": 3, "of": {"offline_for": "10m"}"#, FleetCondition.Threshold.countAtLeast(3),
            Condition.offlineFor(.seconds(600))
        ),
        (
            #""fraction_at_least": 0.25, "of": {"unknown_for": "1h"}"#, .fractionAtLeast(0.25),
            .unknownFor(.seconds(3600))
        ),
        (#""count_below": 2, "of": {"status": "online"}"#, .countBelow(2), .status(["online"])),
        (#""offline_count_at_least": 5"#, .countAtLeast(5), .status(["offline"])),
        (#""online_count_below": 1"#, .countBelow(1), .status(["online"])),
        (#""unknown_count_at_least": 2"#, .countAtLeast(2), .status(["unknown"])),
    ])
    func everyCountReadsWithItsCondition(_ when: String, _ threshold: FleetCondition.Threshold, _ of: Condition) throws
    {
        let (rules, diagnostics) = parse(#"{"id": "f", "fleet": {"when": {\#(when)}}}"#)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let fleet = try #require(rules.first?.fleet)
        #expect(fleet.threshold == threshold && fleet.of == of)
        // Without group_by: one group per workspace; without min_devices: any group.
        #expect(fleet.groupBy == ["workspace"] && fleet.minDevices == 1)
    }

    @Test(arguments: [
        (
            #"{"id": "f", "when": {"offline_for": "1m"}, "fleet": {"when": {"offline_count_at_least": 1}}}"#,
            #"rules/fleet.json:1:32: rule "f": rules[0].when: a fleet rule judges groups, not devices"#
        ),
        (
            #"{"id": "f", "fleet": {"when": {"fraction_at_least": 1.5, "of": {"status": "offline"}}}}"#,
            #"rules[0].fleet.when.fraction_at_least: a fraction is more than 0 and at most 1 (0.5 is half the group); got 1.5"#
        ),
        (
            #"{"id": "f", "fleet": {"when": {"offline_fraction_at_least": 0}}}"#,
            "a fraction is more than 0 and at most 1"
        ),
        (#"{"id": "f", "fleet": {"when": {"count_at_least": 2}}}"#, #"count_at_least needs "of""#),
        (
            #"{"id": "f", "fleet": {"when": {"offline_count_at_least": 2, "of": {"status": "online"}}}}"#,
            "offline_count_at_least counts its own condition; use count_at_least with \"of\""
        ),
        (
            #"{"id": "f", "fleet": {"when": {"offline_count_at_least": 2, "online_count_below": 1}}}"#,
            "give one count, not several"
        ),
        (#"{"id": "f", "fleet": {"when": {"offline_count_at_least": 2.5}}}"#, "expected a whole number of at least 1"),
        (
            #"{"id": "f", "fleet": {"min_devices": 0, "when": {"offline_count_at_least": 1}}}"#,
            "min_devices: expected a whole number of at least 1"
        ),
        (#"{"id": "f", "fleet": {"when": {"ofline_count_at_least": 1}}}"#, #"did you mean "offline_count_at_least"?"#),
        (
            #"{"id": "f", "fleet": {"group_by": ["tag:site-*", "sevrity"], "when": {"offline_count_at_least": 1}}}"#,
            #"did you mean "severity"?"#
        ),
        (
            #"{"id": "f", "fleet": {"grup_by": [], "when": {"offline_count_at_least": 1}}}"#,
            #"did you mean "group_by"?"#
        ),
        (#"{"id": "f", "fleet": {"group_by": []}}"#, "a fleet rule needs \"when\""),
        (
            #"{"id": "f", "inhibits": ["x"], "inhibit_equal": ["device"], "fleet": {"when": {"offline_count_at_least": 1}}}"#,
            "\"device\" cannot be equal to a group"
        ),
    ])
    func impossibleFleetRulesAreRefusedPrecisely(_ rule: String, _ expected: String) {
        let (rules, diagnostics) = parse(rule)
        #expect(rules.isEmpty)
        #expect(diagnostics.contains { $0.contains(expected) }, "\(diagnostics)")
    }
}
