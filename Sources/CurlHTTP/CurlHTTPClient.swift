import Foundation

/// An async HTTP client over libcurl's multi interface.
///
/// One dedicated thread drives every transfer of a client, so hundreds of requests run at
/// once and reuse pooled connections. Redirects are never followed, only `http` and `https`
/// are allowed, and TLS peers and host names are always verified.
public final class CurlHTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// Most connections open to one host at a time; further requests wait for one to free up.
        public var maxConnectionsPerHost: Int
        /// How many idle connections the pool keeps for reuse.
        public var connectionCacheSize: Int

        public init(maxConnectionsPerHost: Int = 16, connectionCacheSize: Int = 64) {
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.connectionCacheSize = connectionCacheSize
        }
    }

    private let engine: MultiEngine

    public init(configuration: Configuration = .init()) {
        engine = MultiEngine(
            maxConnectionsPerHost: configuration.maxConnectionsPerHost,
            connectionCacheSize: configuration.connectionCacheSize)
    }

    deinit {
        engine.shutdown()
    }

    /// Sends a request and returns the response, whatever its status code.
    ///
    /// Cancelling the calling task aborts the transfer.
    /// - Throws: ``CurlHTTPError`` when no HTTP response was received.
    public func send(_ request: HTTPRequestSpec) async throws(CurlHTTPError) -> HTTPResponseData {
        try await run(try EasyTransfer(request))
    }

    /// Sends one message over SMTP (`smtp://` with STARTTLS, or `smtps://`) on the same engine.
    ///
    /// - Throws: ``CurlHTTPError``; a refusal is ``CurlHTTPError/Kind/refused`` with the server's
    ///   reply code, retryable when it is 4xx.
    public func sendMail(_ request: MailRequestSpec) async throws(CurlHTTPError) -> MailResponse {
        MailResponse(code: try await run(try EasyTransfer(mail: request)).status)
    }

    private func run(_ transfer: EasyTransfer) async throws(CurlHTTPError) -> HTTPResponseData {
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    transfer.continuation = continuation
                    if !engine.submit(transfer) {
                        transfer.continuation = nil
                        continuation.resume(
                            throwing: CurlHTTPError(
                                kind: Task.isCancelled ? .cancelled : .shutdown, redactedURL: transfer.redactedURL))
                    }
                }
            } onCancel: {
                engine.cancel(transfer)
            }
        } catch let error as CurlHTTPError {
            throw error
        } catch {
            throw CurlHTTPError(kind: .other, redactedURL: transfer.redactedURL, detail: "\(error)")
        }
    }

    /// Fails every transfer in flight and stops the client's thread. Later sends fail with `.shutdown`.
    public func shutdown() {
        engine.shutdown()
    }
}
