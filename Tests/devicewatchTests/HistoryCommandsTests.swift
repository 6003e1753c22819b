import CurlHTTP
import Foundation
import Synchronization
import Testing

/// `devicewatch report` and the status page's history, against the demo (a week of past fleet
/// history replayed through the real cycle, then the live worker): the CLI and `/api/v1` agree.
@Suite("devicewatch report and history pages")
struct HistoryCommandsTests {
    /// The demo in the background, its stdout read as it comes.
    final class Demo {
        let process = Process()
        let output = LogBuffer()
        let state: String

        let out = Pipe()

        init(state: String) throws {
            self.state = state
            process.executableURL = CommandRunner.binary
            process.arguments = [
                "demo", "--time-scale", "60", "--duration", "90s", "--listen", "127.0.0.1:0", "--state", state,
                "--scenario", repositoryRoot.appendingPathComponent("examples/demo/scenario.json").path,
                "--config", repositoryRoot.appendingPathComponent("examples/demo/devicewatch.json").path,
            ]
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            output.collect(out)
            try process.run()
        }

        deinit {
            if process.isRunning { process.terminate() }
            out.fileHandleForReading.readabilityHandler = nil
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state + suffix) }
        }

        /// The status page's address, once the demo prints it.
        func address() async throws -> String {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let range = output.text.range(of: #"Status page: (http://[0-9.:]+)"#, options: .regularExpression) {
                    return String(output.text[range].dropFirst("Status page: ".count))
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw CocoaError(.fileReadUnknown)
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func theReportAndTheAPIAgreeOnTheDemosPastWeekAndThePagesShowIt() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("dw-history-\(UUID()).db").path
        let demo = try Demo(state: state)
        let address = try await demo.address()
        let http = CurlHTTPClient()
        defer { http.shutdown() }
        func get(_ path: String) async throws -> (status: Int, text: String) {
            let response = try await http.send(HTTPRequestSpec(url: address + path))
            return (response.status, String(decoding: response.body, as: UTF8.self))
        }
        // A fixed window inside the replayed week, so both read the same rows: six days ending
        // four hours before the API's now.
        let now = try #require(Self.json(try await get("/api/v1/availability?since=1h").text)["until"] as? String)
        let nowDate = try #require(ISO8601DateFormatter.withFractions.date(from: now))
        let until = ISO8601DateFormatter.withFractions.string(from: nowDate.addingTimeInterval(-4 * 3600))
        let since = ISO8601DateFormatter.withFractions.string(
            from: nowDate.addingTimeInterval(-(6 * 86_400 + 4 * 3600)))

        let api = try await get("/api/v1/availability?since=\(since)&until=\(until)&by=tag:site-*&target=99.5")
        #expect(api.status == 200, "\(api.text)")
        let cli = try await CommandRunner.run([
            "report", "availability", "--state", state, "--since", since, "--until", until, "--by", "tag:site-*",
            "--target", "99.5", "--format", "json",
        ])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(
            NSDictionary(dictionary: try Self.json(cli.stdout)) == NSDictionary(dictionary: try Self.json(api.text)))

        // What the week held: site-b's outages; the two hours unwatched are no data, not downtime.
        let report = try Self.json(cli.stdout)
        let rows = try #require(report["rows"] as? [[String: Any]])
        let siteB = try #require(rows.first { $0["key"] as? String == "site-b" })
        #expect((siteB["outages"] as? Int ?? 0) >= 5)
        #expect(siteB["missed_target"] as? Bool == true)
        let total = try #require(report["total"] as? [String: Any])
        let noData = try #require(total["no_data_seconds"] as? Double)
        #expect(noData >= 40 * 2 * 3600 - 40 * 600)

        // By device, worst first: the staging pi off for most of a day.
        let devices = try await CommandRunner.run([
            "report", "availability", "--state", state, "--since", since, "--until", until,
        ])
        #expect(devices.status == 0, "\(devices.stderr)")
        let lines = devices.stdout.split(separator: "\n")
        #expect(lines.count > 3)
        #expect(lines[2].hasPrefix("s-pi-04"), "\(devices.stdout)")
        #expect(devices.stdout.contains("TOTAL"))

        // The alert history: b-cam-03's three-hour outage paged PagerDuty and resolved.
        let alerts = try await CommandRunner.run([
            "report", "alerts", "--state", state, "--since", since, "--until", until, "--rule", "production-offline",
            "--device", "b-cam-03", "--format", "json",
        ])
        #expect(alerts.status == 0, "\(alerts.stderr)")
        let fired = try #require(try Self.json(alerts.stdout)["alerts"] as? [[String: Any]])
        let long = try #require(fired.first { ($0["duration_seconds"] as? Double ?? 0) > 2 * 3600 })
        #expect(long["state"] as? String == "resolved")
        let told = try #require(long["notified"] as? [[String: Any]])
        #expect(told.contains { $0["receiver"] as? String == "pagerduty-oncall" && $0["resolved"] as? Bool == true })
        let apiAlerts = try await get(
            "/api/v1/alerts/history?since=\(since)&until=\(until)&rule=production-offline&device=b-cam-03")
        #expect(
            NSDictionary(dictionary: try Self.json(apiAlerts.text))
                == NSDictionary(dictionary: try Self.json(alerts.stdout)))

        // The pages: uptime bars on the status page, the device's timeline, the alert history.
        let page = try await get("/?range=7d")
        #expect(page.status == 200)
        #expect(page.text.contains(#"aria-label="group site-b, last 7d"#))
        #expect(page.text.contains("<svg class=\"chart\""))
        let device = try await get("/devices/b-cam-03")
        #expect(device.status == 200)
        #expect(device.text.contains("site-b cam 3"))
        #expect(device.text.contains("offline: "))
        let history = try await get("/alerts?state=resolved")
        #expect(history.status == 200)
        #expect(history.text.contains("/devices/b-cam-03"))
        #expect(try await get("/devices/no-such-device").status == 404)
        #expect(try await get("/api/v1/availability?since=yesterday").status == 400)
        demo.process.terminate()
    }

    @Test func reportsExplainBadInput() async throws {
        let missing = try await CommandRunner.run(["report", "availability", "--state", "/nonexistent/state.db"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("there is no state database"), "\(missing.stderr)")
        let grouping = try await CommandRunner.run(["report", "availability", "--by", "site"])
        #expect(grouping.status == 2)
        #expect(grouping.stderr.contains("tag:PATTERN"), "\(grouping.stderr)")
        let window = try await CommandRunner.run(["report", "alerts", "--since", "last week"])
        #expect(window.status != 0)
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
