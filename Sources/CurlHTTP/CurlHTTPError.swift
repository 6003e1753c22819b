import Foundation

/// A transfer that produced no HTTP response: what failed, for which (redacted) URL, and whether retrying may help.
public struct CurlHTTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidURL = "invalid URL"
        case unsupportedProtocol = "protocol not allowed (only http and https)"
        case resolve = "could not resolve host"
        case connect = "could not connect"
        case connectTimeout = "connect timed out"
        case timeout = "request timed out"
        case tls = "TLS failure"
        case connectionLost = "connection lost"
        case responseTooLarge = "response too large"
        /// A mail server refused the message (its reply code in ``CurlHTTPError/serverCode``).
        case refused = "server refused"
        /// A mail server refused the username and password.
        case loginDenied = "login denied"
        case cancelled = "cancelled"
        case shutdown = "client shut down"
        case other = "transfer failed"

        /// Whether the network failed in a way that may pass: a later try may get through. (A
        /// refused mail is judged by its reply code: see ``CurlHTTPError/isRetryable``.)
        public var isTransient: Bool {
            switch self {
            case .resolve, .connect, .connectTimeout, .timeout, .connectionLost: true
            case .invalidURL, .unsupportedProtocol, .tls, .responseTooLarge, .refused, .loginDenied, .cancelled,
                .shutdown, .other:
                false
            }
        }
    }

    public let kind: Kind
    /// The URL without credentials, query string or fragment.
    public let redactedURL: String
    /// libcurl's detail, scrubbed of anything the redacted URL leaves out.
    public let detail: String
    /// libcurl's result code, when the error came from libcurl.
    public let curlCode: Int?
    /// A mail server's last reply code (`451`, `550`), when it answered before the failure.
    public let serverCode: Int?

    public init(kind: Kind, redactedURL: String, detail: String = "", curlCode: Int? = nil, serverCode: Int? = nil) {
        self.kind = kind
        self.redactedURL = redactedURL
        self.detail = detail
        self.curlCode = curlCode
        self.serverCode = serverCode
    }

    /// Whether the same request may succeed if tried again later.
    public var isRetryable: Bool {
        // SMTP's 4xx is "try again later" (greylisting, a full queue); 5xx is for good.
        kind == .refused ? (400..<500).contains(serverCode ?? 500) : kind.isTransient
    }

    public var description: String {
        detail.isEmpty ? "\(kind.rawValue): \(redactedURL)" : "\(kind.rawValue): \(detail) (\(redactedURL))"
    }
}

/// Removes user info, query and fragment from a URL so it can appear in errors and logs.
public func redactURL(_ url: String) -> String {
    guard var components = URLComponents(string: url), components.host != nil else {
        // Not parseable: keep the scheme and nothing that could carry a secret.
        if let schemeEnd = url.range(of: "://") {
            return String(url[..<schemeEnd.upperBound]) + "…"
        }
        return "<invalid URL>"
    }
    components.user = nil
    components.password = nil
    components.query = nil
    components.fragment = nil
    return components.string ?? "<invalid URL>"
}
