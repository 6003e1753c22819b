import Foundation
import Glibc

/// A TCP socket bound to 127.0.0.1 on a port the kernel picked, not yet listening.
public struct LoopbackSocket {
    public let fd: Int32
    public let port: Int
    /// Where it is bound, for `connect`.
    public let address: sockaddr_in

    /// - Throws: `POSIXError` when no socket could be made or bound.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.fd = fd
        self.address = address
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port that was free a moment ago (the socket that held it is closed).
    public static func freePort() throws -> Int {
        let socket = try LoopbackSocket()
        close(socket.fd)
        return socket.port
    }
}
