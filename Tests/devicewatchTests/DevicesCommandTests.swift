import Foundation
import Testing

let scenarioJSON = """
    {
      "start": "2026-11-28T12:00:00Z",
      "workspaces": {
        "acme": {
          "api_keys": [{"key": "ws-key-TOPSECRET"}, {"key": "dev-key-TOPSECRET", "device": "cam-1"},
                       {"key": "noscope-TOPSECRET", "scopes": ["device:update"]}],
          "devices": [
            {"id": "cam-1", "name": "line-3-cam", "type": "jetson", "tags": ["production", "site-a"],
             "rfdm_version": "1.2.3", "created_at": "-30d", "online": [["-30d", null]], "future": null},
            {"id": "cam-2", "name": "dock-cam", "tags": ["production", "site-b"], "rfdm_version": "1.4.0",
             "created_at": "-10d", "online": [["-10d", "-2h"]]},
            {"id": "cam-3", "name": "gate-cam", "created_at": "-2h", "tags": ["staging"], "online": []}
          ]
        }
      }
    }
    """.replacingOccurrences(of: #", "future": null"#, with: "")

/// The binary tests share one simulator process; they only read from it.
@Suite("devicewatch devices and simulate", .serialized)
struct DevicesCommandTests {
    static let key = ["ROBOFLOW_API_KEY": "ws-key-TOPSECRET"]

    func withSimulator(_ body: (String) async throws -> Void) async throws {
        let simulator = try SimulatorProcess(json: scenarioJSON)
        defer { _ = simulator.stop() }
        try await body(simulator.baseURL)
    }

    @Test func simulatePrintsItsAddressFirstAndStopsCleanlyOnSIGTERM() throws {
        let simulator = try SimulatorProcess(json: scenarioJSON)
        #expect(simulator.baseURL.hasPrefix("http://127.0.0.1:"))
        #expect(simulator.stop() == 0)
    }

    @Test func listPrintsASortedTableWithASummary() async throws {
        try await withSimulator { url in
            let output = try await CommandRunner.run(
                ["devices", "list", "--workspace", "acme", "--api-url", url], environment: Self.key)
            #expect(output.status == 0, "\(output.stderr)")
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("NAME") == true)
            #expect(lines[1].hasPrefix("dock-cam") && lines[1].contains("offline") && lines[1].contains("2h ago"))
            #expect(lines[2].hasPrefix("gate-cam") && lines[2].contains("never"))
            #expect(
                lines[3].hasPrefix("line-3-cam") && lines[3].contains("online")
                    && lines[3].contains("production,site-a"))
            #expect(lines.last == "3 devices: 1 online, 1 offline, 1 unknown")
        }
    }

    @Test func listFiltersByStatusAndTag() async throws {
        try await withSimulator { url in
            let byStatus = try await CommandRunner.run(
                ["devices", "list", "--workspace", "acme", "--api-url", url, "--status", "offline,unknown"],
                environment: Self.key)
            #expect(byStatus.stdout.split(separator: "\n").last == "2 devices: 0 online, 1 offline, 1 unknown")
            let byTag = try await CommandRunner.run(
                ["devices", "list", "--workspace", "acme", "--api-url", url, "--tag", "production", "--tag", "site-a"],
                environment: Self.key)
            #expect(byTag.stdout.contains("line-3-cam"))
            #expect(!byTag.stdout.contains("dock-cam"))
        }
    }

    @Test func listAsJSONPrintsTheAPIsObjects() async throws {
        try await withSimulator { url in
            let output = try await CommandRunner.run(
                ["devices", "list", "--workspace", "acme", "--api-url", url, "--format", "json"], environment: Self.key)
            #expect(output.status == 0)
            let array = try #require(
                try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]])
            #expect(array.map { $0["id"] as? String } == ["cam-1", "cam-2", "cam-3"])
            #expect(array[0]["last_heartbeat"] as? String == "2026-11-28T12:00:00.000Z")
            #expect(array[2]["rfdm_version"] is NSNull)
        }
    }

    @Test func getShowsOneDevice() async throws {
        try await withSimulator { url in
            let output = try await CommandRunner.run(
                ["devices", "get", "cam-1", "--workspace", "acme", "--api-url", url, "--format", "json"],
                environment: ["ROBOFLOW_API_KEY": "dev-key-TOPSECRET"])
            #expect(output.status == 0)
            #expect(output.stdout.contains(#""id" : "cam-1""#))
        }
    }

    @Test func keyFileIsReadInsteadOfTheEnvironment() async throws {
        try await withSimulator { url in
            let path = try writeScenario("ws-key-TOPSECRET\n")
            let output = try await CommandRunner.run([
                "devices", "list", "--workspace", "acme", "--api-url", url, "--api-key-file", path,
            ])
            #expect(output.status == 0, "\(output.stderr)")
        }
    }

    @Test func exitCodesFollowTheKindOfFailure() async throws {
        try await withSimulator { url in
            let base = ["--workspace", "acme", "--api-url", url]
            let notFound = try await CommandRunner.run(["devices", "get", "nope"] + base, environment: Self.key)
            #expect(notFound.status == 4)
            #expect(notFound.stderr.contains("not found (404)"))

            let scoped = try await CommandRunner.run(
                ["devices", "list"] + base, environment: ["ROBOFLOW_API_KEY": "dev-key-TOPSECRET"])
            #expect(scoped.status == 3)
            #expect(scoped.stderr.contains("device-scoped"))

            let wrong = try await CommandRunner.run(
                ["devices", "list"] + base, environment: ["ROBOFLOW_API_KEY": "bad-TOPSECRET"])
            #expect(wrong.status == 3)

            // A 404 with GraphMethodException: the key lacks device:read; an authorization problem.
            let noScope = try await CommandRunner.run(
                ["devices", "get", "cam-1"] + base, environment: ["ROBOFLOW_API_KEY": "noscope-TOPSECRET"])
            #expect(noScope.status == 3)
            #expect(noScope.stderr.contains("lacks the device:read scope"))
            #expect(!noScope.stderr.contains("not found"))

            let noKey = try await CommandRunner.run(["devices", "list"] + base)
            #expect(noKey.status == 3)
            #expect(noKey.stderr.contains("ROBOFLOW_API_KEY"))

            for output in [notFound, scoped, wrong, noScope, noKey] {
                #expect(!(output.stdout + output.stderr).contains("TOPSECRET"))
                #expect(output.stderr.split(separator: "\n").count <= 2)
            }
        }
    }

    @Test func unavailableAPIExitsWith5() async throws {
        let simulator = try SimulatorProcess(json: scenarioJSON)
        let url = simulator.baseURL
        _ = simulator.stop()
        let output = try await CommandRunner.run(
            ["devices", "list", "--workspace", "acme", "--api-url", url, "--retries", "0"], environment: Self.key)
        #expect(output.status == 5)
        #expect(output.stderr.contains("could not reach the Devices API"))
    }

    @Test func usageErrorsExitWith2() async throws {
        #expect(try await CommandRunner.run(["devices", "list"]).status == 2)  // no --workspace
        #expect(try await CommandRunner.run(["devices", "list", "--workspace", "a", "--format", "xml"]).status == 2)
        #expect(try await CommandRunner.run(["devices", "list", "--workspace", "a", "--timeout", "soon"]).status == 2)
        #expect(try await CommandRunner.run(["bogus"]).status == 2)
        let help = try await CommandRunner.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit codes"))
    }

    @Test func badScenarioIsRefusedWithFileAndPath() async throws {
        let path = try writeScenario(
            #"{"workspaces": {"acme": {"devices": [{"id": "x", "online": [["-1h", "later"]]}]}}}"#)
        let output = try await CommandRunner.run(["simulate", "--scenario", path, "--port", "0"])
        #expect(output.status == 2)
        #expect(output.stderr.contains(path))
        #expect(output.stderr.contains("workspaces.acme.devices[0].online[0][1]"))
    }
}

@Suite("The README's worked example")
struct ReadmeExampleTests {
    @Test func shippedExampleScenarioServesTheREADMEsListing() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let scenario = root.appendingPathComponent("examples/simulator/basic.json").path
        let simulator = try SimulatorProcess(scenario: scenario)
        defer { _ = simulator.stop() }
        let output = try await CommandRunner.run(
            ["devices", "list", "--workspace", "acme", "--api-url", simulator.baseURL],
            environment: ["ROBOFLOW_API_KEY": "ws-key"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.hasSuffix("3 devices: 1 online, 1 offline, 1 unknown\n"))
    }
}
