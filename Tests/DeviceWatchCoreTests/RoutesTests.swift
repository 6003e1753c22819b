import DeviceWatchCore
import Foundation
import Testing

/// `defaults.notify` and `routes`: where alerts of rules without their own `notify` go.
@Suite("Routes")
struct RoutesTests {
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!
    static let config = #"""
        {"workspaces": [{"id": "acme"}], "rule_files": [],
         "receivers": {"pager": {"type": "console"}, "site-chat": {"type": "console"}, "chat": {"type": "console"},
                       "ops": {"type": "console"}},
         "defaults": {"group_wait": "0s", "notify": "chat"},
         "routes": [
           {"match": ["severity=critical", "tag=site-*"], "notify": ["pager"], "continue": true},
           {"match": "tag=site-*", "notify": "site-chat"},
           {"match": ["label:team=ops"], "notify": "ops"}]}
        """#

    static func defaults() throws -> RoutingDefaults {
        let (config, diagnostics) = ConfigurationParser.parse(Self.config, file: "devicewatch.json")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        return RoutingDefaults(try #require(config).defaults)
    }

    static let rules = RuleSet([
        Rule(id: "site-critical", severity: .critical, condition: .status(["offline"])),
        Rule(id: "site-warning", severity: .warning, condition: .status(["offline"]), labels: ["team": "ops"]),
        Rule(id: "own", severity: .critical, condition: .status(["offline"]), notify: ["ops"]),
    ])

    /// The receivers each rule's alert reached, for one offline device with `tags`.
    func receivers(tags: [String]) throws -> [String: [String]] {
        var state = AlertState()
        let device = Device(id: "cam", name: "cam", status: .offline, lastHeartbeat: Self.t0, tags: tags)
        let (_, intents) = AlertCycle.run(
            &state, .poll(workspace: "acme", devices: [device], at: Self.t0),
            settings: AlertCycle.Settings(rules: Self.rules, defaults: try Self.defaults()))
        var byRule: [String: [String]] = [:]
        for intent in intents {
            for alert in intent.firing { byRule[alert.key.ruleID, default: []].append(intent.receiver) }
        }
        return byRule.mapValues { $0.sorted() }
    }

    @Test func theFirstMatchingRouteWinsUnlessItContinuesAndARulesOwnNotifyBypassesThem() throws {
        let atSite = try receivers(tags: ["site-b"])
        // Critical at a site: the pager route continues, the site route then wins.
        #expect(atSite["site-critical"] == ["pager", "site-chat"])
        // A warning at a site: the site route wins before the ops label's.
        #expect(atSite["site-warning"] == ["site-chat"])
        #expect(atSite["own"] == ["ops"])
        let elsewhere = try receivers(tags: ["lab"])
        // No site tag: the ops label's route; else defaults.notify.
        #expect(elsewhere["site-warning"] == ["ops"])
        #expect(elsewhere["site-critical"] == ["chat"])
    }

    @Test func checkRoutesSaysWhereEachRulesAlertsGo() throws {
        let lines = RouteTable.describe(Self.rules.rules, defaults: try Self.defaults())
        #expect(
            lines == [
                "site-critical: pager when tag=site-*; site-chat when tag=site-*; otherwise chat (defaults.notify)",
                "site-warning: site-chat when tag=site-*; ops",
                "own: ops (its own notify)",
            ])
    }

    @Test func routesNameReceiversThatExistAndMatchersThatParse() {
        let (_, diagnostics) = ConfigurationParser.parse(
            #"""
            {"workspaces": [{"id": "acme"}], "rule_files": [], "receivers": {"chat": {"type": "console"}},
             "defaults": {"notify": ["chatt"]},
             "routes": [{"match": ["colour=red"], "notify": ["chat"]}, {"match": "severity=critical"},
                        {"match": "rule=x", "notify": ["pagr"], "contine": true}]}
            """#, file: "devicewatch.json")
        let text = diagnostics.map(\.description)
        expectProblem(text, at: "defaults.notify", saying: "did you mean \"chat\"")
        expectProblem(text, at: "routes[0].match", saying: "unknown matcher \"colour\"")
        expectProblem(text, at: "routes[1]", saying: "needs \"notify\"")
        expectProblem(text, at: "routes[2].notify", saying: "no receiver named \"pagr\"")
        #expect(text.contains { $0.contains("contine") }, "\(text)")
    }
}
