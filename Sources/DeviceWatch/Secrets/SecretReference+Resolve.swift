import DeviceWatchCore
import Foundation

/// Where a secret comes from (`api_key_env`, `url_file`, ...): an environment variable or a file,
/// never the command line; a literal value only with `allow_inline_secrets`.
extension Configuration.SecretReference {
    /// Reads the secret; surrounding whitespace (a file's trailing newline) is dropped. A relative
    /// file is read from the working directory (``LoadedConfiguration/secret(_:)`` reads it from the
    /// configuration's folder).
    /// - Parameter environment: the process environment, injectable for tests.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretError)
        -> Secret
    {
        let raw: String
        switch self {
        case .inline(let value): return Secret(value)
        case .environment(let name):
            guard let value = environment[name] else { throw SecretError(source: self, problem: "is not set") }
            raw = value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SecretError(source: self, problem: "cannot be read (does it exist, and may this user read it?)")
            }
            raw = String(decoding: data, as: UTF8.self)
        }
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw SecretError(source: self, problem: "is empty") }
        return Secret(value)
    }
}

/// A secret that could not be read. Says where it was looked for, never what it contains.
public struct SecretError: Error, Sendable, CustomStringConvertible {
    public let source: Configuration.SecretReference
    public let problem: String

    public var description: String { "\(source) \(problem)" }
}
