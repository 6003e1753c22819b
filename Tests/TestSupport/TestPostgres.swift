import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster for the tests, from Debian's `postgresql` package (which
/// `make test` installs): made once per test process in a temporary folder, listening on a free
/// loopback port, run as the `postgres` user when the tests run as root (the server refuses
/// root), and stopped and deleted when the process exits. Password authentication (SCRAM) over
/// TCP, as a real deployment has. Each store under test gets a database of its own.
public actor TestPostgres {
    public static let shared = TestPostgres()

    public struct Server: Sendable {
        public let bin: String
        public let folder: String
        public let port: Int
        public static let user = "devicewatch"
        /// Not a real secret: the throwaway cluster's role, which the tests look for in output.
        public static let password = "pw-4b1d-never-logged"

        public func url(database: String) -> String {
            "postgres://\(Self.user):\(Self.password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The one start, shared by every caller (the actor is reentrant while it runs).
    private var starting: Task<Server, any Error>?

    public func server() async throws -> Server {
        if starting == nil { starting = Task { try await Self.start() } }
        return try await starting!.value
    }

    /// A cluster of the caller's own (not the shared one), for a test that stops and starts its
    /// server: stopped and deleted at exit like the shared one.
    /// Its commits are durable across `stop` (`synchronous_commit=on`): the shared cluster trades
    /// that for speed, and a crash of it may forget the last commits, as no production server would.
    public static func privateServer() async throws -> Server { try await start(durable: true) }

    /// Stops a server at once (`immediate`: as a crash or a power cut would), keeping its data.
    public static func stop(_ server: Server) async throws {
        try await run(server.bin + "/pg_ctl", ["-D", server.folder + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// Starts a stopped server again, on its port.
    public static func restart(_ server: Server) async throws {
        try await run(
            server.bin + "/pg_ctl",
            [
                "-D", server.folder + "/data", "-l", server.folder + "/server.log", "-w", "-t", "60", "-o",
                options(port: server.port, folder: server.folder, durable: true), "start",
            ])
    }

    static func options(port: Int, folder: String, durable: Bool = false) -> String {
        "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=\(durable ? "on" : "off") "
            + "-c full_page_writes=off -c max_connections=200"
    }

    /// A new, empty database owned by the test role; its URL.
    public func newDatabase() async throws -> String {
        try await Self.newDatabase(on: try await server())
    }

    /// A new, empty database on `server`; its URL.
    public static func newDatabase(on server: Server) async throws -> String {
        let name = "dw_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await Self.psql(server, "CREATE DATABASE \(name) OWNER \(Server.user)")
        return server.url(database: String(name))
    }

    /// Runs SQL as the cluster's superuser over its socket.
    public static func psql(_ server: Server, _ sql: String, database: String = "postgres") async throws {
        try await run(
            server.bin + "/psql",
            [
                "-h", server.folder, "-p", "\(server.port)", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                "-q", "-c", sql,
            ])
    }

    private static func start(durable: Bool = false) async throws -> Server {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw Failure(
                description: "PostgreSQL is not installed (/usr/lib/postgresql/*/bin): `make test` installs Debian's "
                    + "postgresql package; or run apt-get install -y postgresql")
        }
        let bin = "/usr/lib/postgresql/\(version)/bin"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dw-pg-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 { try await run("/bin/chown", ["postgres:postgres", folder], asPostgres: false) }
        let data = folder + "/data"
        try await run(
            bin + "/initdb",
            [
                "-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                "-E", "UTF8", "--locale=C",
            ])
        let port = try LoopbackSocket.freePort()
        try await run(
            bin + "/pg_ctl",
            [
                "-D", data, "-l", folder + "/server.log", "-w", "-t", "60", "-o",
                options(port: port, folder: folder, durable: durable),
                "start",
            ])
        let server = Server(bin: bin, folder: folder, port: port)
        stopAtExit(bin: bin, data: data, folder: folder)
        try await psql(server, "CREATE ROLE \(Server.user) LOGIN CREATEDB PASSWORD '\(Server.password)'")
        return server
    }

    /// Runs a program (as `postgres` when root) on a thread of its own, never a cooperative one.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], asPostgres: Bool = true) async throws -> String {
        let argv =
            asPostgres && getuid() == 0
            ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments
            : [program] + arguments
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                // A file, not a pipe: the server pg_ctl starts inherits it and would hold a pipe open.
                let log = FileManager.default.temporaryDirectory.appendingPathComponent("dw-pg-run-\(UUID()).log").path
                defer { unlink(log) }
                let status = spawnAndWait(argv, output: log)
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                guard status == 0 else {
                    continuation.resume(
                        throwing: Failure(
                            description:
                                "\((program as NSString).lastPathComponent) failed (\(status)): \(text.suffix(2000))"
                        ))
                    return
                }
                continuation.resume(returning: text)
            }
        }
    }

    /// posix_spawn and waitpid: Foundation's Process left a child unreaped here (its SIGCHLD
    /// watcher never saw pg_ctl's runuser exit), so the tests wait for their own children.
    static func spawnAndWait(_ argv: [String], output: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Nothing else of the test process: tests run in parallel, and a pipe another test made
        // for its own child (not close-on-exec) would otherwise live on in the server pg_ctl
        // starts, and that test would wait for its end of file forever.
        // (glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift does not import.)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        } else {
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for fd in open.compactMap(Int32.init) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Swift does not import.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// What `atexit` stops: the clusters of this process.
private let clustersToStop = Mutex<[(bin: String, data: String, folder: String)]>([])

private func stopAtExit(bin: String, data: String, folder: String) {
    let first = clustersToStop.withLock { clusters in
        clusters.append((bin, data, folder))
        return clusters.count == 1
    }
    guard first else { return }
    atexit {
        for cluster in clustersToStop.withLock({ $0 }) {
            let stop = [cluster.bin + "/pg_ctl", "-D", cluster.data, "-m", "immediate", "-w", "stop"]
            _ = TestPostgres.spawnAndWait(
                getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + stop : stop, output: "/dev/null")
            try? FileManager.default.removeItem(atPath: cluster.folder)
        }
    }
}
