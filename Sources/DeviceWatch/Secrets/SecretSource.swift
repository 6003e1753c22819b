import Foundation

/// Where a secret comes from: an environment variable or a file, never the command line.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case environment(String)
    case file(String)

    public var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        }
    }

    /// Reads the secret; surrounding whitespace (a file's trailing newline) is dropped.
    /// - Parameter environment: the process environment, injectable for tests.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretError)
        -> Secret
    {
        let raw: String
        switch self {
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
    public let source: SecretSource
    public let problem: String

    public var description: String { "\(source) \(problem)" }
}
