/// What a `group_by` entry may name, and the value it takes for an alert: `rule`, `workspace`,
/// `severity`, `device`, the device's `type`, `platform` or `architecture`, `label:NAME` (a rule
/// label), or `tag:PATTERN`: the device's tag that matches the glob (`tag:site-*` puts a device
/// tagged `site-b` in group `site-b`). A device without the fact, or with no matching tag, is in
/// the group `(none)`; with several matching tags, the first in sorted order.
public enum GroupKey {
    /// The entries without an argument.
    public static let plain = ["rule", "workspace", "severity", "device", "type", "platform", "architecture"]

    /// The value of a device fact that the device does not have.
    public static let none = "(none)"

    /// Whether `entry` is a `group_by` entry devicewatch knows.
    public static func isValid(_ entry: String) -> Bool {
        plain.contains(entry) || entry.hasPrefix("label:") && entry.count > 6
            || entry.hasPrefix("tag:") && entry.count > 4
    }

    /// The problem with an unknown entry, with the closest known one when there is one.
    public static func problem(_ entry: String) -> String {
        let hint = NameSuggestion.closest(to: entry, among: plain).map { "; did you mean \"\($0)\"?" } ?? ""
        return "group_by entries are rule, workspace, severity, device, type, platform, architecture, label:NAME "
            + "or tag:PATTERN; got \"\(entry)\"\(hint)"
    }

    /// The value `entry` takes for `alert`; nil for an entry devicewatch does not know. `globs`
    /// keeps each `tag:` pattern compiled once per planning pass.
    static func value(_ entry: String, _ alert: AlertInstance, globs: inout [String: Glob]) -> String? {
        switch entry {
        case "rule": return alert.key.ruleID
        case "workspace": return alert.key.workspace
        case "device": return alert.key.deviceID
        case "severity": return alert.severity.rawValue
        case "type": return nonEmpty(alert.device.type)
        case "platform": return nonEmpty(alert.device.platform)
        case "architecture": return nonEmpty(alert.device.architecture)
        default:
            if entry.hasPrefix("label:") { return alert.label(String(entry.dropFirst(6))) }
            guard entry.hasPrefix("tag:") else { return nil }
            let glob =
                globs[entry]
                ?? {
                    let compiled = Glob(String(entry.dropFirst(4)))
                    globs[entry] = compiled
                    return compiled
                }()
            return alert.device.tags.filter { glob.matches($0) }.min() ?? none
        }
    }

    private static func nonEmpty(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return none }
        return text
    }
}
