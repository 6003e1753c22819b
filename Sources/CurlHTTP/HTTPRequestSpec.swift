import Foundation

/// One HTTP request for ``CurlHTTPClient``.
public struct HTTPRequestSpec: Sendable {
    /// The request method; any token is allowed, `GET`, `POST`, `PUT`, `DELETE`, `HEAD` are the usual ones.
    public var method: String
    /// An absolute `http` or `https` URL.
    public var url: String
    public var headers: HTTPHeaderList
    public var body: Data?
    /// Longest time to establish the connection (DNS, TCP and TLS).
    public var connectTimeout: Duration
    /// Longest time for the whole transfer, connection included.
    public var totalTimeout: Duration
    /// A response body larger than this fails the transfer with ``CurlHTTPError/Kind/responseTooLarge``.
    public var maxResponseBytes: Int

    public init(
        method: String = "GET",
        url: String,
        headers: HTTPHeaderList = [:],
        body: Data? = nil,
        connectTimeout: Duration = .seconds(10),
        totalTimeout: Duration = .seconds(60),
        maxResponseBytes: Int = 512 * 1024 * 1024
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// The answer to an ``HTTPRequestSpec``: any status code is a response, not an error.
public struct HTTPResponseData: Sendable {
    public var status: Int
    public var headers: HTTPHeaderList
    public var body: Data
    /// How many new connections libcurl opened for this transfer (0 when a pooled one was reused).
    public var newConnections: Int = 0
}
