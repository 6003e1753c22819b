import DeviceWatch
import DeviceWatchCore
import Foundation
import Testing

/// A temporary folder of files for one test.
struct Workdir {
    let path: String

    init(_ files: [String: String]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-\(UUID().uuidString)").path
        for (name, text) in files {
            let file = (path as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite("devicewatch check, eval and test", .serialized)
struct RuleCommandsTests {
    static let config = """
        {"workspaces": [{"id": "acme"}], "rule_files": ["rules/*.json", "more/missing.json"],
         "receivers": {"slack-fleet": {"type": "slack", "url_env": "SLACK_URL"}}}
        """

    @Test func checkRoutesShowsWhereEachRulesAlertsGo() async throws {
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": ["rules.json"],
             "receivers": {"pager": {"type": "console"}, "chat": {"type": "console"}},
             "defaults": {"notify": "chat"},
             "routes": [{"match": ["severity=critical"], "notify": "pager", "continue": true}]}
            """,
            "rules.json": """
            {"rules": [{"id": "down", "severity": "critical", "when": {"offline_for": "15m"}},
                       {"id": "old", "severity": "info", "when": {"rfdm_version_below": "1.4.0"}},
                       {"id": "mine", "when": {"status": "offline"}, "notify": ["pager"]}]}
            """,
        ])
        let output = try await CommandRunner.run(
            ["check", "--config", dir.file("devicewatch.json"), "--routes"], environment: ["ROBOFLOW_API_KEY": "k"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(
            output.stdout == """
                down: pager
                old: chat (defaults.notify)
                mine: pager (its own notify)
                1 rule file, 3 rules, 2 receivers: OK

                """)
    }

    @Test func checkAcceptsTheShippedExample() async throws {
        let path = repositoryRoot.appendingPathComponent("examples/devicewatch.json").path
        let output = try await CommandRunner.run(["check", "--config", path], environment: ["ROBOFLOW_API_KEY": "k"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout == "1 rule file, 6 rules, 3 receivers: OK\n")
        // Without the key where it runs (a CI job, say): valid still, with a warning naming the workspace.
        let keyless = try await CommandRunner.run(["check", "--config", path])
        #expect(keyless.status == 0)
        #expect(
            keyless.stdout.hasPrefix(
                #"warning: the API key of workspace "acme" cannot be read from the environment variable ROBOFLOW_API_KEY"#
            ))
        #expect(keyless.stdout.hasSuffix("1 rule file, 6 rules, 3 receivers: OK\n"))
    }

    /// The database and heartbeat URLs are read at start: `check` warns when they cannot be read
    /// where it runs, and still accepts the configuration (they may be set where the worker runs).
    @Test func checkWarnsOfADatabaseOrHeartbeatURLItCannotRead() async throws {
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": ["rules.json"],
             "receivers": {"log": {"type": "console"}},
             "state": {"postgres": {"url_env": "DW_TEST_DATABASE_URL"}},
             "heartbeat": {"url_file": "heartbeat-url", "every": "5m"}}
            """,
            "rules.json": #"{"rules": [{"id": "offline", "when": {"offline_for": "15m"}, "notify": ["log"]}]}"#,
        ])
        let unset = try await CommandRunner.run(
            ["check", "--config", dir.file("devicewatch.json")], environment: ["ROBOFLOW_API_KEY": "k"])
        #expect(unset.status == 0, "\(unset.stdout)\(unset.stderr)")
        #expect(
            unset.stdout.contains(
                "warning: the database URL cannot be read from the environment variable DW_TEST_DATABASE_URL"),
            "\(unset.stdout)")
        #expect(unset.stdout.contains("warning: the heartbeat URL cannot be read from the file"), "\(unset.stdout)")
        try "https://hc-ping.example/abc\n".write(toFile: dir.file("heartbeat-url"), atomically: true, encoding: .utf8)
        let set = try await CommandRunner.run(
            ["check", "--config", dir.file("devicewatch.json")],
            environment: ["ROBOFLOW_API_KEY": "k", "DW_TEST_DATABASE_URL": "postgres://u:p@h/db"])
        #expect(set.status == 0)
        #expect(!set.stdout.contains("warning"), "\(set.stdout)")
        #expect(!set.stdout.contains("hc-ping") && !set.stdout.contains("u:p@"))
    }

    /// Bytes that are not UTF-8 are never replaced silently: the file is refused at the first one.
    @Test func aRuleFileThatIsNotUTF8IsRefusedAtItsFirstBadByte() async throws {
        let dir = try Workdir([
            "devicewatch.json": Self.config.replacingOccurrences(of: #", "more/missing.json""#, with: "")
        ])
        var bytes = Array(
            "{\"rules\": [\n  {\"id\": \"offline\", \"when\": {\"offline_for\": \"15m\"},\n   \"summary\": \"caf".utf8)
        bytes += [0xE9, 0xFF, 0xFE] + Array(" is down\"}]}".utf8)
        try FileManager.default.createDirectory(atPath: dir.file("rules"), withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: dir.file("rules/latin1.json")))
        let output = try await CommandRunner.run(["check", "--config", dir.file("devicewatch.json")])
        #expect(output.status == 1)
        output.expectStdout(
            contains:
                "rules/latin1.json:3:19: not UTF-8: byte 0xE9 at line 3, column 19 is not UTF-8; save the file as UTF-8"
        )
    }

    @Test func checkReportsEveryProblemAcrossFilesAndExits1() async throws {
        let dir = try Workdir([
            "devicewatch.json": Self.config,
            "rules/a.json":
                #"{"rules": [{"id": "offline", "when": {"offline_for": "15m"}}, {"id": "n", "when": {"status": "offline"}, "notify": ["slak-fleet"]}]}"#,
            "rules/b.json":
                "{\"rules\": [\n  {\"id\": \"offline\", \"when\": {\"status\": \"offline\"}},\n  {\"id\": \"x\", \"when\": {\"ofline_for\": \"1h\"}}\n]}",
            "rules/c.json": "{\"rules\": [\n  {\"id\": \"y\",}\n]}",
        ])
        let output = try await CommandRunner.run(["check", "--config", dir.file("devicewatch.json")])
        #expect(output.status == 1)
        let lines = output.stdout.split(separator: "\n").map(String.init)
        let expected = [
            "devicewatch.json: rule_files[1]: \"more/missing.json\" does not exist",
            #"rules/a.json:1:117: rule "n": rules[1].notify[0]: no receiver named "slak-fleet"; did you mean "slack-fleet"?"#,
            #"rules/b.json:3:24: rule "x": rules[1].when.ofline_for: unknown key "ofline_for"; did you mean "offline_for"?"#,
            #"rules/b.json:2:10: rule "offline": rules: rule id "offline" is also defined at \#(dir.file("rules/a.json")):1:19"#,
            "rules/c.json:2:14: not valid JSON",
        ]
        for phrase in expected {
            #expect(lines.contains { $0.contains(phrase) }, "missing \(phrase) in\n\(output.stdout)")
        }
        #expect(output.stderr.contains("problems found"))
    }

    @Test func evalShowsWhenAnAlertEscalates() async throws {
        let dir = try Workdir([
            "devicewatch.json": #"""
            {"workspaces": [{"id": "acme"}], "rule_files": ["rules.json"],
             "receivers": {"chat": {"type": "console"}, "pager": {"type": "console"}, "managers": {"type": "console"}},
             "defaults": {"escalate": [{"after": "30m", "notify": "pager"}, {"after": "2h", "notify": ["managers"]}]}}
            """#,
            "rules.json": #"{"rules": [{"id": "offline", "when": {"status": "offline"}, "notify": "chat"}]}"#,
            "list.json":
                #"{"data": [{"id": "cam-1", "name": "dock", "status": "offline", "last_heartbeat": "2026-11-28T11:40:00.000Z"}]}"#,
        ])
        let output = try await CommandRunner.run([
            "eval", "--config", dir.file("devicewatch.json"), "--devices", dir.file("list.json"), "--at",
            "2026-11-28T12:00:00Z",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        output.expectStdout(
            contains:
                "escalation of offline on cam-1: pager at 2026-11-28T12:30:00.000Z (in 30m); managers at 2026-11-28T14:00:00.000Z (in 2h)"
        )
    }

    @Test func evalExplainsFindingsFromASavedListAtAGivenTime() async throws {
        let dir = try Workdir([
            "devicewatch.json":
                #"{"workspaces": [{"id": "acme"}], "rule_files": ["\#(repositoryRoot.path)/rules/fleet.json"], "receivers": {"slack-fleet": {"type": "console"}, "pagerduty-oncall": {"type": "console"}}}"#,
            "list.json": """
            {"data": [
              {"id": "cam-1", "name": "line-3-cam", "status": "offline", "last_heartbeat": "2026-11-28T11:40:00.000Z", "tags": ["production"], "rfdm_version": "1.4.0"},
              {"id": "cam-2", "name": "dock-cam", "status": "online", "last_heartbeat": "2026-11-28T11:59:50.000Z", "tags": ["production"], "rfdm_version": "1.2.0"},
              {"name": "no id"}
            ]}
            """,
        ])
        let base = [
            "eval", "--config", dir.file("devicewatch.json"), "--devices", dir.file("list.json"), "--at",
            "2026-11-28T12:00:00Z",
        ]
        let output = try await CommandRunner.run(base)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(
            output.stdout.contains(
                "workspace acme: 2 devices evaluated at 2026-11-28T12:00:00.000Z (the time given with --at)"))
        #expect(output.stdout.contains("production-offline (critical): 1 device"))
        #expect(output.stdout.contains("line-3-cam [cam-1]: line-3-cam has been offline for 20m"))
        #expect(
            output.stdout.contains(
                "because tags include production; tags include none of retired; last heartbeat 20m ago (at least 15m)"))
        #expect(output.stdout.contains("dock-cam [cam-2]: dock-cam runs Device Manager 1.2.0"))
        #expect(
            output.stdout.contains("rules that matched no device: staging-offline, never-checked-in, edge-gpu-offline"))
        #expect(output.stdout.hasSuffix("2 findings; nothing was sent\n"))
        #expect(output.stderr.contains("list entry #2 skipped"))

        let json = try await CommandRunner.run(base + ["--format", "json"])
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let findings = try #require(reports.first?["findings"] as? [[String: Any]])
        #expect(
            findings.map { "\($0["rule"]!)/\($0["device"]!)" } == ["production-offline/cam-1", "rfdm-outdated/cam-2"])
        #expect(reports.first?["clock"] as? String == "given")
    }

    @Test func evalListsAFleetRulesGroupsWithCountsMembersAndWhy() async throws {
        func camera(_ id: String, site: String, offline: Bool) -> String {
            let heartbeat = offline ? "2026-11-28T11:30:00.000Z" : "2026-11-28T11:59:50.000Z"
            return #"{"id": "\#(id)", "name": "\#(site) \#(id)", "status": "\#(offline ? "offline" : "online")", "#
                + #""last_heartbeat": "\#(heartbeat)", "tags": ["production", "\#(site)"], "rfdm_version": "1.4.0"}"#
        }
        let devices =
            (1...4).map { camera("b\($0)", site: "site-b", offline: true) }
            + (1...4).map { camera("a\($0)", site: "site-a", offline: $0 == 1) } + [
                camera("c1", site: "site-c", offline: true)
            ]
        let dir = try Workdir([
            "devicewatch.json":
                #"{"workspaces": [{"id": "acme"}], "rule_files": ["\#(repositoryRoot.path)/rules/fleet.json"], "receivers": {"slack-fleet": {"type": "console"}, "pagerduty-oncall": {"type": "console"}}}"#,
            "list.json": "[" + devices.joined(separator: ",\n") + "]",
        ])
        let base = [
            "eval", "--config", dir.file("devicewatch.json"), "--devices", dir.file("list.json"), "--at",
            "2026-11-28T12:00:00Z",
        ]
        let output = try await CommandRunner.run(base)
        #expect(output.status == 0, "\(output.stderr)")
        for line in [
            "site-down (critical, fleet rule by tag:site-*): 1 of 3 groups fire",
            "  site-b: fires: site-b: 4 of 4 production cameras are offline",
            "      because 4 of 4 devices in site-b (100%) are offline for at least 5m (at least 50% of the group); "
                + "matching: site-b b1 (b1), site-b b2 (b2), site-b b3 (b3), site-b b4 (b4)",
            "      members (* counted): site-b b1 [b1] offline*, site-b b2 [b2] offline*, site-b b3 [b3] offline*, "
                + "site-b b4 [b4] offline*",
            "  site-a: 1 of 4 (25%) offline for at least 5m: does not fire (needs at least 50% of the group)",
            "      members (* counted): site-a a1 [a1] offline*, site-a a2 [a2] online, site-a a3 [a3] online, "
                + "site-a a4 [a4] online",
            "  site-c: 1 of 1 (100%) offline for at least 5m: does not fire (only 1 device (min_devices 3))",
            "  site-down on site-b: inactive -> firing",
            "  held back by inhibition while the alert inhibiting them fires: 4: production-offline on b1, "
                + "production-offline on b2, production-offline on b3, production-offline on b4",
        ] {
            #expect(output.stdout.contains(line + "\n"), "missing \(line) in\n\(output.stdout)")
        }
        let json = try await CommandRunner.run(base + ["--format", "json"])
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let groups = try #require(reports.first?["fleet_groups"] as? [[String: Any]])
        #expect(
            groups.map { "\($0["group"]!) \($0["matching"]!)/\($0["total"]!) \($0["fires"]!)" } == [
                "site-a 1/4 0", "site-b 4/4 1", "site-c 1/1 0",
            ])
        let members = try #require(groups.first?["members"] as? [[String: Any]])
        #expect(
            members.map { "\($0["id"]!) \($0["status"]!) \($0["matches"]!)" } == [
                "a1 offline 1", "a2 online 0", "a3 online 0", "a4 online 0",
            ])
    }

    @Test func evalUsesTheFirstSeenTimesTheWorkerKept() async throws {
        let dir = try Workdir([
            "devicewatch.json":
                #"{"workspaces": [{"id": "acme"}], "rule_files": ["rules.json"], "state": {"sqlite": "state.db"}}"#,
            "rules.json": #"{"rules": [{"id": "never-checked-in", "when": {"unknown_for": "30m"}}]}"#,
            "list.json": #"{"data": [{"id": "fresh", "status": "unknown"}]}"#,
        ])
        let base = [
            "eval", "--config", dir.file("devicewatch.json"), "--devices", dir.file("list.json"), "--at",
            "2026-11-28T12:00:00Z",
        ]
        #expect(try await CommandRunner.run(base).stdout.contains("0 findings"))  // no created_at, never seen: no age
        let store = try SQLiteStateStore(path: dir.file("state.db"))
        var changes = StateChanges()
        changes.addFirstSeen = [("acme", "fresh", Timestamp.parse("2026-11-28T11:00:00Z")!)]
        try await store.commit(changes, at: Date())
        let output = try await CommandRunner.run(base)
        output.expectStdout(contains: "never checked in; first seen 1h ago (at least 30m)")
        #expect(output.stdout.contains("the worker's next cycle on this poll (from its stored state):"))
    }

    /// `eval` runs the worker's own cycle on the poll: `for` holds an alert pending, grouping and
    /// group_wait decide what would be sent now; it writes no state.
    @Test func evalPreviewsTheWorkersNextCycleAndWritesNothing() async throws {
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": ["rules.json"], "receivers": {"console": {"type": "console"}},
             "defaults": {"group_wait": "0s"}, "state": {"sqlite": "state.db"}}
            """,
            "rules.json": """
            {"rules": [{"id": "down", "when": {"offline_for": "15m"}, "notify": ["console"]},
                       {"id": "slow", "for": "1h", "when": {"offline_for": "15m"}, "notify": ["console"]}]}
            """,
            "list.json": """
            {"data": [{"id": "cam-1", "name": "gate", "status": "offline", "last_heartbeat": "2026-11-28T11:40:00.000Z"},
                      {"id": "cam-2", "name": "dock", "status": "online", "last_heartbeat": "2026-11-28T11:59:50.000Z"}]}
            """,
        ])
        let base = [
            "eval", "--config", dir.file("devicewatch.json"), "--devices", dir.file("list.json"), "--at",
            "2026-11-28T12:00:00Z",
        ]
        let output = try await CommandRunner.run(base)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("the worker's next cycle on this poll (from no state: as at its first run):"))
        output.expectStdout(contains: "  down on cam-1: inactive -> firing")
        #expect(output.stdout.contains("  slow on cam-1: inactive -> pending"))
        #expect(
            output.stdout.contains(
                #"  would notify console {rule="down",workspace="acme"}: 1 firing, 0 resolved (new)"#))
        #expect(!output.stdout.contains("would notify console {rule=\"slow\""))
        #expect(output.stdout.hasSuffix("2 findings; nothing was sent\n"))
        let json = try await CommandRunner.run(base + ["--format", "json"])
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let cycle = try #require(reports.first?["cycle"] as? [String: Any])
        #expect((cycle["transitions"] as? [[String: Any]])?.count == 2)
        #expect((cycle["notifications"] as? [[String: Any]])?.first?["receiver"] as? String == "console")
        #expect(cycle["from_stored_state"] as? Bool == false)
        #expect(!FileManager.default.fileExists(atPath: dir.file("state.db")), "eval wrote a state")
    }

    @Test func evalPollsTheAPIAndUsesItsClock() async throws {
        let simulator = try SimulatorProcess(
            scenario: repositoryRoot.appendingPathComponent("examples/simulator/basic.json").path)
        defer { _ = simulator.stop() }
        let dir = try Workdir([
            "devicewatch.json": """
            {"api": {"base_url": "\(simulator.baseURL)"}, "workspaces": [{"id": "acme"}],
             "rule_files": ["\(repositoryRoot.path)/rules/fleet.json"],
             "receivers": {"slack-fleet": {"type": "console"}, "pagerduty-oncall": {"type": "console"}}}
            """
        ])
        let output = try await CommandRunner.run(
            ["eval", "--config", dir.file("devicewatch.json")], environment: ["ROBOFLOW_API_KEY": "ws-key"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("3 devices evaluated at 2026-11-28T12:00:00.000Z (the API's clock)"))
        #expect(output.stdout.contains("dock-cam [cam-2]: dock-cam has been offline for 2h"))
        #expect(!output.stdout.contains("ws-key") && !output.stderr.contains("ws-key"))

        let unauthorized = try await CommandRunner.run(
            ["eval", "--config", dir.file("devicewatch.json")], environment: ["ROBOFLOW_API_KEY": "nope-key"])
        #expect(unauthorized.status == 3)
        #expect(!unauthorized.stderr.contains("nope-key"))
    }

    @Test func testRunsTheShippedRuleTests() async throws {
        let output = try await CommandRunner.run(["test", repositoryRoot.appendingPathComponent("rules/tests").path])
        #expect(output.status == 0, "\(output.stdout)")
        #expect(output.stdout.split(separator: "\n").last?.hasSuffix("passed, 0 failed") == true)
    }

    @Test func aFailingRuleTestSaysWhatDiffered() async throws {
        let dir = try Workdir([
            "rules.json":
                #"{"rules": [{"id": "down", "summary": "{{device.name}} down {{offline_for}}", "when": {"offline_for": "10m"}}]}"#,
            "t.json": """
            {"rule_files": "rules.json", "tests": [{"name": "wrong on purpose", "start": "2026-11-28T12:00:00Z",
              "devices": [{"id": "a", "name": "cam-a", "online": [["-1h", "-5m"]]}, {"id": "b", "name": "cam-b", "online": [["-1h", "-30m"]]}],
              "expect": [{"at": "+10m", "firing": [{"rule": "down", "device": "a", "summary": "cam-a down 10m"}, {"rule": "down", "device": "c"}]}]}]}
            """,
        ])
        let output = try await CommandRunner.run(["test", dir.file("t.json")])
        #expect(output.status == 1)
        #expect(output.stdout.contains("FAIL \(dir.file("t.json")): wrong on purpose"))
        #expect(
            output.stdout.contains(
                "at +10m (2026-11-28T12:10:00.000Z): expected down / c to be firing, but it is not (its condition does not hold)"
            ))
        #expect(
            output.stdout.contains(
                "down / b is firing but was not expected (because last heartbeat 40m30s ago (at least 10m))"))
        #expect(output.stdout.contains(#"the summary of down / a is "cam-a down 15m30s", expected "cam-a down 10m""#))
        #expect(output.stdout.contains("0 passed, 1 failed"))
    }

    @Test func aBrokenTestFileIsReportedPrecisely() async throws {
        let dir = try Workdir(["t.json": #"{"rule_files": "nothing-*.json", "tests": [{"name": "x", "expect": []}]}"#])
        let output = try await CommandRunner.run(["test", dir.file("t.json")])
        #expect(output.status == 1)
        #expect(output.stdout.contains("rule_files: no rule file matches \"nothing-*.json\""))
        #expect(
            output.stdout.contains(
                "tests[0]: a test needs \"devices\" or \"fleet\" (simulator definitions) or \"timeline\""))
    }
}

@Suite("devicewatch silence")
struct SilenceCommandTests {
    @Test func addListAndExpireThroughTheConfiguredStore() async throws {
        let dir = try Workdir([
            "devicewatch.json": #"{"workspaces": [{"id": "acme"}], "rule_files": [], "state": {"sqlite": "state.db"}}"#
        ])
        let config = ["--config", dir.file("devicewatch.json")]
        let added = try await CommandRunner.run(
            [
                "silence", "add", "--matcher", "rule=production-offline", "--matcher", "tag=site-*", "--duration", "2h",
                "--comment", "planned maintenance", "--author", "sam",
            ] + config)
        #expect(added.status == 0, "\(added.stderr)")
        let id = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 12)
        #expect(FileManager.default.fileExists(atPath: dir.file("state.db")))

        let listed = try await CommandRunner.run(["silence", "list"] + config)
        #expect(listed.stdout.contains(id))
        #expect(listed.stdout.contains("active"))
        #expect(listed.stdout.contains("rule=production-offline tag=site-*"))
        #expect(listed.stdout.contains("planned maintenance"))

        #expect(try await CommandRunner.run(["silence", "expire", id] + config).status == 0)
        #expect(try await CommandRunner.run(["silence", "list"] + config).stdout == "no active or future silences\n")
        #expect(try await CommandRunner.run(["silence", "list", "--all"] + config).stdout.contains("expired"))
        #expect(try await CommandRunner.run(["silence", "expire", id] + config).status == 4)
    }

    @Test func aSilenceDuringATimeIntervalNamesOneTheConfigurationDefines() async throws {
        let dir = try Workdir([
            "devicewatch.json": #"""
            {"workspaces": [{"id": "acme"}], "rule_files": [], "state": {"sqlite": "state.db"},
             "time_intervals": {"nightly-reboots": [{"times": [{"start": "02:00", "end": "03:00"}]}]}}
            """#
        ])
        let config = ["--config", dir.file("devicewatch.json")]
        let base = ["silence", "add", "--matcher", "tag=site-b", "--duration", "30d", "--comment", "reboots"]
        let wrong = try await CommandRunner.run(base + ["--during", "nightly-reboot"] + config)
        #expect(wrong.status == 2 && wrong.stderr.contains("did you mean \"nightly-reboots\""), "\(wrong.stderr)")
        let added = try await CommandRunner.run(base + ["--during", "nightly-reboots"] + config)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(
            try await CommandRunner.run(["silence", "list"] + config).stdout.contains(
                "tag=site-b during nightly-reboots"))
    }

    @Test func badMatchersAreUsageErrors() async throws {
        let output = try await CommandRunner.run([
            "silence", "add", "--matcher", "rules=x", "--duration", "1h", "--comment", "c",
        ])
        #expect(output.status == 2)
        #expect(output.stderr.contains("did you mean \"rule\"?"))
    }
}

@Suite("devicewatch demo")
struct DemoCommandTests {
    /// At 900x, 12 s are 3 h of fleet time: what a person sees in the first 2 minutes at 60x, and more.
    @Test func theDemoShowsPagesWarningsNoticesAnOutageARepeatAndResolves() async throws {
        let output = try await CommandRunner.run([
            "demo", "--time-scale", "900", "--duration", "12s", "--listen", "127.0.0.1:0",
            "--scenario", repositoryRoot.appendingPathComponent("examples/demo/scenario.json").path,
            "--config", repositoryRoot.appendingPathComponent("examples/demo/devicewatch.json").path,
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let text = output.stdout
        #expect(text.contains("devicewatch demo: 40 simulated devices"))
        #expect(text.contains(#"FIRING {rule="production-offline",workspace="demo"} (new) -> pagerduty-oncall"#))
        #expect(text.contains("has not checked in since it was provisioned"))
        #expect(text.contains("1.4.0 or later is required"))
        // The site-b outage: one fleet alert for the site; its twelve cameras' own alerts held.
        #expect(text.contains("CRITICAL site-b: 12 of 12 production cameras are offline"))
        #expect(text.contains("site-b: site-down resolved (recovered)"))
        #expect(!text.contains("site-b cam 12 has been offline"))
        #expect(text.contains("production-offline resolved (recovered)"))
        #expect(text.contains(#"FIRING {rule="staging-offline",workspace="demo"} (repeat)"#))
        // The status page's address comes before the first notification.
        let page = try #require(text.range(of: "Status page: http://127.0.0.1:"))
        let first = try #require(text.range(of: "FIRING"))
        #expect(page.lowerBound < first.lowerBound)
    }
}

@Suite("devicewatch state check")
struct StateCheckCommandTests {
    @Test func aSoundStateFilePassesAndADamagedOneFails() async throws {
        let dir = try Workdir([
            "devicewatch.json": #"{"workspaces": [{"id": "acme"}], "rule_files": [], "state": {"sqlite": "state.db"}}"#
        ])
        let missing = try await CommandRunner.run(["state", "check", "--config", dir.file("devicewatch.json")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("there is no state database"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("state.db")), "state check must never create the file")

        // The worker's first start creates it; here a silence command does the same.
        let added = try await CommandRunner.run([
            "silence", "add", "--config", dir.file("devicewatch.json"), "--matcher", "rule=x", "--duration", "1h",
            "--comment", "c",
        ])
        #expect(added.status == 0, "\(added.stderr)")
        let sound = try await CommandRunner.run(["state", "check", "--config", dir.file("devicewatch.json")])
        #expect(sound.status == 0, "\(sound.stderr)")
        #expect(sound.stdout.contains("ok (integrity_check)") && sound.stdout.contains("1 silences"), "\(sound.stdout)")

        try Data().write(to: URL(fileURLWithPath: dir.file("state.db")))
        let empty = try await CommandRunner.run(["state", "check", "--config", dir.file("devicewatch.json")])
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("the file is empty"), "\(empty.stderr)")
    }
}
