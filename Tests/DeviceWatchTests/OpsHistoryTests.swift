import DeviceWatchCore
import Foundation
import Testing

@testable import DeviceWatch

/// The history pages and JSON over loopback, with device text chosen to break them.
@Suite("Ops server history")
struct OpsHistoryTests {
    static let hostile = "<script>alert(1)</script> \"cam\" & =HYPERLINK(\"x\") \u{202E}gpj.exe"

    /// Two days of a hostile-named camera (down 2 h a day ago) in the server's store.
    static func fill(_ store: SQLiteStateStore, now: Date) async throws {
        let rules = RuleSet([Rule(id: "down", condition: .status(["offline"]), notify: ["chat"])])
        var state = AlertState()
        let settings = AlertCycle.Settings(rules: rules, defaults: RoutingDefaults())
        var at = now.addingTimeInterval(-2 * 86_400)
        while at <= now {
            let down = at >= now.addingTimeInterval(-86_400) && at < now.addingTimeInterval(-86_400 + 7200)
            let cam = Device(
                id: "cam-<1>", name: hostile, status: down ? .offline : .online, lastHeartbeat: at,
                tags: ["site-<b>", "production"])
            let (result, intents) = AlertCycle.run(
                &state, .poll(workspace: "acme", devices: [cam], at: at), settings: settings)
            var changes = result.changes
            changes.intents = intents
            try await store.commit(changes, at: at)
            state.endCycle()
            at.addTimeInterval(60)
        }
    }

    @Test func pagesShowHostileDeviceTextAsTextAndJSONCarriesItWhole() async throws {
        let server = try await OpsServerTests.start()
        defer { server.stop() }
        try await Self.fill(server.store, now: OpsServerTests.now)
        for path in ["/?range=7d", "/devices/cam-%3C1%3E", "/alerts?state=resolved"] {
            let page = try await server.get(path)
            #expect(page.status == 200, "\(path): \(page.text)")
            #expect(!page.text.contains("<script>alert"), "\(path)")
            #expect(!page.text.contains("\u{202E}"), "\(path)")
            #expect(!page.text.contains("site-<b>"), "\(path)")
        }
        let device = try await server.get("/devices/cam-%3C1%3E?range=7d")
        #expect(device.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(device.text.contains("1 outage, the longest 2h"))
        let page = try await server.get("/")
        #expect(page.text.contains(#"aria-label="group site-&lt;b&gt;, last 24h"#))

        let availability = try await server.json("/api/v1/availability?since=2d&by=device")
        let row = try #require((availability["rows"] as? [[String: Any]])?.first)
        #expect(row["name"] as? String == Self.hostile)
        #expect(row["outages"] as? Int == 1)
        #expect(row["offline_seconds"] as? Double == 7200)
        let history = try await server.json("/api/v1/devices/cam-%3C1%3E/history?since=2d")
        #expect((history["alerts"] as? [[String: Any]])?.count == 1)
        #expect(
            (history["changes"] as? [[String: Any]])?.map { $0["status"] as? String } == [
                "online", "offline", "online",
            ])
        #expect(try await server.get("/api/v1/devices/nobody/history").status == 404)
        let bad = try await server.json("/api/v1/availability?by=site")
        #expect((bad["error"] as? String)?.contains("tag:PATTERN") == true)
        // Every query a person can get wrong is a 400 that says what to write instead.
        for (path, says) in [
            ("/api/v1/availability?since=yesterday", "since must be a duration back from now"),
            ("/api/v1/availability?since=1d&until=2d", "the window is empty"),
            ("/api/v1/availability?until=soon", "until must be a duration back from now"),
            ("/api/v1/availability?target=101", "target must be a percentage"),
            ("/api/v1/alerts/history?state=open", "state must be firing or resolved"),
            ("/api/v1/devices/cam-%3C1%3E/history?since=-1d", "since must be"),
            ("/alerts?state=open", "state must be all, firing or resolved"),
        ] {
            let response = try await server.get(path)
            #expect(response.status == 400, "\(path)")
            #expect(response.text.contains(says), "\(path): \(response.text)")
        }
        #expect(try await server.get("/api/v1/alerts/history?state=resolved").status == 200)
    }

    @Test func csvKeepsHostileCellsInertAndQuoted() {
        #expect(HistoryOutput.csvCell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(HistoryOutput.csvCell("+cmd") == "'+cmd")
        #expect(HistoryOutput.csvCell("-12.5") == "-12.5")
        #expect(HistoryOutput.csvCell("a,b") == "\"a,b\"")
        #expect(HistoryOutput.csvCell("line\nbreak") == "\"line\nbreak\"")
        #expect(HistoryOutput.percent(0.99999) == "99.99%")
        #expect(HistoryOutput.percent(0.5) == "50.00%" && HistoryOutput.percent(0.0625) == "6.25%")
        #expect(HistoryOutput.percent(0.00001) == "0.00%" && HistoryOutput.percent(.nan) == "no data")
        #expect(HistoryOutput.percent(1) == "100%")
        #expect(HistoryOutput.percent(nil) == "no data")
    }
}
