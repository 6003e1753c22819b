import DeviceWatchCore
import Foundation
import Mustache

/// A receiver's own message text: a Mustache template file (`"template": "templates/NAME.mustache"`).
///
/// It sees `status`, `headline`, `title`, `severity`, `receiver`, `reason`, `firing` and `resolved`
/// (lists of alerts with `summary`, `description`, `severity`, `rule`, `workspace`, `device.name`,
/// `device.id`, `device.hostname`, `reasons`, `starts_at`, ...), `firing_count`, `resolved_count`,
/// `more_firing`, `more_resolved` and `external_url`. The template's own text is the receiver's
/// markup (Slack mrkdwn, Discord or Teams Markdown); every value from a device or the API is
/// escaped for that markup before the template sees it, so it stays inert.
public struct TemplateOverride: Sendable {
    public let path: String
    private let template: MustacheTemplate

    public init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TemplateError(path: path, problem: "cannot be read")
        }
        let text: String
        switch SourceText.decode(Array(data)) {
        case .success(let decoded): text = decoded
        case .failure(let invalid): throw TemplateError(path: path, problem: "is not UTF-8: \(invalid)")
        }
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw TemplateError(path: path, problem: "is not a valid Mustache template: \(error)")
        }
    }

    /// - Parameter escape: the receiver's escaping for device- and API-controlled values.
    func render(_ view: NotificationView, escaping escape: (String) -> String = { $0 }) throws -> String {
        template.render(view.templateValues(escaping: escape)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Renders against sample notifications (firing and resolved, 1 and 500 alerts), for `check`.
    public func check(rules: RuleSet) -> [String] {
        var problems: [String] = []
        for intent in SampleNotifications.all() {
            let text = (try? render(NotificationView(intent, context: RenderContext(rules: rules), limit: 20))) ?? ""
            if text.isEmpty {
                problems.append(
                    "\(path) renders an empty message for a \(intent.firing.isEmpty ? "resolved" : "firing") notification of \(intent.firing.count + intent.resolved.count) alerts"
                )
            }
        }
        return problems
    }
}

public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "template \(path) \(problem)" }
}

/// Sample notifications for `notify test` and template checks.
public enum SampleNotifications {
    public static func intent(receiver: String = "sample", firing: Int, resolved: Int, at now: Date = Date())
        -> NotificationIntent
    {
        func alert(_ index: Int, status: AlertInstance.State) -> AlertSnapshot {
            let key = AlertKey(
                workspace: "sample-workspace", ruleID: "devicewatch.sample", deviceID: "sample-device-\(index)")
            return AlertSnapshot(
                key: key,
                status: status,
                severity: .warning,
                labels: [
                    "rule": key.ruleID, "workspace": key.workspace, "device": key.deviceID, "severity": "warning",
                ],
                startsAt: now.addingTimeInterval(-900), endsAt: status == .resolved ? now : nil,
                resolveReason: status == .resolved ? "recovered" : nil,
                device: Device(
                    id: key.deviceID, name: "sample camera \(index)", status: .offline,
                    lastHeartbeat: now.addingTimeInterval(-1020),
                    hostname: "sample-host-\(index)", rfdmVersion: "1.4.0", type: "jetson", tags: ["sample"]),
                evaluatedAt: now, firstSeen: nil,
                message: status == .resolved
                    ? "sample camera \(index) is back (a devicewatch test notification)"
                    : "sample camera \(index) has been offline for 17m (a devicewatch test notification)")
        }
        return NotificationIntent(
            id: "sample-\(Int(now.timeIntervalSince1970))-\(firing)-\(resolved)", receiver: receiver,
            groupKey: "{rule=\"devicewatch.sample\"}",
            groupLabels: ["rule": "devicewatch.sample", "workspace": "sample-workspace"],
            firing: (0..<firing).map { alert($0, status: .firing) },
            resolved: (0..<resolved).map { alert($0 + firing, status: .resolved) },
            reason: firing > 0 ? .new : .resolved, createdAt: now)
    }

    public static func all() -> [NotificationIntent] {
        [
            intent(firing: 1, resolved: 0), intent(firing: 0, resolved: 1), intent(firing: 500, resolved: 0),
            intent(firing: 0, resolved: 500),
        ]
    }
}
