/// A condition on one device, as written in a rule's `where` or `when` (named Condition, not
/// Predicate, to stay clear of Foundation's `Predicate`).
public indirect enum Condition: Sendable, Equatable {
    /// The device has heartbeated, and its last heartbeat is at least this old.
    case offlineFor(Duration)
    /// The device never heartbeated and was created (or first seen) at least this long ago.
    case unknownFor(Duration)
    /// The device's rfdm version parses and is below this one.
    case rfdmVersionBelow(Version)
    /// The device's status is one of these.
    case status([String])
    case tags(TagFilter)
    /// A device field matches one of these patterns.
    case field(DeviceField, [Glob])
    case all([Condition])
    case any([Condition])
    case not(Condition)
}

/// `tags: {all_of, any_of, none_of}`; each entry exact or a glob.
public struct TagFilter: Sendable, Equatable {
    public var allOf: [Glob]
    public var anyOf: [Glob]
    public var noneOf: [Glob]

    public init(allOf: [Glob] = [], anyOf: [Glob] = [], noneOf: [Glob] = []) {
        self.allOf = allOf
        self.anyOf = anyOf
        self.noneOf = noneOf
    }
}

/// The device fields a rule can match by string or glob.
public enum DeviceField: String, Sendable, CaseIterable {
    case id, name, hostname, type, platform, architecture

    func value(of device: Device) -> String? {
        switch self {
        case .id: device.id
        case .name: device.name
        case .hostname: device.hostname
        case .type: device.type
        case .platform: device.platform
        case .architecture: device.architecture
        }
    }
}

extension Condition {
    /// The predicate in the words a person reads in an explanation.
    public var summary: String {
        switch self {
        case .offlineFor(let age): "offline for at least \(DurationText.format(age))"
        case .unknownFor(let age): "never checked in for at least \(DurationText.format(age))"
        case .rfdmVersionBelow(let version): "rfdm version below \(version)"
        case .status(let statuses): "status is \(statuses.joined(separator: " or "))"
        case .tags(let filter):
            ([
                filter.allOf.isEmpty ? nil : "tags include \(filter.allOf.map(\.pattern).joined(separator: " and "))",
                filter.anyOf.isEmpty
                    ? nil : "tags include one of \(filter.anyOf.map(\.pattern).joined(separator: ", "))",
                filter.noneOf.isEmpty
                    ? nil : "tags include none of \(filter.noneOf.map(\.pattern).joined(separator: ", "))",
            ]
            .compactMap { $0 }).joined(separator: "; ")
        case .field(let field, let patterns):
            "\(field.rawValue) matches \(patterns.map { "\"\($0.pattern)\"" }.joined(separator: " or "))"
        case .all(let parts): parts.map(\.summary).joined(separator: " and ")
        case .any(let parts): "(" + parts.map(\.summary).joined(separator: " or ") + ")"
        case .not(let inner): "not (\(inner.summary))"
        }
    }
}
