import DeviceAPISimulator
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import Synchronization

/// A loopback server with a few behaviours for client tests, counting the connections it accepts.
final class TestServer: Sendable {
    let server: LoopbackServer
    private let counter: ConnectionCounter

    var baseURL: String { server.baseURL }
    var connectionCount: Int { counter.count }

    static func start() async throws -> TestServer {
        let counter = ConnectionCounter()
        let server = try await LoopbackServer.start { request, writer, channel in
            counter.record(channel)
            try await TestServer.respond(to: request, writer: writer)
        }
        return TestServer(server: server, counter: counter)
    }

    private init(server: LoopbackServer, counter: ConnectionCounter) {
        self.server = server
        self.counter = counter
    }

    func stop() async { await server.stop() }

    /// A test that holds one for its whole run (a suite's property) need not stop it.
    deinit {
        Task { [server] in await server.stop() }
    }

    private static func respond(to request: Request, writer: consuming ResponseWriter) async throws {
        var request = request
        let query = request.uri.queryParameters
        switch request.uri.path {
        case "/echo":
            let body = try await request.collectBody(upTo: 64 * 1024 * 1024)
            var fields = HTTPFields()
            fields[.contentType] = "application/octet-stream"
            fields[HTTPField.Name("X-Method")!] = request.method.rawValue
            fields[HTTPField.Name("X-Seen-Token")!] = request.headers[HTTPField.Name("X-Token")!] ?? "-"
            fields[HTTPField.Name("X-Body-Length")!] = String(body.readableBytes)
            fields[.contentLength] = String(body.readableBytes)
            try await writer.write(
                response: HTTPResponse(status: .ok, headerFields: fields), body: .init(byteBuffer: body))
        case "/big":
            let megabytes = Int(query["mb"].map(String.init) ?? "1") ?? 1
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 1024 * 1024)
            var fields = HTTPFields()
            fields[.contentLength] = String(megabytes * 1024 * 1024)
            var bodyWriter = try await writer.writeHead(HTTPResponse(status: .ok, headerFields: fields))
            for _ in 0..<megabytes { try await bodyWriter.write(chunk) }
            try await bodyWriter.finish(nil)
        case "/slow":
            let milliseconds = Int(query["ms"].map(String.init) ?? "1000") ?? 1000
            try? await Task.sleep(for: .milliseconds(milliseconds))
            try await writer.write(
                response: HTTPResponse(status: .ok, headerFields: [.contentLength: "4"]),
                body: .init(byteBuffer: ByteBuffer(string: "slow")))
        case "/redirect":
            try await writer.write(
                response: HTTPResponse(status: .found, headerFields: [.location: "/echo", .contentLength: "0"]),
                body: .init())
        case "/status":
            let code = Int(query["code"].map(String.init) ?? "200") ?? 200
            try await writer.write(
                response: HTTPResponse(status: .init(code: code), headerFields: [.contentLength: "0"]),
                body: .init())
        default:
            try await writer.write(
                response: HTTPResponse(status: .notFound, headerFields: [.contentLength: "0"]), body: .init())
        }
    }
}

final class ConnectionCounter: Sendable {
    /// Channels are kept (not just their identifiers) so a closed one's address is never counted twice.
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func record(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    var count: Int { channels.withLock { $0.count } }
}
