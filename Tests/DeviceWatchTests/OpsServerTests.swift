import CurlHTTP
import DeviceWatchCore
import Foundation
import Synchronization
import Testing

@testable import DeviceWatch
@testable import DeviceWatchCore

/// The ops server over real loopback HTTP (libcurl on one side, Hummingbird on the other), with a
/// real SQLite store and a fixed worker status.
@Suite("Ops server")
struct OpsServerTests {
    static let now = Timestamp.parse("2026-11-28T12:00:00Z")!

    static func alert(
        _ device: String, name: String, rule: String = "production-offline", state: AlertInstance.State = .firing,
        workspace: String = "acme"
    )
        -> AlertInstance
    {
        AlertInstance(
            key: AlertKey(workspace: workspace, ruleID: rule, deviceID: device), state: state, severity: .critical,
            labels: ["rule": rule, "workspace": workspace, "device": device, "severity": "critical"],
            activeSince: now.addingTimeInterval(-600),
            firingSince: state == .firing ? now.addingTimeInterval(-540) : nil,
            lastTrue: now, resolvedAt: nil, resolveReason: nil,
            device: Device(
                id: device, name: name, status: .offline, lastHeartbeat: now.addingTimeInterval(-1200),
                hostname: "jetson-\(device)",
                rfdmVersion: "1.4.0", tags: ["production"]),
            evaluatedAt: now, firstSeen: nil, message: nil)
    }

    /// A running server on a free port, its store, and a way to change what the worker reports.
    final class Running: Sendable {
        let address: String
        let store: SQLiteStateStore
        let path: String
        let status: StatusBox
        let task: Task<Void, any Error>
        let http = CurlHTTPClient()

        init(address: String, store: SQLiteStateStore, path: String, status: StatusBox, task: Task<Void, any Error>) {
            self.address = address
            self.store = store
            self.path = path
            self.status = status
            self.task = task
        }

        func get(_ path: String) async throws -> (status: Int, text: String, headers: HTTPHeaderList) {
            let response = try await http.send(HTTPRequestSpec(url: address + path))
            return (response.status, String(decoding: response.body, as: UTF8.self), response.headers)
        }

        func send(_ method: String, _ path: String, body: String? = nil, token: String? = nil) async throws -> (
            status: Int, json: [String: Any]
        ) {
            var headers: HTTPHeaderList = ["Content-Type": "application/json"]
            if let token { headers = ["Content-Type": "application/json", "Authorization": "Bearer \(token)"] }
            let response = try await http.send(
                HTTPRequestSpec(method: method, url: address + path, headers: headers, body: body.map { Data($0.utf8) })
            )
            return (response.status, (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]) ?? [:])
        }

        func json(_ path: String) async throws -> [String: Any] {
            let response = try await get(path)
            return try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
        }

        func stop() {
            task.cancel()
            http.shutdown()
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    static func start(
        adminToken: String? = nil, anonymousWrites: Bool = true, status: WorkerStatus? = nil,
        clock: EngineClock = EngineClock()
    ) async throws -> Running {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-ops-\(UUID().uuidString).db").path
        let store = try SQLiteStateStore(path: path)
        let state = StatusBox(status ?? Self.status())
        let listening = AsyncStream<String>.makeStream()
        let metrics = WorkerMetrics()
        let server = OpsServer(
            settings: .init(
                listen: "127.0.0.1:0", adminToken: adminToken.map(Secret.init), allowsAnonymousWrites: anonymousWrites),
            store: store, metrics: metrics, logger: .init(label: "test"), status: { state.value.withLock { $0 } },
            clock: { clock }, onListening: { listening.continuation.yield($0) })
        let task = Task { try await server.run() }
        var iterator = listening.stream.makeAsyncIterator()
        let address = try #require(await iterator.next())
        return Running(address: address, store: store, path: path, status: state, task: task)
    }

    static func status(
        alerts: [AlertInstance] = [
            alert("cam-1", name: "line-3-cam"), alert("cam-2", name: "dock-cam", rule: "staging-offline"),
        ],
        health: [String: WorkspaceHealth] = ["acme": WorkspaceHealth(lastSuccess: now)],
        reload: ReloadStatus = ReloadStatus(succeeded: true, at: now)
    ) -> WorkerStatus {
        var fleet = FleetCounts()
        fleet.online = 7
        fleet.offline = 2
        fleet.unknown = 1
        let rules = RuleSet([
            Rule(
                id: "production-offline", summary: "{{device.name}} has been offline for {{offline_for}}",
                severity: .critical,
                condition: .offlineFor(.seconds(900)), notify: ["r"],
                flapping: FlappingPolicy(changes: 4, within: .seconds(3600), stableFor: .seconds(1800)))
        ])
        return WorkerStatus(
            now: now, startedAt: now.addingTimeInterval(-3600), workspaces: ["acme"], fleet: ["acme": fleet],
            alerts: alerts, health: health,
            outbox: [.pending: 3, .sent: 10, .dead: 1], reload: reload,
            readiness: Readiness.evaluate(
                workspaces: ["acme"], health: health, staleAfter: .seconds(300),
                startedAt: now.addingTimeInterval(-3600),
                now: now),
            rules: rules)
    }

    @Test func healthzAnswersOk() async throws {
        let server = try await Self.start()
        defer { server.stop() }
        let response = try await server.get("/healthz")
        #expect(response.status == 200)
        #expect(response.text == "ok\n")
    }

    @Test func readyzIsReadyWhenEveryWorkspaceIsSeenAndShowsAFailedReload() async throws {
        let server = try await Self.start(
            status: Self.status(
                reload: ReloadStatus(succeeded: false, at: Self.now, problems: ["rules.json:3:5: unknown key"])))
        defer { server.stop() }
        #expect(try await server.get("/readyz").status == 200)
        let body = try await server.json("/readyz")
        #expect(body["ready"] as? Bool == true)
        let config = try #require(body["config"] as? [String: Any])
        #expect(config["reload"] as? String == "failed")
        #expect(config["problems"] as? [String] == ["rules.json:3:5: unknown key"])
        let acme = try #require((body["workspaces"] as? [String: Any])?["acme"] as? [String: Any])
        #expect((acme["devices"] as? [String: Int])?["offline"] == 2)
    }

    @Test func readyzIsUnavailableWhileAWorkspaceIsBlindBeyondStaleAfter() async throws {
        let blind = [
            "acme": WorkspaceHealth(
                lastSuccess: Self.now.addingTimeInterval(-900), failingSince: Self.now.addingTimeInterval(-600),
                failure: "HTTP 503")
        ]
        let server = try await Self.start(status: Self.status(health: blind))
        defer { server.stop() }
        let response = try await server.get("/readyz")
        #expect(response.status == 503)
        let body = try await server.json("/readyz")
        #expect(body["ready"] as? Bool == false)
        #expect((body["problems"] as? [String])?.first == "workspace acme not seen for 10m: HTTP 503")
    }

    @Test func metricsAreInPrometheusTextFormatAndFollowTheWorker() async throws {
        let server = try await Self.start()
        defer { server.stop() }
        var response = try await server.get("/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let lines = Set(response.text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"devicewatch_devices{workspace="acme",status="offline"} 2.0"#))
        #expect(
            lines.contains(#"devicewatch_alerts{rule="production-offline",severity="critical",state="firing"} 1.0"#))
        #expect(lines.contains("devicewatch_outbox_pending 3.0"))
        #expect(lines.contains("devicewatch_outbox_dead 1.0"))
        #expect(lines.contains("devicewatch_config_reload_success 1.0"))
        #expect(lines.contains(#"devicewatch_last_successful_poll_timestamp_seconds{workspace="acme"} 1795867200.0"#))

        // An alert that is gone leaves no stale series behind; a failed reload reads 0.
        server.status.value.withLock {
            $0 = Self.status(
                alerts: [Self.alert("cam-1", name: "line-3-cam")],
                reload: ReloadStatus(succeeded: false, at: Self.now, problems: ["x"]))
        }
        response = try await server.get("/metrics")
        #expect(!response.text.contains(#"rule="staging-offline""#))
        #expect(response.text.contains("devicewatch_config_reload_success 0.0"))
    }

    @Test func alertsCanBeFilteredByStateRuleAndWorkspace() async throws {
        let server = try await Self.start(
            status: Self.status(alerts: [
                Self.alert("cam-1", name: "a"), Self.alert("cam-2", name: "b", state: .pending),
                Self.alert("cam-3", name: "c", rule: "other"),
                Self.alert("cam-4", name: "d", workspace: "beta"),
            ]))
        defer { server.stop() }
        func devices(_ query: String) async throws -> [String] {
            let alerts = try #require(try await server.json("/api/v1/alerts" + query)["alerts"] as? [[String: Any]])
            return alerts.compactMap { ($0["device"] as? [String: Any])?["id"] as? String }
        }
        #expect(try await devices("") == ["cam-1", "cam-2", "cam-3", "cam-4"])
        #expect(try await devices("?state=pending") == ["cam-2"])
        #expect(try await devices("?rule=other") == ["cam-3"])
        #expect(try await devices("?workspace=beta&state=firing") == ["cam-4"])
        let first = try #require(
            try await server.json("/api/v1/alerts?rule=production-offline&workspace=acme&state=firing")["alerts"]
                as? [[String: Any]])
        #expect(first.first?["summary"] as? String == "a has been offline for 20m")
        #expect(first.first?["firing_since"] as? String == "2026-11-28T11:51:00.000Z")
    }

    @Test func silencesAreAddedListedAndExpiredWithTheAdminToken() async throws {
        let server = try await Self.start(adminToken: "s3cret-admin")
        defer { server.stop() }
        let body =
            #"{"matchers": ["rule=production-offline", "tag=site-a"], "duration": "2h", "comment": "maintenance", "author": "ana"}"#
        #expect(try await server.send("POST", "/api/v1/silences", body: body).status == 401)
        #expect(try await server.send("POST", "/api/v1/silences", body: body, token: "wrong").status == 401)
        let created = try await server.send("POST", "/api/v1/silences", body: body, token: "s3cret-admin")
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? String)
        #expect(created.json["matchers"] as? [String] == ["rule=production-offline", "tag=site-a"])

        let listed = try #require(try await server.json("/api/v1/silences")["silences"] as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == [id])
        await #expect(try server.store.silences(includeExpired: false, at: Date()).map(\.id) == [id])

        #expect(try await server.send("DELETE", "/api/v1/silences/\(id)").status == 401)
        #expect(try await server.send("DELETE", "/api/v1/silences/\(id)", token: "s3cret-admin").status == 200)
        #expect(try await server.send("DELETE", "/api/v1/silences/\(id)", token: "s3cret-admin").status == 404)
        await #expect(try server.store.silences(includeExpired: false, at: Date()).isEmpty)
    }

    /// With the API's clock 3 days behind the host's, "2h" over the API starts now on the API's
    /// clock and lasts two of its hours, and the listing says how long it has left on that clock.
    @Test func aSilenceAddedOverTheAPIIsOnTheEnginesClock() async throws {
        let skew = -3 * 86_400.0
        let server = try await Self.start(
            clock: EngineClock([ClockOffset(workspace: "acme", offset: .seconds(skew), measuredAt: Date())]))
        defer { server.stop() }
        let created = try await server.send(
            "POST", "/api/v1/silences", body: #"{"matchers": ["rule=x"], "duration": "2h", "comment": "c"}"#)
        #expect(created.status == 201)
        let starts = try #require(Timestamp.parse(created.json["starts_at"] as? String ?? ""))
        #expect(abs(starts.timeIntervalSince(Date().addingTimeInterval(skew))) < 60)
        #expect(created.json["state"] as? String == "active")
        #expect(
            (created.json["ends_in"] as? String)?.hasPrefix("1h59m") == true
                || created.json["ends_in"] as? String == "2h")
        let listed = try #require(try await server.json("/api/v1/silences")["silences"] as? [[String: Any]])
        #expect(listed.first?["state"] as? String == "active")
    }

    @Test func aBadSilenceIsRefusedWithEveryProblemAndNothingStored() async throws {
        let server = try await Self.start()
        defer { server.stop() }
        let refused = try await server.send(
            "POST", "/api/v1/silences", body: #"{"matchers": ["rules=x"], "duration": "soon", "comment": ""}"#)
        #expect(refused.status == 400)
        let problems = try #require(refused.json["problems"] as? [String])
        #expect(problems.count == 3)
        #expect(problems[0].contains(#"did you mean "rule"?"#))
        #expect(try await server.send("POST", "/api/v1/silences", body: "not json").status == 400)
        await #expect(try server.store.silences(includeExpired: true, at: Date()).isEmpty)
    }

    @Test func writesOnANonLoopbackListenerWithoutATokenAreRefused() async throws {
        let server = try await Self.start(anonymousWrites: false)
        defer { server.stop() }
        let refused = try await server.send(
            "POST", "/api/v1/silences", body: #"{"matchers": ["rule=x"], "duration": "1h", "comment": "c"}"#)
        #expect(refused.status == 403)
        #expect((refused.json["error"] as? String)?.contains("server.admin_token_env") == true)
        #expect(try await server.get("/api/v1/silences").status == 200)
    }

    @Test func deadNotificationsAreListedWithTheReceiversAnswer() async throws {
        let server = try await Self.start()
        defer { server.stop() }
        var changes = StateChanges()
        var dead = Fixed.intent(firing: [Fixed.alert(1)])
        dead.id = "dead-1"
        var fine = Fixed.intent(firing: [Fixed.alert(2)])
        fine.id = "fine-1"
        fine.groupKey = "other"
        changes.intents = [dead, fine]
        try await server.store.commit(changes, at: Date())
        try await server.store.record(
            [DeliveryRecord(id: "dead-1", kind: .dead(error: "HTTP 404: no such webhook"))], at: Date())

        let listed = try #require(
            try await server.json("/api/v1/notifications?state=dead")["notifications"] as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == ["dead-1"])
        #expect(listed.first?["last_error"] as? String == "HTTP 404: no such webhook")
        #expect(try await server.get("/api/v1/notifications?state=lost").status == 400)
        let all = try #require(try await server.json("/api/v1/notifications")["notifications"] as? [[String: Any]])
        #expect(all.count == 2)
    }

    @Test func theStatusPageShowsTheFleetAlertsAndSilencesWithDeviceTextEscaped() async throws {
        let hostile = Self.alert("cam-9", name: "<script>alert(1)</script>")
        let server = try await Self.start(
            status: Self.status(alerts: [Self.alert("cam-1", name: "line-3-cam"), hostile]))
        defer { server.stop() }
        _ = try await server.store.addSilence(
            Silence(
                id: "abc123", matchers: [Silence.Matcher(name: "tag", pattern: "site-a")],
                startsAt: Date().addingTimeInterval(-60),
                endsAt: Date().addingTimeInterval(3600), comment: "moving racks", author: "ana", createdAt: Date()))
        let page = try await server.get("/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.text.contains(#"<meta http-equiv="refresh""#))
        #expect(page.text.contains(#"name="viewport""#))
        #expect(page.text.contains("<b>7</b>online"))
        #expect(page.text.contains("line-3-cam has been offline for 20m"))
        #expect(
            page.text.contains(
                #"id="alert-\#(Fingerprint.of(workspace: "acme", ruleID: "production-offline", deviceID: "cam-1"))""#))
        #expect(page.text.contains("moving racks"))
        #expect(!page.text.contains("<script>alert(1)"))
        #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        // No external assets: nothing is fetched from anywhere else.
        #expect(!page.text.contains("src=\"http") && !page.text.contains("href=\"http"))
    }
}

final class StatusBox: Sendable {
    let value: Mutex<WorkerStatus>
    init(_ status: WorkerStatus) { value = Mutex(status) }
}

extension OpsServerTests {
    @Test func aSiteOutageIsCountedPerRuleAndTheListIsCapped() async throws {
        let outage =
            (1...30).map { Self.alert("cam-\($0)", name: "cam \($0)") } + [
                Self.alert("gw-1", name: "gateway", rule: "gateway-down")
            ]
        let server = try await Self.start(status: Self.status(alerts: outage))
        defer { server.stop() }
        let page = try await server.get("/").text
        #expect(page.contains(#"<span class="pill sev-critical">30</span> <code>production-offline</code>"#))
        #expect(page.contains(#"<span class="pill sev-critical">1</span> <code>gateway-down</code>"#))
        #expect(page.components(separatedBy: "<tr id=\"alert-").count - 1 == StatusPage.alertRows)
        #expect(page.contains("and 6 more"))
        #expect(page.contains("<title>(31) devicewatch</title>"))
    }

    @Test func aFleetAlertAndAFlappingAlertShowAsSuchOnThePageAndInTheAPI() async throws {
        var site = Self.alert("site-b", name: "site-b", rule: "site-down")
        site.device = FleetGroup.device(for: "site-b")
        site.fleet = FleetFacts(
            group: "site-b", total: 20, matching: 12,
            members: [FleetMember(id: "cam-1", name: "<b>cam 1</b>", status: "offline", matches: true)])
        var flaky = Self.alert("cam-7", name: "dock cam")
        flaky.flips = [Self.now.addingTimeInterval(-900), Self.now.addingTimeInterval(-300)]
        flaky.flappingSince = Self.now.addingTimeInterval(-300)
        let server = try await Self.start(status: Self.status(alerts: [site, flaky]))
        defer { server.stop() }
        let page = try await server.get("/").text
        #expect(page.contains("12 of 20 devices"), "\(page)")
        #expect(page.contains(#"<span class="badge">flapping: 2 changes, held firing until stable</span>"#))
        let alerts = try #require(try await server.json("/api/v1/alerts?state=firing")["alerts"] as? [[String: Any]])
        let group = try #require(alerts.first { $0["rule"] as? String == "site-down" }?["group"] as? [String: Any])
        #expect(
            group["group"] as? String == "site-b" && group["total"] as? Int == 20 && group["matching"] as? Int == 12)
        #expect((group["members"] as? [[String: Any]])?.first?["name"] as? String == "<b>cam 1</b>")
        let flapping = try #require(
            alerts.first { $0["rule"] as? String == "production-offline" }?["flapping"] as? [String: Any])
        #expect(flapping["changes"] as? Int == 2 && flapping["since"] as? String == "2026-11-28T11:55:00.000Z")
    }

    /// Several workers on PostgreSQL: the page says who polls each workspace, and lists the workers.
    @Test func theStatusPageShowsTheWorkersAndWhoPollsEachWorkspace() async throws {
        var status = Self.status()
        status.workspaces = ["acme", "beta"]
        status.lease = DatabaseLease(
            database: "postgres://db:5432/dw", owner: "host-a pid 1 aaaa", ttl: .seconds(30), renewedAt: Self.now,
            held: ["acme": 3], workers: ["host-a pid 1 aaaa", "host-b pid 2 bbbb", "host-c pid 3 cccc"],
            leases: [
                .init(workspace: "acme", owner: "host-a pid 1 aaaa", epoch: 3, secondsLeft: 20),
                .init(workspace: "beta", owner: "host-b pid 2 bbbb", epoch: 7, secondsLeft: 25),
            ])
        let server = try await Self.start(status: status)
        defer { server.stop() }
        let page = try await server.get("/").text
        #expect(page.contains("<h2>Workers</h2>"))
        #expect(page.contains("<code>host-a pid 1 aaaa</code> <span class=\"muted\">(this one)</span>"))
        #expect(page.contains("acme (epoch 3)") && page.contains("beta (epoch 7)"))
        #expect(page.contains("nothing: standing by"), "the third worker holds nothing")
        #expect(page.contains("polled by another worker") && page.contains("by host-b pid 2 bbbb"))
        #expect(page.contains("by this worker"))
        // A single worker (SQLite) shows no such section.
        let single = try await Self.start(status: Self.status())
        defer { single.stop() }
        #expect(!(try await single.get("/").text.contains("<h2>Workers</h2>")))
    }
}

@Suite("Readiness")
struct ReadinessTests {
    let now = Timestamp.parse("2026-11-28T12:00:00Z")!

    @Test func aWorkspaceFailingForLessThanStaleAfterIsStillReady() {
        let health = [
            "acme": WorkspaceHealth(
                lastSuccess: now.addingTimeInterval(-200), failingSince: now.addingTimeInterval(-120),
                failure: "HTTP 500")
        ]
        #expect(
            Readiness.evaluate(
                workspaces: ["acme"], health: health, staleAfter: .seconds(300),
                startedAt: now.addingTimeInterval(-999), now: now
            ).ready)
    }

    @Test func aDatabaseLeaseNotRenewedForLongerThanItsTTLMakesTheWorkerUnready() {
        let health = ["acme": WorkspaceHealth(lastSuccess: now)]
        func lease(renewedSecondsAgo: Double) -> DatabaseLease {
            DatabaseLease(
                database: "postgres://db:5432/dw", owner: "host pid 1", ttl: .seconds(30),
                renewedAt: now.addingTimeInterval(-renewedSecondsAgo))
        }
        let fresh = Readiness.evaluate(
            workspaces: ["acme"], health: health, staleAfter: .seconds(300), startedAt: now, now: now,
            lease: lease(renewedSecondsAgo: 10), localNow: now)
        #expect(fresh.ready)
        let stale = Readiness.evaluate(
            workspaces: ["acme"], health: health, staleAfter: .seconds(300), startedAt: now, now: now,
            lease: lease(renewedSecondsAgo: 45), localNow: now)
        #expect(!stale.ready)
        #expect(stale.problems.first?.contains("other workers take its workspaces over") == true)
        // Before the first round the database confirmed: not ready either.
        let unconfirmed = DatabaseLease(
            database: "postgres://db:5432/dw", owner: "w", ttl: .seconds(30), renewedAt: .distantPast)
        #expect(
            !Readiness.evaluate(
                workspaces: ["acme"], health: health, staleAfter: .seconds(300), startedAt: now, now: now,
                lease: unconfirmed,
                localNow: now
            ).ready)
    }

    @Test func anAuthenticationFailureIsBlindAtOnce() {
        let health = ["acme": WorkspaceHealth(failingSince: now, failure: "401", authFailure: true)]
        let readiness = Readiness.evaluate(
            workspaces: ["acme"], health: health, staleAfter: .seconds(300), startedAt: now, now: now)
        #expect(!readiness.ready)
        #expect(readiness.blind == ["acme"])
    }

    @Test func aWorkspaceNeverPolledIsBlindOnceStaleAfterHasPassedSinceTheStart() {
        #expect(
            Readiness.evaluate(
                workspaces: ["acme"], health: [:], staleAfter: .seconds(300), startedAt: now.addingTimeInterval(-60),
                now: now
            ).ready)
        let late = Readiness.evaluate(
            workspaces: ["acme"], health: [:], staleAfter: .seconds(300), startedAt: now.addingTimeInterval(-301),
            now: now)
        #expect(late.problems == ["workspace acme not seen for 5m1s: no successful poll yet"])
    }
}

@Suite("Worker metrics")
struct WorkerMetricsTests {
    /// Every family has HELP and TYPE lines (promtool refuses it otherwise), and every family
    /// devicewatch documents appears once the worker has done everything once.
    @Test func everyFamilyHasHelpAndType() {
        let metrics = WorkerMetrics()
        metrics.poll(workspace: "acme", succeeded: true, duration: .milliseconds(120))
        metrics.poll(workspace: "acme", succeeded: false, duration: .seconds(2))
        metrics.deliveries(receiver: "slack", sent: 3, retried: 1, dead: 1)
        metrics.storeFailed(operation: "commit")
        metrics.takeover()
        metrics.leaseLost()
        metrics.fencedCycle()
        metrics.leases(held: 2)
        metrics.claims(claimed: 4, lost: 1)
        metrics.refresh(OpsServerTests.status())
        let text = metrics.exposition()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"devicewatch_alerts_flapping{rule="production-offline"} 0.0"#), "\(text)")
        let help = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] }.map(String.init))
        let types = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }.map(String.init))
        var families = Set<String>()
        for line in lines where !line.hasPrefix("#") && !line.isEmpty {
            var name = String(line.prefix { $0 != "{" && $0 != " " })
            for suffix in ["_bucket", "_sum", "_count"] where !types.contains(name) && name.hasSuffix(suffix) {
                name = String(name.dropLast(suffix.count))
            }
            families.insert(name)
        }
        for family in families {
            #expect(help.contains(family), "no # HELP for \(family)")
            #expect(types.contains(family), "no # TYPE for \(family)")
        }
        #expect(
            families == Set(WorkerMetrics.help.keys),
            "documented but not emitted, or emitted but not documented: \(families.symmetricDifference(WorkerMetrics.help.keys))"
        )
        #expect(lines.contains("# TYPE devicewatch_poll_duration_seconds histogram"))
        #expect(lines.contains("# TYPE devicewatch_polls_total counter"))
    }
}
