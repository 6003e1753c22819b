/// Why an alert resolved. The raw values are the words people read (logs, notifications, the
/// status page) and what the state store keeps.
public enum ResolveReason: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The condition stopped holding (after `keep_firing_for`).
    case recovered
    /// The device is no longer listed by the Devices API.
    case deviceRemoved = "device removed"
    /// The rule is no longer loaded.
    case ruleRemoved = "rule removed"
    /// The workspace is no longer configured.
    case workspaceRemoved = "workspace removed"
    /// devicewatch's own alert: the workspace can be polled again.
    case pollingRecovered = "polling recovered"

    public var description: String { rawValue }

    /// An unknown word from a newer version reads as `recovered`: the alert did resolve.
    public init(from decoder: any Decoder) throws {
        self = ResolveReason(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .recovered
    }
}
