import Testing

@testable import DeviceWatchCore

@Suite("ConfigurationParser")
struct ConfigurationParserTests {
    @Test func defaultsApplyToAMinimalConfiguration() throws {
        let (config, diagnostics) = ConfigurationParser.parse(
            #"{"workspaces": [{"id": "acme"}], "rule_files": "rules/*.json"}"#, file: "c.json")
        #expect(diagnostics.isEmpty)
        let parsed = try #require(config)
        #expect(parsed.api.baseURL == "https://api.roboflow.com")
        #expect(parsed.api.apiKey == .environment("ROBOFLOW_API_KEY"))
        #expect(parsed.api.timeout == .seconds(30))
        #expect(parsed.workspaces == [Configuration.Workspace(id: "acme", pollEvery: .seconds(60))])
        #expect(parsed.ruleFiles == ["rules/*.json"])
        #expect(parsed.defaults == Configuration.Defaults())
        #expect(
            parsed.defaults.groupWait == .seconds(30) && parsed.defaults.groupInterval == .seconds(300)
                && parsed.defaults.repeatEvery == .seconds(14_400))
        #expect(parsed.defaults.staleAfter == .seconds(300) && parsed.defaults.sendResolved)
        #expect(parsed.state == .sqlite(path: "devicewatch-state.db"))
        #expect(parsed.server.listen == "127.0.0.1:9464")
        #expect(parsed.history.keep == .seconds(35 * 86_400))
    }

    @Test func historyKeepIsADurationOfAtLeastAnHour() throws {
        let minimal = #"{"workspaces": [{"id": "acme"}], "rule_files": [], "history": "#
        let (config, diagnostics) = ConfigurationParser.parse(minimal + #"{"keep": "90d"}}"#, file: "c.json")
        #expect(diagnostics.isEmpty)
        #expect(config?.history.keep == .days(90))
        let (_, short) = ConfigurationParser.parse(minimal + #"{"keep": "10m"}}"#, file: "c.json")
        #expect(short.map(\.message) == ["keep must be at least 1h"])
        let (_, unknown) = ConfigurationParser.parse(minimal + #"{"kep": "10d"}}"#, file: "c.json")
        #expect(unknown.first?.message.contains("did you mean \"keep\"") == true, "\(unknown)")
    }

    @Test func receiversAreReadByType() throws {
        let (config, diagnostics) = ConfigurationParser.parse(
            """
            {"workspaces": [{"id": "a", "poll_every": "1s"}], "rule_files": [],
             "receivers": {
               "s": {"type": "slack", "url_env": "SLACK_URL", "rate_limit": {"per_second": 1, "burst": 3}},
               "p": {"type": "pagerduty", "routing_key_file": "/run/secrets/pd", "url": "http://127.0.0.1:1/v2/enqueue"},
               "w": {"type": "webhook", "url": "https://hooks.internal/x", "secret_env": "HOOK_SECRET", "headers": {"X-A": "b"}},
               "f": {"type": "file", "path": "out.jsonl"}, "c": {"type": "console", "template": "t.mustache"}},
             "defaults": {"group_wait": "0s", "repeat_every": "1s"}, "meta_receivers": ["c"],
             "state": {"postgres": {"url_env": "DB"}}, "server": {"listen": "127.0.0.1:0"}}
            """, file: "c.json")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let receivers = try #require(config?.receivers)
        #expect(receivers["s"]?.url == .environment("SLACK_URL"))
        #expect(receivers["s"]?.rateLimit == .init(perSecond: 1, burst: 3))
        #expect(receivers["p"]?.routingKey == .file("/run/secrets/pd"))
        #expect(receivers["p"]?.endpoint == "http://127.0.0.1:1/v2/enqueue")
        #expect(receivers["w"]?.url == .inline("https://hooks.internal/x"))
        #expect(receivers["w"]?.signingSecret == .environment("HOOK_SECRET"))
        #expect(receivers["w"]?.headers == ["X-A": "b"])
        #expect(receivers["f"]?.path == "out.jsonl")
        #expect(receivers["c"]?.template == "t.mustache")
        #expect(config?.defaults.groupWait == .seconds(0))
        #expect(config?.state == .postgres(url: .environment("DB"), leaseTTL: .seconds(30)))
        #expect(config?.workspaces.first?.pollEvery == .seconds(1))
    }

    @Test func inlineSecretsAreRefusedWithoutEverEchoingThem() {
        let (config, diagnostics) = ConfigurationParser.parse(
            """
            {"workspaces": [{"id": "a"}], "rule_files": [],
             "receivers": {"s": {"type": "slack", "url": "https://hooks.slack.com/services/T0/B0/SECRETVALUE"},
                           "p": {"type": "pagerduty", "routing_key": "SECRETKEY"}}}
            """, file: "c.json")
        #expect(config == nil)
        #expect(diagnostics.count == 2)
        #expect(diagnostics.allSatisfy { $0.message.contains("allow_inline_secrets") })
        #expect(!diagnostics.map(\.description).joined().contains("SECRET"))
        let allowed = ConfigurationParser.parse(
            """
            {"allow_inline_secrets": true, "workspaces": [{"id": "a"}], "rule_files": [],
             "receivers": {"s": {"type": "slack", "url": "https://hooks.slack.com/services/T0/B0/SECRETVALUE"}}}
            """, file: "c.json")
        #expect(allowed.diagnostics.isEmpty)
    }

    @Test func everyProblemIsReportedWithPathAndPosition() {
        let (_, diagnostics) = ConfigurationParser.parse(
            """
            {"workspaces": [{"id": "a", "poll_every": "0s"}, {"id": "a"}], "rule_files": 3,
             "receivers": {"s": {"type": "slak"}, "p": {"type": "pagerduty"}, "x": {"type": "console", "url": "u"}},
             "meta_receivers": ["slack"], "server": {"listen": "localhost"}, "defults": {}}
            """, file: "c.json")
        let text = diagnostics.map(\.description)
        for phrase in [
            "c.json:1:43: workspaces[0].poll_every: poll_every must be at least 1s",
            "workspaces[1].id: workspace \"a\" is listed twice",
            "rule_files: expected a path or glob, or a list of them, got the number 3",
            "receivers.s.type: unknown receiver type \"slak\"",
            "did you mean \"slack\"?",
            "receivers.p: needs the Events API routing key from \"routing_key_env\"",
            "receivers.x.url: unknown key \"url\"",
            "meta_receivers[0]: no receiver named \"slack\"; configured receivers: p, s, x",
            "server.listen: listen must be HOST:PORT",
            "defults: unknown key \"defults\"; did you mean \"defaults\"?",
        ] {
            #expect(text.contains { $0.contains(phrase) }, "missing \(phrase) in\n\(text.joined(separator: "\n"))")
        }
    }
}
