import DeviceWatchCore
import Foundation

/// JSON lines appended to a file, one notification a line, synced to disk before it counts as
/// delivered: for debugging and for feeding other tools.
public struct FileReceiver: Receiver {
    public let name: String
    public let path: String
    public let rateLimit = Configuration.RateLimit(perSecond: 1000, burst: 1000)

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        let view = NotificationView(intent, context: context)
        let line = Line(
            id: intent.id, receiver: intent.receiver, status: view.isFiring ? "firing" : "resolved",
            reason: intent.reason.rawValue,
            groupKey: intent.groupKey, sentAt: Timestamp.format(now),
            alerts: (view.firing + view.resolved).map {
                .init(
                    status: $0.isFiring ? "firing" : "resolved", rule: $0.key.ruleID,
                    workspace: $0.key.workspace,
                    device: $0.device.id, severity: $0.severity.rawValue, summary: $0.summary,
                    fingerprint: $0.fingerprint, reasons: $0.reasons)
            })
        var encoded = try ReceiverJSON.encode(line)
        encoded.append(0x0A)
        let data = encoded
        let path = self.path
        return .local {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw TemplateError(path: path, problem: "cannot be opened for appending")
            }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
            try handle.synchronize()
        }
    }

    struct Line: Encodable {
        struct Alert: Encodable {
            var status, rule, workspace, device, severity, summary, fingerprint: String
            var reasons: [String]
        }

        var id, receiver, status, reason: String
        var groupKey: String
        var sentAt: String
        var alerts: [Alert]

        enum CodingKeys: String, CodingKey {
            case id, receiver, status, reason, alerts
            case groupKey = "group_key"
            case sentAt = "sent_at"
        }
    }
}
