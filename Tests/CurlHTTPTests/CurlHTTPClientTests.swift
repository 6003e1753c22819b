import CurlHTTP
import Foundation
import Glibc
import TestSupport
import Testing

@Suite("CurlHTTPClient")
struct CurlHTTPClientTests {
    /// This test's own loopback server, stopped when the test ends.
    let server: TestServer

    init() async throws {
        server = try await TestServer.start()
    }

    @Test func getReturnsStatusHeadersAndBody() async throws {
        let client = CurlHTTPClient()
        let response = try await client.send(
            HTTPRequestSpec(url: server.baseURL + "/echo", headers: ["X-Token": "abc"]))
        #expect(response.status == 200)
        #expect(response.headers["x-method"] == "GET")
        #expect(response.headers["X-SEEN-TOKEN"] == "abc")
        #expect(response.headers["Content-Type"] == "application/octet-stream")
        #expect(response.body.isEmpty)
    }

    @Test func postSendsBodyAndHeaders() async throws {
        let client = CurlHTTPClient()
        let payload = Data("{\"hello\":\"world\"}".utf8)
        let response = try await client.send(
            HTTPRequestSpec(
                method: "POST", url: server.baseURL + "/echo",
                headers: ["Content-Type": "application/json", "X-Token": "t-1"], body: payload))
        #expect(response.status == 200)
        #expect(response.headers["X-Method"] == "POST")
        #expect(response.headers["X-Seen-Token"] == "t-1")
        #expect(response.body == payload)
    }

    @Test func putAndDeleteUseTheirMethods() async throws {
        let client = CurlHTTPClient()
        let put = try await client.send(
            HTTPRequestSpec(method: "PUT", url: server.baseURL + "/echo", body: Data("x".utf8)))
        #expect(put.headers["X-Method"] == "PUT")
        #expect(put.body == Data("x".utf8))
        let delete = try await client.send(HTTPRequestSpec(method: "DELETE", url: server.baseURL + "/echo"))
        #expect(delete.headers["X-Method"] == "DELETE")
        let emptyPost = try await client.send(HTTPRequestSpec(method: "POST", url: server.baseURL + "/echo"))
        #expect(emptyPost.headers["X-Method"] == "POST")
        #expect(emptyPost.headers["X-Body-Length"] == "0")
    }

    @Test func nonSuccessStatusIsAResponseNotAnError() async throws {
        let response = try await CurlHTTPClient().send(HTTPRequestSpec(url: server.baseURL + "/status?code=503"))
        #expect(response.status == 503)
    }

    @Test func fiftyMegabyteBodyArrivesWhole() async throws {
        let response = try await CurlHTTPClient().send(HTTPRequestSpec(url: server.baseURL + "/big?mb=50"))
        #expect(response.status == 200)
        #expect(response.body.count == 50 * 1024 * 1024)
        #expect(response.body.allSatisfy { $0 == UInt8(ascii: "x") })
    }

    @Test func fiftyMegabyteUploadArrivesWhole() async throws {
        let payload = Data(repeating: 7, count: 50 * 1024 * 1024)
        let response = try await CurlHTTPClient().send(
            HTTPRequestSpec(method: "POST", url: server.baseURL + "/echo", body: payload))
        #expect(response.headers["X-Body-Length"] == String(payload.count))
        #expect(response.body == payload)
    }

    @Test func responseOverTheLimitFailsClearly() async throws {
        let error = await #expect(throws: CurlHTTPError.self) {
            try await CurlHTTPClient().send(
                HTTPRequestSpec(url: server.baseURL + "/big?mb=3", maxResponseBytes: 1024 * 1024))
        }
        #expect(error?.kind == .responseTooLarge)
        #expect(error?.isRetryable == false)
    }

    @Test func twoHundredConcurrentRequestsReuseConnections() async throws {
        let client = CurlHTTPClient(configuration: .init(maxConnectionsPerHost: 8))
        let url = server.baseURL + "/echo"
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await client.send(
                        HTTPRequestSpec(
                            method: "POST", url: url, body: Data("\(index)".utf8))
                    ).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 200)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(server.connectionCount <= 8)
        #expect(server.connectionCount >= 1)
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        let client = CurlHTTPClient()
        var opened = 0
        for _ in 0..<10 {
            opened += try await client.send(HTTPRequestSpec(url: server.baseURL + "/echo")).newConnections
        }
        #expect(opened == 1)
        #expect(server.connectionCount == 1)
    }

    @Test func redirectIsReturnedNotFollowed() async throws {
        let response = try await CurlHTTPClient().send(HTTPRequestSpec(url: server.baseURL + "/redirect"))
        #expect(response.status == 302)
        #expect(response.headers["Location"] == "/echo")
    }

    @Test func totalTimeoutFailsAsRetryableTimeout() async throws {
        let client = CurlHTTPClient()
        let error = await #expect(throws: CurlHTTPError.self) {
            try await client.send(
                HTTPRequestSpec(url: server.baseURL + "/slow?ms=3000", totalTimeout: .milliseconds(200)))
        }
        #expect(error?.kind == .timeout)
        #expect(error?.isRetryable == true)
        // Also on a reused connection, where libcurl reports no connect time.
        _ = try await client.send(HTTPRequestSpec(url: server.baseURL + "/echo"))
        let reused = await #expect(throws: CurlHTTPError.self) {
            try await client.send(
                HTTPRequestSpec(url: server.baseURL + "/slow?ms=3000", totalTimeout: .milliseconds(200)))
        }
        #expect(reused?.kind == .timeout)
    }

    @Test func connectTimeoutFailsAsConnectTimeout() async throws {
        // A listener whose accept queue is full drops new SYNs, so connecting hangs.
        let listener = try FullBacklogListener()
        defer { listener.close() }
        let error = await #expect(throws: CurlHTTPError.self) {
            try await CurlHTTPClient().send(
                HTTPRequestSpec(
                    url: "http://127.0.0.1:\(listener.port)/", connectTimeout: .milliseconds(300),
                    totalTimeout: .seconds(5)))
        }
        #expect(error?.kind == .connectTimeout)
        #expect(error?.isRetryable == true)
    }

    @Test func refusedConnectionIsARetryableConnectError() async throws {
        let port = try unusedPort()
        let error = await #expect(throws: CurlHTTPError.self) {
            try await CurlHTTPClient().send(HTTPRequestSpec(url: "http://127.0.0.1:\(port)/x"))
        }
        #expect(error?.kind == .connect)
        #expect(error?.isRetryable == true)
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        let client = CurlHTTPClient()
        let task = Task {
            try await client.send(HTTPRequestSpec(url: server.baseURL + "/slow?ms=30000", totalTimeout: .seconds(60)))
        }
        // The transfer has started: the server has the request (and will not answer for 30 s).
        let deadline = ContinuousClock.now + .seconds(10)
        while server.connectionCount == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.connectionCount == 1, "the request never reached the server")
        let cancelled = ContinuousClock.now
        task.cancel()
        let result = await task.result
        guard case .failure(let error as CurlHTTPError) = result else {
            Issue.record("expected a cancellation error, got \(result)")
            return
        }
        #expect(error.kind == .cancelled)
        // Aborted, not waited out: far sooner than the server's 30 s.
        #expect(cancelled.duration(to: .now) < .seconds(15))
        // The client keeps working after a cancellation.
        #expect(try await client.send(HTTPRequestSpec(url: server.baseURL + "/echo")).status == 200)
    }

    @Test func alreadyCancelledTaskNeverStartsTheTransfer() async throws {
        let client = CurlHTTPClient()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.send(HTTPRequestSpec(url: server.baseURL + "/echo"))
        }
        let result = await task.result
        guard case .failure(let error as CurlHTTPError) = result else {
            Issue.record("expected a cancellation error, got \(result)")
            return
        }
        #expect(error.kind == .cancelled)
        #expect(server.connectionCount == 0)
    }

    @Test func onlyHTTPAndHTTPSAreAllowed() async throws {
        for url in ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"] {
            let error = await #expect(throws: CurlHTTPError.self) {
                try await CurlHTTPClient().send(HTTPRequestSpec(url: url))
            }
            #expect(error?.kind == .unsupportedProtocol)
        }
    }

    @Test func errorsNeverShowCredentialsOrQuery() async throws {
        let port = try unusedPort()
        let error = await #expect(throws: CurlHTTPError.self) {
            try await CurlHTTPClient().send(
                HTTPRequestSpec(url: "http://user:hunter2@127.0.0.1:\(port)/hook/T000/B000?api_key=sekrit-123"))
        }
        let text = String(describing: error)
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("sekrit-123"))
        #expect(!text.contains("user:"))
        #expect(text.contains("127.0.0.1"))
    }

    @Test func redactURLDropsUserInfoQueryAndFragment() {
        #expect(redactURL("https://u:p@example.com:8443/a/b?k=v#frag") == "https://example.com:8443/a/b")
        #expect(redactURL("not a url") == "<invalid URL>")
    }

    @Test func headerLookupIsCaseInsensitive() {
        var headers: HTTPHeaderList = ["Retry-After": "3"]
        headers.add(name: "set-cookie", value: "a")
        headers.add(name: "Set-Cookie", value: "b")
        #expect(headers["retry-after"] == "3")
        #expect(headers["RETRY-AFTER"] == "3")
        #expect(headers.values(for: "SET-COOKIE") == ["a", "b"])
        #expect(headers["Retry-Afte"] == nil)
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, read, then closed).
/// A loopback port nothing listens on.
func unusedPort() throws -> Int { try LoopbackSocket.freePort() }

/// A TCP socket on 127.0.0.1 that never accepts, with its accept queue filled so further connects hang.
final class FullBacklogListener {
    let fd: Int32
    let port: Int
    private var fillers: [Int32] = []

    init() throws {
        let bound = try LoopbackSocket()
        fd = bound.fd
        port = bound.port
        var address = bound.address
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        Glibc.listen(fd, 0)
        // Fill the accept queue; these connects complete (or stay pending) without anyone accepting.
        for _ in 0..<4 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) }
            }
            fillers.append(filler)
        }
        usleep(50_000)
    }

    func close() {
        for filler in fillers { Glibc.close(filler) }
        Glibc.close(fd)
    }
}
