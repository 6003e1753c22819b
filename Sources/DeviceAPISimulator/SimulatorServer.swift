import DeviceWatchCore
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore

/// Puts a ``DevicesAPISimulator`` on HTTP.
public enum SimulatorServer {
    /// Starts serving on `host:port` (port 0 picks a free port).
    public static func start(_ simulator: DevicesAPISimulator, host: String = "127.0.0.1", port: Int = 0) async throws
        -> LoopbackServer
    {
        try await LoopbackServer.start(host: host, port: port) { request, writer, _ in
            var request = request
            let body = try await request.collectBody(upTo: 16 * 1024 * 1024)
            let (path, query) = splitTarget(request.uri.string)
            let response = await simulator.respond(
                method: request.method.rawValue, path: path, query: query,
                authorization: request.headers[.authorization], body: Data(body.readableBytesView))
            try await write(response, date: response.date ?? simulator.now, to: writer)
        }
    }

    private static func write(_ response: SimulatorResponse, date: Date, to writer: consuming ResponseWriter)
        async throws
    {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        // The API's clock, which clients use as evaluation time.
        fields[.date] = HTTPDate.format(date)
        fields[.contentLength] = String(response.body.count)
        let head = HTTPResponse(status: .init(code: response.status), headerFields: fields)
        guard response.truncate else {
            try await writer.write(response: head, body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
            return
        }
        var bodyWriter = try await writer.writeHead(head)
        try await bodyWriter.write(ByteBuffer(bytes: response.body.prefix(response.body.count / 2)))
        // Throwing closes the connection mid-body, as a dropped upstream would.
        throw TruncatedOnPurpose()
    }

    /// Splits a request target into its path and decoded query parameters.
    static func splitTarget(_ target: String) -> (path: String, query: [(String, String)]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, []) }
        let path = String(target[..<mark])
        let query = target[target.index(after: mark)...].split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
        return (path, query)
    }

    private struct TruncatedOnPurpose: Error {}
}
