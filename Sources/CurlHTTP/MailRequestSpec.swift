import Foundation

/// One message for ``CurlHTTPClient/sendMail(_:)``: SMTP over the same libcurl stack as HTTP.
public struct MailRequestSpec: Sendable {
    /// `smtp://host:port` (STARTTLS, required unless ``requireTLS`` is false) or `smtps://host:port`
    /// (TLS from the first byte).
    public var url: String
    /// The envelope sender (`MAIL FROM`): an address, without a display name.
    public var from: String
    /// The envelope recipients (`RCPT TO`).
    public var recipients: [String]
    public var username: String?
    public var password: String?
    /// Refuse to send unless the connection is encrypted (STARTTLS on `smtp://`); false only for
    /// a server on loopback.
    public var requireTLS: Bool
    /// A PEM file of certificate authorities to trust instead of the system's (a private CA).
    public var caFile: String?
    /// The whole message (RFC 5322 headers and body, CRLF line ends, dot-stuffing left to libcurl).
    public var message: Data
    public var connectTimeout: Duration
    public var totalTimeout: Duration

    public init(
        url: String, from: String, recipients: [String], username: String? = nil, password: String? = nil,
        requireTLS: Bool = true, caFile: String? = nil, message: Data, connectTimeout: Duration = .seconds(10),
        totalTimeout: Duration = .seconds(60)
    ) {
        self.url = url
        self.from = from
        self.recipients = recipients
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.caFile = caFile
        self.message = message
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }
}

/// A message the server accepted: its last reply code (250).
public struct MailResponse: Sendable {
    public var code: Int
}
