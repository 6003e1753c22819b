import CurlHTTP
import DeviceAPISimulator
import Foundation
import TestSupport
import Testing

/// Several `devicewatch run` processes on one PostgreSQL database: the real binary, the
/// simulator, a recording sink and the tests' throwaway PostgreSQL cluster. What HA.md asks to
/// survive: ownership spreads with one poller per workspace, kill -9 of an owner during an
/// outage, a worker paused past its lease, PostgreSQL going away, every worker dead.
@Suite("devicewatch run: several workers on PostgreSQL", .serialized)
struct ClusterWorkerTests {
    static let ttl = "3s"

    struct Cluster {
        let url: String
        let sink: RecordingSink
        let simulator: SimulatorProcess
        let dir: Workdir
        let workspaces: [String]
        let http = CurlHTTPClient()

        var environment: [String: String] {
            var environment = [
                "HOOK_URL": sink.url, "DEVICEWATCH_DATABASE_URL": url, "HOOK_SECRET": "whsec_c2VjcmV0LXNpZ25pbmcta2V5",
            ]
            for workspace in workspaces { environment["KEY_\(workspace.uppercased())"] = "key-\(workspace)-SECRET" }
            return environment
        }
        var config: String { dir.file("devicewatch.json") }

        func start(_ count: Int) throws -> [WorkerProcess] {
            try (0..<count).map { _ in try WorkerProcess(config: config, environment: environment) }
        }

        func tearDown() {
            _ = simulator.stop()
            let sink = sink
            Task { await sink.stop() }
            http.shutdown()
        }

        /// Device list requests so far, per workspace, as the simulator counted them.
        func listRequests() async throws -> [String: Int] {
            let response = try await http.send(HTTPRequestSpec(url: simulator.baseURL + "/_sim/stats"))
            let stats = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
            return stats?["list_requests"] as? [String: Int] ?? [:]
        }

        /// A worker's `/readyz`: its status and its body.
        func readiness(_ worker: WorkerProcess) async -> (status: Int, body: [String: Any])? {
            guard let ops = await EndToEndTests().opsAddress(worker),
                let response = try? await http.send(HTTPRequestSpec(url: ops + "/readyz", totalTimeout: .seconds(5)))
            else { return nil }
            return (response.status, (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:])
        }

        /// The workspaces a worker says it holds.
        func holdings(_ worker: WorkerProcess) async -> Set<String> {
            let database = await readiness(worker)?.body["database"] as? [String: Any]
            return Set((database?["holds"] as? [String: Any])?.keys.map { $0 } ?? [])
        }

        /// A camera that went offline 20 minutes ago appears in `workspace` (the simulator's admin API).
        func dropCamera(_ id: String, in workspace: String) async throws {
            _ = try await http.send(
                HTTPRequestSpec(
                    method: "PUT", url: simulator.baseURL + "/_sim/workspaces/\(workspace)/devices/\(id)",
                    body: Data(#"{"created_at": "-30d", "online": [["-30d", "-20m"]]}"#.utf8)))
        }

        /// Webhook deliveries per (fingerprint, status): the notification ids (webhook-id) seen.
        func deliveries() -> [String: [String]] {
            var seen: [String: [String]] = [:]
            for request in sink.requests {
                guard let id = request.headers["webhook-id"], let alerts = request.json?["alerts"] as? [[String: Any]]
                else { continue }
                for alert in alerts {
                    guard let fingerprint = alert["fingerprint"] as? String, let status = alert["status"] as? String
                    else { continue }
                    seen["\(fingerprint) \(status)", default: []].append(id)
                }
            }
            return seen
        }

        /// Every (alert, status) went out under one notification id; how many were repeats of it
        /// (the same id twice: the window between a receiver's 2xx and its commit).
        func checkOncePerAlert(expected: Int, status: String) -> (distinct: Int, repeats: Int, doubled: [String]) {
            let mine = deliveries().filter { $0.key.hasSuffix(" " + status) }
            let doubled = mine.filter { Set($0.value).count > 1 }.map(\.key)
            let repeats = mine.values.reduce(0) { $0 + $1.count - 1 }
            return (mine.count, repeats, doubled)
        }
    }

    /// `workspaces` of one camera each (the first with `outage` cameras more), polled every second,
    /// a webhook grouping by device so every alert is a notification of its own.
    func setUp(
        workspaces: [String], offline: [String] = [], outage: Int = 0, url: String? = nil, sinkStatuses: [Int] = []
    ) async throws -> Cluster {
        var database = url
        if database == nil { database = try await TestPostgres.shared.newDatabase() }
        let url = database!
        let sink = try await RecordingSink.start(statuses: sinkStatuses)
        var scenarioWorkspaces: [String] = []
        for (index, workspace) in workspaces.enumerated() {
            var devices = [
                """
                {"id": "\(workspace)-cam", "created_at": "-30d",
                 "online": [["-30d", \(offline.contains(workspace) ? "\"-20m\"" : "null")]]}
                """
            ]
            if index == 0 {
                devices += (0..<outage).map { number in
                    #"{"id": "site-cam-\#(number)", "created_at": "-30d", "online": [["-30d", "-20m"]]}"#
                }
            }
            scenarioWorkspaces.append(
                #""\#(workspace)": {"api_keys": [{"key": "key-\#(workspace)-SECRET"}], "devices": [\#(devices.joined(separator: ","))]}"#
            )
        }
        let simulator = try SimulatorProcess(
            json:
                #"{"start": "2026-11-28T12:00:00Z", "workspaces": {\#(scenarioWorkspaces.joined(separator: ","))}}"#,
            timeScale: 1)
        let configured = workspaces.map {
            #"{"id": "\#($0)", "poll_every": "1s", "api_key_env": "KEY_\#($0.uppercased())"}"#
        }
        let dir = try Workdir([
            "devicewatch.json": """
            {"api": {"base_url": "\(simulator.baseURL)"}, "workspaces": [\(configured.joined(separator: ","))],
             "rule_files": ["rules.json"],
             "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL", "secret_env": "HOOK_SECRET",
                                    "rate_limit": {"per_second": 200, "burst": 50}}},
             "defaults": {"group_wait": "0s", "group_interval": "1s", "group_by": ["device"]},
             "state": {"postgres": {"url_env": "DEVICEWATCH_DATABASE_URL", "lease_ttl": "\(Self.ttl)"}},
             "server": {"listen": "127.0.0.1:0"}}
            """,
            "rules.json": """
            {"rules": [{"id": "offline", "severity": "critical", "when": {"offline_for": "15m"}, "notify": ["hook"]}]}
            """,
        ])
        return Cluster(url: url, sink: sink, simulator: simulator, dir: dir, workspaces: workspaces)
    }

    func waitFor(seconds: Double = 30, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return await condition()
    }

    @Test func ownershipSpreadsAndEachWorkspaceHasOnePoller() async throws {
        let cluster = try await setUp(workspaces: ["w1", "w2", "w3", "w4", "w5", "w6"])
        defer { cluster.tearDown() }
        let workers = try cluster.start(3)
        // Each of the three settles on two workspaces, and together they hold all six.
        var held: [Set<String>] = []
        let spread = await waitFor(seconds: 40) {
            held = []
            for worker in workers { held.append(await cluster.holdings(worker)) }
            return held.allSatisfy { $0.count == 2 } && held.reduce(Set()) { $0.union($1) }.count == 6
        }
        #expect(spread, "\(held)\n\(workers.map(\.log).joined(separator: "\n---\n"))")
        // One poller per workspace: over six seconds at one poll a second, each workspace is
        // listed about six times (two pollers would list it about twelve times).
        #expect(await workers[0].waitForMorePolls(4, seconds: 30))
        let before = try await cluster.listRequests()
        try await Task.sleep(for: .seconds(6))
        let after = try await cluster.listRequests()
        for workspace in cluster.workspaces {
            let polls = after[workspace, default: 0] - before[workspace, default: 0]
            #expect(polls >= 2 && polls <= 9, "\(workspace) was listed \(polls) times in 6 s: \(held)")
        }
        // Any worker's /readyz shows every workspace's lease, each with one owner.
        let readiness = await cluster.readiness(workers[1])
        #expect(readiness?.status == 200, "\(readiness?.body ?? [:])")
        let database = readiness?.body["database"] as? [String: Any]
        #expect((database?["workers"] as? [String])?.count == 3)
        #expect((database?["leases"] as? [String: Any])?.count == 6)
        for worker in workers { #expect(await worker.terminate() == 0, "\(worker.log)") }
        #expect(workers.allSatisfy { $0.log.contains("gave the workspace leases up") })
        for log in workers.map(\.log) {
            #expect(!log.contains(TestPostgres.Server.password) && !log.contains("SECRET"))
        }
    }

    @Test func killingTheOwnerDuringA500DeviceOutageHandsItOverAndPagesEachAlertOnce() async throws {
        let cluster = try await setUp(workspaces: ["w1", "w2", "w3"], outage: 500)
        defer { cluster.tearDown() }
        var workers = try cluster.start(3)
        // The outage is seen, and its pages start to go out: then its owner dies.
        #expect(await cluster.sink.wait(seconds: 60) { $0.count >= 60 }, "\(workers[0].log)")
        var owner: WorkerProcess?
        for worker in workers where await cluster.holdings(worker).contains("w1") { owner = worker }
        let killed = try #require(owner, "nobody holds w1")
        kill(killed.process.processIdentifier, SIGKILL)
        let killedAt = Date()
        workers.removeAll { $0 === killed }
        let listedBefore = try await cluster.listRequests()["w1", default: 0]
        // Another worker takes w1 over and polls it again.
        let tookOver = await waitFor(seconds: 30) {
            for worker in workers where await cluster.holdings(worker).contains("w1") { return true }
            return false
        }
        #expect(tookOver, "\(workers.map(\.log).joined(separator: "\n---\n"))")
        #expect(
            await waitFor(seconds: 20) { (try? await cluster.listRequests()["w1", default: 0]) ?? 0 > listedBefore })
        let failover = Date().timeIntervalSince(killedAt)
        print("failover after kill -9: \(String(format: "%.1f", failover)) s (lease TTL \(Self.ttl), polls every 1 s)")
        #expect(workers.contains { $0.log.contains("took workspace over") })

        // Every camera of the outage paged once, across the kill.
        #expect(
            await waitFor(seconds: 90) { cluster.checkOncePerAlert(expected: 500, status: "firing").distinct >= 500 },
            "\(cluster.checkOncePerAlert(expected: 500, status: "firing"))")
        let firing = cluster.checkOncePerAlert(expected: 500, status: "firing")
        #expect(firing.distinct == 500 && firing.doubled.isEmpty, "paged under two notification ids: \(firing.doubled)")
        // Repeats are only what the killed worker had sent and not yet recorded: at most what
        // one lane has in flight (16) and what was answered within the last record's wait (16).
        #expect(firing.repeats <= 32, "repeats: \(firing.repeats)")
        print("repeats across the kill -9 (same webhook-id, the 2xx-to-commit window): \(firing.repeats)")

        // The site comes back: each camera's resolve goes once, after its firing.
        for number in 0..<500 {
            _ = try await cluster.http.send(
                HTTPRequestSpec(
                    method: "POST",
                    url: cluster.simulator.baseURL + "/_sim/workspaces/w1/devices/site-cam-\(number)/heartbeat"))
        }
        #expect(
            await waitFor(seconds: 90) { cluster.checkOncePerAlert(expected: 500, status: "resolved").distinct >= 500 },
            "\(cluster.checkOncePerAlert(expected: 500, status: "resolved"))")
        let resolved = cluster.checkOncePerAlert(expected: 500, status: "resolved")
        #expect(resolved.distinct == 500 && resolved.doubled.isEmpty && resolved.repeats == 0)
        for worker in workers { #expect(await worker.terminate() == 0, "\(worker.log)") }
    }

    @Test func aWorkerPausedPastItsLeaseIsFencedAndSendsNothingTwice() async throws {
        let cluster = try await setUp(workspaces: ["acme"], offline: ["acme"])
        defer { cluster.tearDown() }
        let workers = try cluster.start(2)
        #expect(await cluster.sink.wait(seconds: 30) { _ in cluster.deliveries().count == 1 }, "\(workers[0].log)")
        var owner: WorkerProcess?
        for worker in workers where await cluster.holdings(worker).contains("acme") { owner = worker }
        let paused = try #require(owner)
        let other = try #require(workers.first { $0 !== paused })
        // Paused (a frozen VM, a long stall) past its lease: the other takes acme over.
        kill(paused.process.processIdentifier, SIGSTOP)
        #expect(await waitFor(seconds: 30) { await cluster.holdings(other).contains("acme") }, "\(other.log)")
        // A camera drops meanwhile: the new owner pages it.
        try await cluster.dropCamera("cam-new", in: "acme")
        #expect(await cluster.sink.wait(seconds: 30) { _ in cluster.deliveries().count == 2 }, "\(other.log)")
        // The paused worker wakes with a poll and a plan of its own: they are fenced, it stops
        // polling acme, and nothing goes out twice.
        kill(paused.process.processIdentifier, SIGCONT)
        #expect(
            await waitFor(seconds: 20) { paused.log.contains("stopped polling") }, "\(paused.log)")
        #expect(await other.waitForMorePolls(3), "\(other.log)")
        let all = cluster.deliveries()
        #expect(all.count == 2 && all.values.allSatisfy { $0.count == 1 }, "\(all)")
        #expect(paused.process.isRunning)
        #expect(await cluster.holdings(paused).isEmpty)
        for worker in workers { #expect(await worker.terminate() == 0, "\(worker.log)") }
    }

    /// A loopback proxy between one worker and the database; SIGSTOP on it is a partition.
    final class Proxy {
        let process = Process()
        let port: Int

        init(to target: Int) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", repositoryRoot.appendingPathComponent("Tests/Tools/tcp-proxy.py").path, "\(target)",
            ]
            let out = Pipe()
            process.standardOutput = out
            // Nothing of the test process's own output: `swift test` waits for its end.
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let json = try JSONSerialization.jsonObject(with: Data(firstLine(of: out).utf8)) as? [String: Int]
            port = try #require(json?["port"])
        }

        func cut() { kill(process.processIdentifier, SIGSTOP) }
        func heal() { kill(process.processIdentifier, SIGCONT) }
        deinit {
            kill(process.processIdentifier, SIGCONT)
            process.terminate()
        }
    }

    @Test func aWorkerCutOffFromTheDatabaseIsTakenOverCommitsNothingAndRejoins() async throws {
        let cluster = try await setUp(workspaces: ["acme"], offline: ["acme"])
        defer { cluster.tearDown() }
        let server = try await TestPostgres.shared.server()
        let proxy = try Proxy(to: server.port)
        // The first worker reaches the database through the proxy, and holds acme.
        var cutOffEnvironment = cluster.environment
        cutOffEnvironment["DEVICEWATCH_DATABASE_URL"] = cluster.url.replacingOccurrences(
            of: ":\(server.port)/", with: ":\(proxy.port)/")
        let cutOff = try WorkerProcess(config: cluster.config, environment: cutOffEnvironment)
        #expect(await waitFor { await cluster.holdings(cutOff).contains("acme") }, "\(cutOff.log)")
        #expect(await cluster.sink.wait(seconds: 30) { _ in cluster.deliveries().count == 1 }, "\(cutOff.log)")
        let other = try WorkerProcess(config: cluster.config, environment: cluster.environment)
        #expect(await waitFor { await cluster.readiness(other)?.status == 200 }, "\(other.log)")

        // The link drops packets: the cut-off worker can neither renew nor commit; the other
        // takes acme over and pages a camera that drops meanwhile.
        proxy.cut()
        #expect(await waitFor(seconds: 40) { await cluster.holdings(other).contains("acme") }, "\(other.log)")
        try await cluster.dropCamera("cam-new", in: "acme")
        #expect(await cluster.sink.wait(seconds: 30) { _ in cluster.deliveries().count == 2 }, "\(other.log)")
        #expect(
            await waitFor(seconds: 30) { await cluster.readiness(cutOff).map { $0.status != 200 } ?? false },
            "\(cutOff.log)")
        #expect(await waitFor(seconds: 30) { cutOff.log.contains("stopped polling") }, "\(cutOff.log)")

        // Healed: it rejoins holding nothing (acme is the other's at a later epoch), ready again,
        // and nothing went out twice.
        proxy.heal()
        #expect(await waitFor(seconds: 40) { await cluster.readiness(cutOff)?.status == 200 }, "\(cutOff.log)")
        #expect(await cluster.holdings(cutOff).isEmpty)
        #expect(await other.waitForMorePolls(3), "\(other.log)")
        let all = cluster.deliveries()
        #expect(all.count == 2 && all.values.allSatisfy { $0.count == 1 }, "\(all)")
        for worker in [cutOff, other] { #expect(await worker.terminate() == 0, "\(worker.log)") }
    }

    @Test func whilePostgreSQLIsDownEveryWorkerIsUnreadyAndNothingIsLost() async throws {
        let server = try await TestPostgres.privateServer()
        let cluster = try await setUp(
            workspaces: ["w1", "w2"], offline: ["w1"], url: try await TestPostgres.newDatabase(on: server))
        defer { cluster.tearDown() }
        let workers = try cluster.start(2)
        #expect(await cluster.sink.wait(seconds: 30) { _ in cluster.deliveries().count == 1 }, "\(workers[0].log)")
        #expect(await waitFor { await cluster.readiness(workers[0])?.status == 200 }, "\(workers[0].log)")
        try await TestPostgres.stop(server)
        // A camera drops while the database is away: nobody can commit it, so nobody sends it.
        try await cluster.dropCamera("cam-late", in: "w2")
        for worker in workers {
            #expect(
                await waitFor(seconds: 30) { await cluster.readiness(worker).map { $0.status != 200 } ?? false },
                "\(worker.log)")
        }
        #expect(cluster.deliveries().count == 1)
        try await TestPostgres.restart(server)
        // Back: both ready again, the late camera paged once, the first not again.
        for worker in workers {
            #expect(await waitFor(seconds: 40) { await cluster.readiness(worker)?.status == 200 }, "\(worker.log)")
        }
        #expect(
            await cluster.sink.wait(seconds: 30) { _ in cluster.deliveries().count == 2 }, "\(cluster.deliveries())")
        #expect(
            cluster.deliveries().values.allSatisfy { Set($0).count == 1 },
            "\(cluster.deliveries())\n\(workers.map(\.log).joined(separator: "\n---\n"))")
        for worker in workers { #expect(await worker.terminate() == 0, "\(worker.log)") }
        try? await TestPostgres.stop(server)
    }

    @Test func afterEveryWorkerDiedOneRestartedResumesEveryWorkspaceAndTheOutbox() async throws {
        // The receiver hangs on the first three pages: they are in flight when every worker dies.
        let cluster = try await setUp(
            workspaces: ["w1", "w2", "w3"], offline: ["w1", "w2", "w3"],
            sinkStatuses: [RecordingSink.hang, RecordingSink.hang, RecordingSink.hang])
        defer { cluster.tearDown() }
        let workers = try cluster.start(3)
        #expect(await cluster.sink.wait(seconds: 40) { $0.count >= 3 }, "\(workers[0].log)")
        for worker in workers { kill(worker.process.processIdentifier, SIGKILL) }
        let listed = try await cluster.listRequests()
        let survivor = try WorkerProcess(config: cluster.config, environment: cluster.environment)
        // After the dead workers' leases and claims run out, it holds all three and delivers all three.
        #expect(
            await waitFor(seconds: 40) { await cluster.holdings(survivor) == ["w1", "w2", "w3"] }, "\(survivor.log)")
        #expect(
            await cluster.sink.wait(seconds: 40) { $0.count >= 6 }, "\(cluster.sink.requests.count)\n\(survivor.log)")
        let after = try await cluster.listRequests()
        for workspace in cluster.workspaces { #expect(after[workspace, default: 0] > listed[workspace, default: 0]) }
        // Each page went under one notification id: the hung attempt and its delivery.
        let all = cluster.deliveries()
        #expect(all.count == 3 && all.values.allSatisfy { Set($0).count == 1 && $0.count == 2 }, "\(all)")
        #expect(await survivor.terminate() == 0, "\(survivor.log)")
    }
}
