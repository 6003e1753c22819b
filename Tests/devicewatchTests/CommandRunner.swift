import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

/// Runs the built `devicewatch` binary, as a user would.
enum CommandRunner {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String

        /// Expects `text` in stdout, and shows the whole of it when it is not there.
        func expectStdout(contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(stdout.contains(text), "\(stdout)", sourceLocation: sourceLocation)
        }
    }

    /// The `devicewatch` executable built beside the test bundle.
    static var binary: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                "devicewatch"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("devicewatch"),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(
                ".build/debug/devicewatch"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Runs to completion and captures both streams. The waiting is done on a dispatch thread,
    /// never on the test's cooperative pool (on 2 cores, two tests blocked there would stall every
    /// other test's servers and clients).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "ROBOFLOW_API_KEY")
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                // Read before waiting, so a full pipe never blocks the child.
                let stdout = out.fileHandleForReading.readDataToEndOfFile()
                let stderr = err.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(
                    returning: Output(
                        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                        stderr: String(decoding: stderr, as: UTF8.self)))
            }
        }
    }
}

final class SimulatorProcess {
    let process = Process()
    let baseURL: String
    private let stderr = Pipe()

    /// Never left running after its test, whatever the test did.
    deinit {
        if process.isRunning { process.terminate() }
    }

    /// - Parameter timeScale: 0 freezes the simulated clock (the default: tests move it by hand).
    init(scenario: String, timeScale: Double = 0) throws {
        process.executableURL = CommandRunner.binary
        process.arguments = ["simulate", "--scenario", scenario, "--port", "0", "--time-scale", String(timeScale)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = stderr
        try process.run()
        let text = firstLine(of: out)
        guard text.hasPrefix("listening on ") else {
            process.terminate()
            throw SimulatorStartError(firstLine: text)
        }
        baseURL = String(text.dropFirst("listening on ".count))
    }

    /// A simulator of this scenario (its JSON text), written to a temporary file.
    convenience init(json: String, timeScale: Double = 0) throws {
        try self.init(scenario: writeScenario(json), timeScale: timeScale)
    }

    /// A simulator of one workspace, `acme`, answering to `key`, whose clock starts at
    /// 2026-11-28T12:00:00Z; `devices` are the scenario's device objects, comma-separated.
    convenience init(acmeKey key: String, devices: String, timeScale: Double = 0) throws {
        try self.init(
            json: #"""
                {"start": "2026-11-28T12:00:00Z", "workspaces": {"acme": {"api_keys": [{"key": "\#(key)"}], "devices": [
                \#(devices)]}}}
                """#, timeScale: timeScale)
    }

    /// A worker's configuration polling this simulator's `acme` with the rules of `rules.json`;
    /// `members` are the rest of its top-level members (receivers, state, server, ...).
    func workerConfig(pollEvery: String = "1s", _ members: String) -> String {
        #"""
        {"api": {"base_url": "\#(baseURL)"}, "workspaces": [{"id": "acme", "poll_every": "\#(pollEvery)"}],
         "rule_files": ["rules.json"], \#(members)}
        """#
    }

    /// Moves the simulated clock on (`"20m"`); returns the admin API's HTTP status (200 when it moved).
    func advance(_ by: String, http: CurlHTTPClient) async throws -> Int {
        try await http.send(
            HTTPRequestSpec(method: "POST", url: baseURL + "/_sim/clock/advance", body: Data(#"{"by": "\#(by)"}"#.utf8))
        ).status
    }

    /// Sends SIGTERM and returns the exit status.
    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    struct SimulatorStartError: Error {
        var firstLine: String
    }
}

/// A scenario file written to a temporary directory.
func writeScenario(_ json: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-scenario-\(UUID().uuidString).json")
        .path
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
