import DeviceAPISimulator
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import Synchronization

/// A webhook receiver in the test process: records every request and answers as told.
final class RecordingSink: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: Data

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    let server: LoopbackServer
    private let box: StateBox

    var url: String { server.baseURL + "/hook" }
    var requests: [Request] { box.state.withLock { $0.requests } }

    private init(server: LoopbackServer, box: StateBox) {
        self.server = server
        self.box = box
    }

    /// - Parameter statuses: answers to give in order; 200 once they run out.
    static func start(statuses: [Int] = []) async throws -> RecordingSink {
        let box = StateBox(statuses: statuses)
        let server = try await LoopbackServer.start { request, writer, _ in
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024 * 1024)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = box.record(Request(method: request.method.rawValue, path: request.uri.path, headers: headers, body: Data(body.readableBytesView)))
            try await writer.write(
                response: HTTPResponse(status: .init(code: status), headerFields: [.contentLength: "2"]),
                body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        return RecordingSink(server: server, box: box)
    }

    func stop() async { await server.stop() }

    /// Waits (polling) until `condition` holds for the recorded requests, or `seconds` pass.
    func wait(seconds: Double = 15, until condition: ([Request]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(requests) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition(requests)
    }
}

private final class StateBox: Sendable {
    let state: Mutex<(requests: [RecordingSink.Request], statuses: [Int])>

    init(statuses: [Int]) {
        state = Mutex(([], statuses))
    }

    func record(_ request: RecordingSink.Request) -> Int {
        state.withLock { state in
            state.requests.append(request)
            return state.statuses.isEmpty ? 200 : state.statuses.removeFirst()
        }
    }
}

/// `devicewatch run` in the background.
final class WorkerProcess {
    let process = Process()
    let stderr = Pipe()
    private let errorText = LogBuffer()

    init(config: String, environment: [String: String]) throws {
        process.executableURL = CommandRunner.binary
        process.arguments = ["run", "--config", config, "--log-level", "debug"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DEVICEWATCH_CRASH_AT")
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        let text = errorText
        stderr.fileHandleForReading.readabilityHandler = { handle in
            text.append(handle.availableData)
        }
        try process.run()
    }

    var log: String { errorText.text }

    /// Waits for the process to end by itself (a crash point) or `seconds`.
    func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func terminate() -> Int32? {
        if process.isRunning { process.terminate() }
        return waitForExit(seconds: 15)
    }
}

final class LogBuffer: Sendable {
    private let data = Mutex(Data())
    func append(_ more: Data) { data.withLock { $0.append(more) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}
