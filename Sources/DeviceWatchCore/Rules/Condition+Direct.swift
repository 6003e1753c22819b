import Foundation

extension Condition {
    /// Evaluates the condition directly on one device: the plain reading of the rule language.
    ///
    /// Used for explanations (only for matches) and, in tests, as the reference the compiled
    /// evaluator must agree with; ``RuleSet/evaluate(workspace:devices:firstSeen:at:)`` never calls it.
    public func holds(for device: Device, at now: Date, firstSeen: Date? = nil) -> Bool {
        switch self {
        case .offlineFor(let age):
            guard let heartbeat = device.lastHeartbeat else { return false }
            return max(0, now.timeIntervalSince(heartbeat)) >= age.timeInterval
        case .unknownFor(let age):
            guard device.lastHeartbeat == nil, let since = device.createdAt ?? firstSeen else { return false }
            return max(0, now.timeIntervalSince(since)) >= age.timeInterval
        case .rfdmVersionBelow(let minimum):
            guard let version = device.rfdmVersion.flatMap(Version.init) else { return false }
            return version < minimum
        case .status(let statuses):
            guard let status = device.status else { return false }
            return statuses.contains(status.rawValue)
        case .tags(let filter):
            let matches = { (glob: Glob) in device.tags.contains(where: glob.matches) }
            return filter.allOf.allSatisfy(matches) && (filter.anyOf.isEmpty || filter.anyOf.contains(where: matches))
                && !filter.noneOf.contains(where: matches)
        case .field(let field, let patterns):
            guard let value = field.value(of: device) else { return false }
            return patterns.contains { $0.matches(value) }
        case .all(let parts):
            return parts.allSatisfy { $0.holds(for: device, at: now, firstSeen: firstSeen) }
        case .any(let parts):
            return parts.contains { $0.holds(for: device, at: now, firstSeen: firstSeen) }
        case .not(let inner):
            return !inner.holds(for: device, at: now, firstSeen: firstSeen)
        }
    }
}
