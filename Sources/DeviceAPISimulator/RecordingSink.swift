import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import Synchronization

/// A webhook receiver on loopback for tests and demos: records every request and answers as told.
public final class RecordingSink: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// The query string without its `?` (empty when there is none).
        public var query: String = ""
        /// Lowercased names.
        public var headers: [String: String]
        public var body: Data
        public var receivedAt: Date

        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    public let server: LoopbackServer
    private let box: StateBox

    public var url: String { server.baseURL + "/hook" }
    public var requests: [Request] { box.state.withLock { $0.requests } }

    private init(server: LoopbackServer, box: StateBox) {
        self.server = server
        self.box = box
    }

    /// Answer codes with a special meaning: close the connection without answering.
    public static let hangUp = 0
    /// Answer 200, but only after 3 seconds.
    public static let slow = -1
    /// Accept the request and answer nothing for 30 seconds (then 200): a receiver that hangs.
    public static let hang = -2

    /// - Parameters:
    ///   - statuses: answers to give in order (with a `Retry-After: 1` on a 429, or ``hangUp``,
    ///     ``slow``, ``hang``); 200 once they run out.
    ///   - headers: extra header fields on every answer (rate-limit headers, say).
    ///   - body: the body of every answer, as the service being stood in for answers (JSON is
    ///     sent as `application/json`); `ok` when nil.
    public static func start(statuses: [Int] = [], headers extra: [String: String] = [:], body answer: String? = nil)
        async throws -> RecordingSink
    {
        let box = StateBox(statuses: statuses)
        let server = try await LoopbackServer.start { request, writer, _ in
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024 * 1024)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let status = box.record(
                Request(
                    method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                    headers: headers,
                    body: Data(body.readableBytesView),
                    receivedAt: Date()))
            if status == RecordingSink.hangUp { throw HangUp() }
            if status == RecordingSink.slow { try await Task.sleep(for: .seconds(3)) }
            if status == RecordingSink.hang { try await Task.sleep(for: .seconds(30)) }
            let code = status < 0 ? 200 : status
            let text = answer ?? "ok"
            var fields: HTTPFields = [.contentLength: "\(text.utf8.count)"]
            if text.hasPrefix("{") { fields[.contentType] = "application/json" }
            if code == 429 { fields[.retryAfter] = "1" }
            for (name, value) in extra {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            try await writer.write(
                response: HTTPResponse(status: .init(code: code), headerFields: fields),
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return RecordingSink(server: server, box: box)
    }

    public func stop() async { await server.stop() }

    /// Waits (polling) until `condition` holds for the recorded requests, or `seconds` pass.
    public func wait(seconds: Double = 15, until condition: ([Request]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(requests) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition(requests)
    }
}

/// Thrown by the handler to drop the connection without an answer.
private struct HangUp: Error {}

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
