import DeviceWatchCore
import Foundation

/// Human-readable notifications on standard output: for the demo and for debugging.
public struct ConsoleReceiver: Receiver {
    public let name: String
    public let rateLimit = Configuration.RateLimit(perSecond: 1000, burst: 1000)
    private let write: @Sendable (String) -> Void

    public init(
        name: String, write: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
    ) {
        self.name = name
        self.write = write
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        let text = Self.render(intent, context: context, at: now)
        let write = self.write
        return .local { write(text) }
    }

    /// Colours only for a terminal: piped output stays plain.
    static let colours = isatty(STDOUT_FILENO) == 1

    static func render(_ intent: NotificationIntent, context: RenderContext, at now: Date) -> String {
        var lines: [String] = []
        let firing = !intent.firing.isEmpty
        let state =
            colours
            ? (firing ? "\u{1B}[1;31mFIRING\u{1B}[0m" : "\u{1B}[1;32mRESOLVED\u{1B}[0m")
            : (firing ? "FIRING" : "RESOLVED")
        lines.append(
            "[\(Timestamp.format(now))] \(state) \(clean(intent.groupKey)) (\(intent.reason.rawValue)) -> \(intent.receiver)"
        )
        for alert in intent.firing.prefix(20) {
            let summary = clean(context.rules.withText(alert).summary)
            if let flapping = alert.flapping {
                lines.append(
                    "  ~ \(alert.severity.rawValue.uppercased()) \(summary) (flapping: \(flapping.changes) changes; "
                        + "no page per flip until it is stable)")
            } else {
                lines.append("  ! \(alert.severity.rawValue.uppercased()) \(summary)")
            }
            if let acknowledged = alert.acknowledgement { lines.append("    \(clean(acknowledged.text))") }
        }
        if intent.firing.count > 20 { lines.append("  ... and \(intent.firing.count - 20) more firing") }
        for alert in intent.resolved.prefix(20) {
            lines.append(
                "  ✓ \(clean(context.rules.withText(alert).summary)) (\(clean(alert.resolveReason ?? "recovered")))"
            )
        }
        if intent.resolved.count > 20 { lines.append("  ... and \(intent.resolved.count - 20) more resolved") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Device-controlled text must not move the cursor or colour the terminal.
    static func clean(_ text: String) -> String {
        let text = InertText.line(text)
        return String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}
