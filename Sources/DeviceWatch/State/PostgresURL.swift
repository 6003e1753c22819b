import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL connection URL (`postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=...`), read
/// into a client configuration. Its password never leaves it: ``redacted`` names the database
/// in errors, logs and `/readyz`.
struct PostgresURL: Sendable {
    let configuration: PostgresClient.Configuration
    /// The same, for one connection made alone: the store's first, which says precisely why a
    /// server cannot be used (the pool only retries).
    let probe: PostgresConnection.Configuration
    /// `postgres://HOST:PORT/DATABASE`: no user, no password, no query.
    let redacted: String

    /// The `sslmode`s understood, as libpq means them: `disable` (plain TCP), `prefer` (TLS when
    /// the server offers it, unverified; the default), `require` (TLS, unverified), `verify-ca`
    /// (TLS, the chain verified) and `verify-full` (the chain and the host name verified).
    /// `sslrootcert` names a PEM file of trusted roots (a private CA).
    static let sslModes = ["disable", "prefer", "require", "verify-ca", "verify-full"]

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(_ text: String) throws(Invalid) {
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            ["postgres", "postgresql"].contains(components.scheme ?? "")
        else {
            // Never quote it: the URL holds the password.
            throw Invalid(
                description: "the connection URL is not of the form postgres://USER:PASSWORD@HOST:5432/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid(description: "the connection URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "the connection URL names no user")
        }
        let port = components.port ?? 5432
        let database = String(components.path.drop { $0 == "/" })
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let mode = query["sslmode"] ?? "prefer"
        guard Self.sslModes.contains(mode) else {
            throw Invalid(
                description: "sslmode \"\(mode)\" is not one of \(Self.sslModes.joined(separator: ", "))")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case "verify-full": break
        case "verify-ca": tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        if let roots = query["sslrootcert"] {
            guard FileManager.default.isReadableFile(atPath: roots) else {
                throw Invalid(description: "sslrootcert \(roots) cannot be read")
            }
            tls.trustRoots = .file(roots)
        }
        let clientTLS: PostgresClient.Configuration.TLS
        let probeTLS: PostgresConnection.Configuration.TLS
        do {
            switch mode {
            case "disable":
                (clientTLS, probeTLS) = (.disable, .disable)
            case "prefer":
                (clientTLS, probeTLS) = (.prefer(tls), .prefer(try NIOSSLContext(configuration: tls)))
            default:
                (clientTLS, probeTLS) = (.require(tls), .require(try NIOSSLContext(configuration: tls)))
            }
        } catch {
            throw Invalid(description: "TLS cannot be set up: \(error)")
        }
        let name = database.isEmpty ? nil : database
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: components.password, database: name, tls: clientTLS)
        probe = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: components.password, database: name, tls: probeTLS)
        configuration.options.connectTimeout = .seconds(10)
        // Through PgBouncer in transaction mode too: nothing here relies on session state.
        configuration.options.maximumConnections = 8
        self.configuration = configuration
        redacted = "postgres://\(host):\(port)/\(database.isEmpty ? user : database)"
    }
}
