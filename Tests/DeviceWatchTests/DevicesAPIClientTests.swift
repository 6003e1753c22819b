import CurlHTTP
import DeviceAPISimulator
import DeviceWatchCore
import Foundation
import HTTPTypes
import HummingbirdCore
import Synchronization
import Testing

@testable import DeviceWatch

/// Waits that were asked for, instead of waiting.
final class RecordedSleeps: Sendable {
    private let waits = Mutex<[Duration]>([])
    var all: [Duration] { waits.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { duration in self.waits.withLock { $0.append(duration) } }
    }
}

struct Harness {
    static let start = Timestamp.parse("2026-11-28T12:00:00Z")!
    static let scenario = """
        {"start": "2026-11-28T12:00:00Z", "workspaces": {"acme": {
          "api_keys": [{"key": "ws-key-SECRET-123", "scopes": ["device:read"]}, {"key": "dev-key-SECRET-456", "device": "cam-1"},
                       {"key": "update-only-SECRET-789", "scopes": ["device:update"]}],
          "devices": [
            {"id": "cam-1", "name": "line-3-cam", "tags": ["production"], "rfdm_version": "1.2.3", "online": [["-1d", null]]},
            {"id": "cam-2", "name": "dock-cam", "created_at": "-2h", "online": []}]}}}
        """

    let simulator: DevicesAPISimulator
    let server: LoopbackServer
    let sleeps = RecordedSleeps()
    let http = CurlHTTPClient()

    static func start() async throws -> Harness {
        let scenario = try Scenario.parse(Data(scenario.utf8), source: "test", now: start)
        let simulator = DevicesAPISimulator(scenario: scenario, now: start, timeScale: 0)
        return Harness(simulator: simulator, server: try await SimulatorServer.start(simulator))
    }

    // Generous: the machine may be busy with other tests; no test here measures time.
    func client(
        key: String = "ws-key-SECRET-123", retry: RetryPolicy = RetryPolicy(maxAttempts: 4),
        timeout: Duration = .seconds(60)
    )
        -> DevicesAPIClient
    {
        DevicesAPIClient(
            baseURL: server.baseURL + "/", apiKey: Secret(key), http: http, retry: retry, requestTimeout: timeout,
            sleep: sleeps.sleep)
    }

    func faults(_ json: String) async throws {
        let response = try await http.send(
            HTTPRequestSpec(method: "PUT", url: server.baseURL + "/_sim/faults", body: Data(json.utf8)))
        precondition(response.status == 200)
    }

    func stop() async { await server.stop() }
}

/// Each test gets a simulator of its own, started before it and stopped after it.
@Suite("DevicesAPIClient against the simulator")
final class DevicesAPIClientTests: Sendable {
    let harness: Harness

    init() async throws {
        harness = try await Harness.start()
    }

    deinit {
        let harness = harness
        Task { await harness.stop() }
    }

    @Test func listReturnsDevicesAndTheAPIsClock() async throws {
        let result = try await harness.client().list(workspace: "acme")
        #expect(result.devices.map(\.id) == ["cam-1", "cam-2"])
        #expect(result.devices[0].status == .online)
        #expect(result.devices[1].status == .unknown)
        #expect(result.apiDate == Harness.start)
        #expect(result.attempts == 1)
        #expect(result.warnings.isEmpty && result.skipped.isEmpty)
    }

    @Test func getReturnsOneDevice() async throws {
        let result = try await harness.client(key: "dev-key-SECRET-456").get(workspace: "acme", deviceID: "cam-1")
        #expect(result.device.name == "line-3-cam")
        #expect(result.device.rfdmVersion == "1.2.3")
        #expect(result.apiDate == Harness.start)
    }

    @Test(arguments: [
        ("wrong-key-SECRET-000", nil as String?, DevicesAPIError.Kind.unauthorized, "401"),
        ("dev-key-SECRET-456", nil, .forbiddenList, "device-scoped"),
        ("update-only-SECRET-789", nil, .missingScope, "lacks the device:read scope"),
        ("update-only-SECRET-789", "cam-1", .missingScope, "lacks the device:read scope"),
        ("dev-key-SECRET-456", "cam-2", .forbiddenDevice, "bound to another device"),
        ("ws-key-SECRET-123", "nope", .notFound, "not found (404)"),
    ])
    func authAndLookupFailuresAreTypedActionableAndNotRetried(
        key: String, device: String?, kind: DevicesAPIError.Kind, phrase: String
    )
        async throws
    {
        let client = harness.client(key: key)
        let error = await #expect(throws: DevicesAPIError.self) {
            if let device {
                _ = try await client.get(workspace: "acme", deviceID: device)
            } else {
                _ = try await client.list(workspace: "acme")
            }
        }
        #expect(error?.kind == kind)
        #expect(error?.attempts == 1)
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains(phrase) == true, "\(String(describing: error))")
        #expect(error?.description.contains("SECRET") == false)
        #expect(harness.sleeps.all.isEmpty)
    }

    /// The service's own words come along, scrubbed of the key, inert and cut at 1 KB.
    @Test func theServicesMessageIsInTheErrorScrubbedAndCut() async throws {
        let error = await #expect(throws: DevicesAPIError.self) {
            try await harness.client(key: "update-only-SECRET-789").list(workspace: "acme")
        }
        #expect(error?.serviceMessage?.contains("lacks the required scope: device:read") == true)
        #expect(
            error?.description.contains("the API said: \"Unsupported get request.") == true,
            "\(String(describing: error))")
        #expect(error?.isAuthenticationProblem == true)

        let echoed = APIErrorBody(
            Data(
                #"{"error": {"message": "key ws-key-SECRET-123 rejected\r\nInjected: line", "type": "OAuthException"}}"#
                    .utf8))
        #expect(echoed.type == "OAuthException")
        #expect(echoed.message == "key ws-key-SECRET-123 rejected Injected: line")
        #expect(Secret("ws-key-SECRET-123").scrub(echoed.message ?? "").contains("SECRET") == false)
        #expect(APIErrorBody(Data(#"{"error": "Not authorized"}"#.utf8)).message == "Not authorized")
        let html = APIErrorBody(Data(("<html>" + String(repeating: "stack trace ", count: 1000) + "</html>").utf8))
        #expect((html.message?.utf8.count ?? 0) <= 1024)
        #expect(html.message?.hasSuffix("…") == true)
        #expect(APIErrorBody(Data()).message == nil)
        #expect(APIErrorBody(Data(#"{"error": {"message": "device not found"}}"#.utf8)).type == nil)
    }

    @Test func serverErrorsAreRetriedThenReported() async throws {
        try await harness.faults(#"{"error_rate": 1, "error_status": 503}"#)
        let error = await #expect(throws: DevicesAPIError.self) { try await harness.client().list(workspace: "acme") }
        #expect(error?.kind == .serverError(503))
        #expect(error?.attempts == 4)
        #expect(harness.sleeps.all.count == 3)
        // Full jitter: each wait is within its doubling cap (0.5s, 1s, 2s).
        for (index, wait) in harness.sleeps.all.enumerated() {
            #expect(wait >= .zero && wait <= .milliseconds(500) * (1 << index))
        }
    }

    @Test func intermittentServerErrorsRecover() async throws {
        try await harness.faults(#"{"error_rate": 0.5}"#)
        let client = harness.client(retry: RetryPolicy(maxAttempts: 30))
        for _ in 0..<10 {
            #expect(try await client.list(workspace: "acme").devices.count == 2)
        }
        #expect(!harness.sleeps.all.isEmpty)  // some attempts failed and were retried
    }

    @Test func rateLimitHonoursRetryAfter() async throws {
        try await harness.faults(#"{"rate_limit_every": 1, "retry_after": "7s"}"#)
        let error = await #expect(throws: DevicesAPIError.self) { try await harness.client().list(workspace: "acme") }
        #expect(error?.kind == .rateLimited)
        #expect(harness.sleeps.all == [.seconds(7), .seconds(7), .seconds(7)])

        try await harness.faults(#"{"rate_limit_every": 2, "retry_after": "2s"}"#)
        let result = try await harness.client().list(workspace: "acme")  // request 1 ok
        #expect(result.attempts == 1)
        let second = try await harness.client().list(workspace: "acme")  // request 2 is a 429, request 3 ok
        #expect(second.attempts == 2)
        #expect(harness.sleeps.all.last == .seconds(2))
    }

    @Test func retryAfterBeyondTheBudgetGivesUpAtOnce() async throws {
        try await harness.faults(#"{"rate_limit_every": 1, "retry_after": "10m"}"#)
        let error = await #expect(throws: DevicesAPIError.self) {
            try await harness.client(retry: RetryPolicy(maxAttempts: 5, maxTotal: .seconds(60))).list(workspace: "acme")
        }
        #expect(error?.kind == .rateLimited)
        #expect(error?.attempts == 1)
        #expect(harness.sleeps.all.isEmpty)
    }

    @Test func truncatedBodiesAreRetriedAndReportedAsConnectionLost() async throws {
        try await harness.faults(#"{"truncate_rate": 1}"#)
        let error = await #expect(throws: DevicesAPIError.self) { try await harness.client().list(workspace: "acme") }
        #expect(error?.kind == .transport(.connectionLost))
        #expect(error?.attempts == 4)
        try await harness.faults(#"{"truncate_rate": 0.5}"#)
        #expect(
            try await harness.client(retry: RetryPolicy(maxAttempts: 30)).list(workspace: "acme").devices.count == 2)
    }

    @Test func malformedBodiesAreRetriedAndReportedClearly() async throws {
        try await harness.faults(#"{"malformed_rate": 1}"#)
        let error = await #expect(throws: DevicesAPIError.self) { try await harness.client().list(workspace: "acme") }
        #expect(error?.kind == .invalidBody)
        #expect(error?.attempts == 4)
        #expect(error?.description.contains("could not be read") == true)
        try await harness.faults(#"{"malformed_rate": 0.5}"#)
        #expect(
            try await harness.client(retry: RetryPolicy(maxAttempts: 30)).list(workspace: "acme").devices.count == 2)
    }

    @Test func slowAnswersTimeOutAndAreRetried() async throws {
        try await harness.faults(#"{"latency": "2s"}"#)
        let error = await #expect(throws: DevicesAPIError.self) {
            try await harness.client(retry: RetryPolicy(maxAttempts: 2), timeout: .milliseconds(200)).list(
                workspace: "acme")
        }
        #expect(error?.kind == .transport(.timeout))
        #expect(error?.attempts == 2)
        #expect(error?.isRetryable == true)
    }

    @Test func unreachableAPIIsARetryableTransportError() async throws {
        let stopped = try await Harness.start()
        let url = stopped.server.baseURL
        await stopped.stop()
        let client = DevicesAPIClient(
            baseURL: url, apiKey: Secret("k-SECRET"), http: CurlHTTPClient(),
            retry: RetryPolicy(maxAttempts: 2), sleep: stopped.sleeps.sleep)
        let error = await #expect(throws: DevicesAPIError.self) { try await client.list(workspace: "acme") }
        #expect(error?.kind == .transport(.connect))
        #expect(error?.description.contains("could not reach") == true)
        #expect(error?.description.contains("SECRET") == false)
    }

    @Test func otherStatusesMapToTheirKinds() async throws {
        let statuses = Mutex<[Int]>([400, 418, 503, 200])
        let server = try await LoopbackServer.start { _, writer, _ in
            let status = statuses.withLock { $0.removeFirst() }
            let body = status == 200 ? #"{"data": [{"id": "x"}]}"# : "{}"
            try await writer.write(
                response: HTTPResponse(
                    status: .init(code: status), headerFields: [.contentLength: String(body.utf8.count)]),
                body: .init(byteBuffer: .init(string: body)))
        }
        defer { Task { await server.stop() } }
        let sleeps = RecordedSleeps()
        let client = DevicesAPIClient(
            baseURL: server.baseURL, apiKey: Secret("k"), http: CurlHTTPClient(), sleep: sleeps.sleep)
        let badRequest = await #expect(throws: DevicesAPIError.self) { try await client.list(workspace: "acme") }
        #expect(badRequest?.kind == .badRequest)
        let teapot = await #expect(throws: DevicesAPIError.self) { try await client.list(workspace: "acme") }
        #expect(teapot?.kind == .unexpectedStatus(418))
        let recovered = try await client.list(workspace: "acme")  // 503, then 200
        #expect(recovered.attempts == 2)
        #expect(recovered.apiDate == nil)  // this server sends no Date header
    }
}

@Suite("Secrets")
struct SecretTests {
    @Test func environmentAndFileSourcesResolveTrimmed() throws {
        #expect(
            try Configuration.SecretReference.environment("K").resolve(environment: ["K": " abc \n"]).exposedValue
                == "abc")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-key-\(UUID().uuidString)").path
        try "file-key\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Configuration.SecretReference.file(path).resolve().exposedValue == "file-key")
    }

    @Test func missingOrEmptySecretsSayWhereTheyWereLookedFor() {
        #expect(throws: SecretError.self) {
            try Configuration.SecretReference.environment("K").resolve(environment: [:])
        }
        #expect(throws: SecretError.self) {
            try Configuration.SecretReference.environment("K").resolve(environment: ["K": "  "])
        }
        #expect(throws: SecretError.self) { try Configuration.SecretReference.file("/nonexistent/dw-key").resolve() }
        do {
            _ = try Configuration.SecretReference.environment("ROBOFLOW_API_KEY").resolve(environment: [:])
        } catch {
            #expect(error.description == "environment variable ROBOFLOW_API_KEY is not set")
        }
    }

    @Test func secretsPrintRedacted() {
        let secret = Secret("hunter2")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(secret.scrub("key hunter2 seen") == "key <redacted> seen")
    }
}

@Suite("DeviceTable")
struct DeviceTableTests {
    @Test func rowsAreSortedByNameWithAgesAndASummary() {
        let now = Timestamp.parse("2026-11-28T12:00:00Z")!
        let devices = [
            Device(
                id: "b", name: "zeta", status: .offline, lastHeartbeat: now.addingTimeInterval(-7200),
                rfdmVersion: "1.4.0", type: "jetson",
                tags: ["site-a", "prod"]),
            Device(id: "a", name: "alpha", status: .online, lastHeartbeat: now.addingTimeInterval(-180)),
            Device(id: "c", name: nil, status: .unknown),
            Device(id: "d", name: "evil\u{1B}[31m", status: .other("rebooting")),
        ]
        let lines = DeviceTable.render(devices, now: now).split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        #expect(lines[0].hasPrefix("NAME"))
        #expect(lines[1].hasPrefix("alpha"))
        #expect(lines[1].contains("3m ago"))
        #expect(lines[2].hasPrefix("-    ") || lines[2].hasPrefix("- "))  // nameless device sorts by id
        #expect(lines.contains { $0.contains("never") })
        #expect(lines.contains { $0.hasPrefix("zeta") && $0.contains("2h ago") && $0.contains("site-a,prod") })
        #expect(!lines.joined().contains("\u{1B}"))
        #expect(lines.last == "4 devices: 1 online, 1 offline, 1 unknown, 1 rebooting")
    }
}
