import Foundation

/// Mutes matching alerts for a while: they are tracked, not sent.
public struct Silence: Sendable, Equatable, Codable, TimedRecord {
    /// One condition on an alert; every matcher of a silence must hold.
    public struct Matcher: Sendable, Equatable, Codable, CustomStringConvertible {
        /// `rule`, `workspace`, `device`, `tag`, `severity` or `label:NAME`.
        public var name: String
        /// Exact text or a glob (`*`, `?`).
        public var pattern: String

        public init(name: String, pattern: String) {
            self.name = name
            self.pattern = pattern
        }

        public static let names = ["rule", "workspace", "device", "tag", "severity"]

        /// Parses `name=pattern`; nil with a reason when malformed.
        public static func parse(_ text: String) -> Result<Matcher, MatcherError> {
            guard let equals = text.firstIndex(of: "=") else {
                return .failure(
                    MatcherError(
                        text: text, problem: "expected NAME=PATTERN, e.g. rule=production-offline or tag=site-*"))
            }
            let name = String(text[..<equals]).trimmingCharacters(in: .whitespaces)
            let pattern = String(text[text.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            guard names.contains(name) || (name.hasPrefix("label:") && name.count > 6) else {
                let hint = NameSuggestion.closest(to: name, among: names).map { "; did you mean \"\($0)\"?" } ?? ""
                return .failure(
                    MatcherError(
                        text: text,
                        problem:
                            "unknown matcher \"\(name)\": use rule, workspace, device, tag, severity or label:NAME\(hint)"
                    ))
            }
            guard !pattern.isEmpty else { return .failure(MatcherError(text: text, problem: "the pattern is empty")) }
            return .success(Matcher(name: name, pattern: pattern))
        }

        func matches(_ alert: AlertInstance) -> Bool {
            let glob = Glob(pattern)
            switch name {
            case "rule": return glob.matches(alert.key.ruleID)
            case "workspace": return glob.matches(alert.key.workspace)
            case "device": return glob.matches(alert.key.deviceID)
            case "severity": return glob.matches(alert.severity.rawValue)
            case "tag": return alert.device.tags.contains(where: glob.matches)
            default:
                guard name.hasPrefix("label:"), let value = alert.label(String(name.dropFirst(6))) else { return false }
                return glob.matches(value)
            }
        }

        public var description: String { "\(name)=\(pattern)" }
    }

    public struct MatcherError: Error, Sendable, CustomStringConvertible {
        public var text: String
        public var problem: String
        public var description: String { "matcher \"\(text)\": \(problem)" }
    }

    public var id: String
    public var matchers: [Matcher]
    public var startsAt: Date
    public var endsAt: Date
    public var comment: String
    public var author: String
    public var createdAt: Date
    /// Names of `time_intervals`: the silence mutes only while one of them holds (a recurring
    /// maintenance window between its start and end); nil or empty: all the time.
    public var during: [String]?

    public init(
        id: String, matchers: [Matcher], startsAt: Date, endsAt: Date, comment: String, author: String, createdAt: Date,
        during: [String]? = nil
    ) {
        self.during = during?.isEmpty == true ? nil : during
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.comment = comment
        self.author = author
        self.createdAt = createdAt
    }

    public func isActive(at now: Date) -> Bool { startsAt <= now && now < endsAt }

    public func mutes(_ alert: AlertInstance, at now: Date) -> Bool {
        isActive(at: now) && !matchers.isEmpty && matchers.allSatisfy { $0.matches(alert) }
    }
}
