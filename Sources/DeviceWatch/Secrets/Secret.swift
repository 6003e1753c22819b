/// A credential (API key, webhook URL, routing key) that prints as `<redacted>` everywhere.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; read it only to put it on the wire.
    public let exposedValue: String

    public init(_ value: String) {
        exposedValue = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// `text` with every occurrence of the secret replaced, for messages that may echo it back.
    public func scrub(_ text: String) -> String {
        exposedValue.isEmpty ? text : text.replacingOccurrences(of: exposedValue, with: "<redacted>")
    }
}
