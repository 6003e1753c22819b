import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// An HTTP/1.1 server on a local address, used by the simulator and by loopback tests.
///
/// Built on HummingbirdCore's server directly (not `Application`) because the simulator
/// must send its own `Date` header from its own clock, which `Application` overwrites.
public final class LoopbackServer: Sendable {
    public typealias Handler = @Sendable (Request, consuming ResponseWriter, any Channel) async throws -> Void

    /// The host the server listens on.
    public let host: String
    /// The port the server listens on (the one it picked when asked for port 0).
    public let port: Int
    private let server: Server<HTTP1Channel>
    private let task: Task<Void, any Error>

    /// `http://host:port`, without a trailing slash.
    public var baseURL: String { "http://\(host):\(port)" }

    private init(host: String, port: Int, server: Server<HTTP1Channel>, task: Task<Void, any Error>) {
        self.host = host
        self.port = port
        self.server = server
        self.task = task
    }

    /// Starts a server and returns once it accepts connections.
    /// - Parameters:
    ///   - host: the address to bind, `127.0.0.1` unless told otherwise.
    ///   - port: the port to bind; 0 picks a free one.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        logger: Logger = Logger(label: "devicewatch.loopback", factory: { _ in SwiftLogNoOpLogHandler() }),
        handler: @escaping Handler
    ) async throws -> LoopbackServer {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int?.self)
        let server = Server(
            childChannelSetup: HTTP1Channel(responder: handler),
            configuration: ServerConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port)
                portContinuation.finish()
            },
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        )
        let task = Task {
            defer { portContinuation.finish() }
            try await server.run()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let boundPort = await iterator.next() ?? nil else {
            // The server failed before it bound: surface its error.
            try await task.value
            throw LoopbackServerError.notStarted(host: host, port: port)
        }
        return LoopbackServer(host: host, port: boundPort, server: server, task: task)
    }

    /// Waits until the server stops (after ``stop()`` or on failure).
    public func wait() async throws {
        try await task.value
    }

    /// Stops accepting, lets requests in flight finish, and closes the server.
    public func stop() async {
        try? await server.shutdownGracefully()
        _ = try? await task.value
    }
}

public enum LoopbackServerError: Error, CustomStringConvertible {
    case notStarted(host: String, port: Int)

    public var description: String {
        switch self {
        case .notStarted(let host, let port):
            "could not listen on \(host):\(port): the address may be in use or not local to this machine"
        }
    }
}
