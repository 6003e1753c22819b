import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

/// Acknowledge and escalate through the real worker: the chat is told, nobody reacts, the pager
/// is told 30 minutes on; acknowledged over the API (and on the status page), repeats stop; the
/// resolve reaches both.
@Suite("devicewatch run: acknowledge and escalate", .serialized)
struct OnCallWorkerTests {
    @Test func anEscalationPagesAfterThirtyMinutesAndAnAcknowledgementStopsTheRepeats() async throws {
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key-ONCALL",
            devices:
                #"""
                {"id": "cam-1", "name": "dock cam", "tags": ["production"], "created_at": "-30d",
                 "online": [["-30d", "+1m"], ["+3h", null]]}
                """#, timeScale: 1)
        defer { _ = simulator.stop() }
        let base = sink.server.baseURL
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {"chat": {"type": "webhook", "url": "\(base)/chat"}, "pager": {"type": "webhook", "url": "\(base)/pager"}},
                "defaults": {"group_wait": "0s", "group_interval": "1s", "repeat_every": "10m"},
                "state": {"sqlite": "state.db"}, "server": {"listen": "127.0.0.1:0"}
                """),
            "rules.json": """
            {"rules": [{"id": "offline", "severity": "critical", "when": {"offline_for": "15m"}, "notify": ["chat"],
              "escalate": [{"after": "30m", "notify": ["pager"]}]}]}
            """,
        ])
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"), environment: ["ROBOFLOW_API_KEY": "ws-key-ONCALL"])
        defer { _ = worker }
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        func posts(_ path: String) -> [[String: Any]] { sink.requests.filter { $0.path == path }.compactMap(\.json) }

        #expect(await worker.waitForMorePolls(2), "\(worker.log)")
        #expect(try await simulator.advance("20m", http: http) == 200)
        #expect(await sink.wait { _ in !posts("/chat").isEmpty }, "\(worker.log)")
        #expect(posts("/pager").isEmpty)
        // Nobody reacts: 30 minutes after it began firing (at the first poll past +20m), the pager
        // is told too.
        #expect(try await simulator.advance("31m", http: http) == 200)
        #expect(await sink.wait { _ in !posts("/pager").isEmpty }, "\(worker.log)")
        let fingerprint = try #require(
            ((posts("/pager").first?["alerts"] as? [[String: Any]])?.first?["fingerprint"]) as? String)

        // Acknowledged over the API: no more repeats, to either receiver.
        let ops = try #require(await worker.opsAddress())
        let answer = try await http.send(
            HTTPRequestSpec(
                method: "POST", url: "\(ops)/api/v1/alerts/\(fingerprint)/ack",
                headers: ["Content-Type": "application/json"],
                body: Data(#"{"comment": "driving to the dock", "author": "alice", "duration": "2h"}"#.utf8)))
        #expect(answer.status == 201, "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")
        let before = sink.requests.count
        #expect(try await simulator.advance("50m", http: http) == 200)
        #expect(await worker.waitForMorePolls(3), "\(worker.log)")  // polls went on: nothing was due
        #expect(sink.requests.count == before, "\(sink.requests.suffix(2).map(\.path))")
        // The API and the status page say who is on it.
        let alerts = try await http.send(HTTPRequestSpec(url: "\(ops)/api/v1/alerts?state=firing"))
        let listed = try #require(
            (try JSONSerialization.jsonObject(with: alerts.body) as? [String: Any])?["alerts"] as? [[String: Any]])
        #expect((listed.first?["acknowledged"] as? [String: Any])?["author"] as? String == "alice")
        let page = String(decoding: try await http.send(HTTPRequestSpec(url: "\(ops)/")).body, as: UTF8.self)
        #expect(page.contains("acknowledged by alice"))

        // The camera comes back: both receivers hear the resolve.
        #expect(try await simulator.advance("2h", http: http) == 200)
        #expect(
            await sink.wait { _ in
                ["/chat", "/pager"].allSatisfy { path in posts(path).contains { $0["status"] as? String == "resolved" }
                }
            }, "\(worker.log)")
        #expect(await worker.terminate() == 0)
    }

    @Test func theStatusPageButtonAcknowledgesWithAPlainFormPost() async throws {
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let simulator = try SimulatorProcess(
            acmeKey: "ws-key-FORM",
            devices: #"{"id": "cam-1", "name": "dock cam", "created_at": "-30d", "online": [["-30d", "-1h"]]}"#)
        defer { _ = simulator.stop() }
        let dir = try Workdir([
            "devicewatch.json": simulator.workerConfig(
                """
                "receivers": {"chat": {"type": "webhook", "url": "\(sink.url)"}},
                "defaults": {"group_wait": "0s"}, "state": {"sqlite": "state.db"},
                "server": {"listen": "127.0.0.1:0", "admin_token_env": "ADMIN_TOKEN"}
                """),
            "rules.json": #"{"rules": [{"id": "offline", "when": {"offline_for": "15m"}, "notify": ["chat"]}]}"#,
        ])
        let worker = try WorkerProcess(
            config: dir.file("devicewatch.json"),
            environment: ["ROBOFLOW_API_KEY": "ws-key-FORM", "ADMIN_TOKEN": "admin-token-SECRET"])
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        #expect(await sink.wait { $0.count >= 1 }, "\(worker.log)")
        let ops = try #require(await worker.opsAddress())
        let page = String(decoding: try await http.send(HTTPRequestSpec(url: "\(ops)/")).body, as: UTF8.self)
        let action = try #require(
            page.range(of: #"/alerts/[0-9a-f]+/ack"#, options: .regularExpression).map { String(page[$0]) })
        #expect(page.contains(#"name="token""#))
        func post(_ form: String) async throws -> HTTPResponseData {
            try await http.send(
                HTTPRequestSpec(
                    method: "POST", url: ops + action, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: Data(form.utf8)))
        }
        #expect(try await post("comment=on+it&for=&author=bob&token=wrong").status == 401)
        // A page elsewhere posting the same form (even with the token) is refused.
        let crossSite = try await http.send(
            HTTPRequestSpec(
                method: "POST", url: ops + action,
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"],
                body: Data("comment=x&token=admin-token-SECRET".utf8)))
        #expect(crossSite.status == 403)
        let ownPage = try await http.send(
            HTTPRequestSpec(
                method: "POST", url: ops + action,
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Origin": ops],
                body: Data("comment=x&for=1m&token=wrong".utf8)))
        #expect(ownPage.status == 401)  // past the Origin check, stopped by the token
        let done = try await post("comment=on+it%21&for=1h&author=bob&token=admin-token-SECRET")
        #expect(done.status == 303 && done.headers["Location"]?.hasPrefix("/#alert-") == true)
        let after = String(decoding: try await http.send(HTTPRequestSpec(url: "\(ops)/")).body, as: UTF8.self)
        #expect(after.contains("acknowledged by bob at") && after.contains("on it!"))
        #expect(!worker.log.contains("admin-token-SECRET"))

        // The CLI, on the same store while the worker runs: list, end, acknowledge again.
        let config = ["--config", dir.file("devicewatch.json")]
        let listed = try await CommandRunner.run(["ack", "--list"] + config)
        #expect(listed.status == 0 && listed.stdout.contains("bob") && listed.stdout.contains("on it!"), "\(listed)")
        let id = try #require(listed.stdout.split(separator: "\n").dropFirst().first?.split(separator: " ").first)
        #expect(try await CommandRunner.run(["ack", "--end", String(id)] + config).stdout == "ended \(id)\n")
        let fingerprint = String(action.dropFirst("/alerts/".count).dropLast("/ack".count))
        let again = try await CommandRunner.run(
            ["ack", fingerprint, "--comment", "still on it", "--author", "carol", "--for", "30m"] + config)
        #expect(again.status == 0, "\(again.stderr)")
        let unknown = try await CommandRunner.run(["ack", "feedfeedfeedfeed", "--comment", "x"] + config)
        #expect(unknown.status == 4 && unknown.stderr.contains("no alert has the fingerprint feedfeedfeedfeed"))
        #expect(try await CommandRunner.run(["ack", "--list"] + config).stdout.contains("carol"))
        #expect(await worker.terminate() == 0)
    }
}
