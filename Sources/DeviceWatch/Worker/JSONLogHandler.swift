import DeviceWatchCore
import Foundation
import Logging
import Synchronization

/// swift-log to standard error as one JSON object per line: `timestamp`, `level`, `label`,
/// `message` and the metadata, for log collectors.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let lock = Mutex(())

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message, explicit = event.metadata
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.member("timestamp", Timestamp.format(Date()))
        writer.member("level", level.rawValue)
        writer.member("label", label)
        writer.member("message", message.description)
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key })
        where !["timestamp", "level", "label", "message"].contains(key) {
            writer.member(key, "\(value)")
        }
        writer.endObject()
        var bytes = writer.bytes
        bytes.append(0x0A)
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(bytes)) }
    }
}
