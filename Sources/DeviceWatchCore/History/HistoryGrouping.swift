import Foundation

/// How an availability report groups devices: `device` (one row each), `workspace`,
/// `tag:PATTERN` (the device's first tag matching the glob, e.g. `tag:site-*`), `type`,
/// `platform`, or `label:NAME` (the value of a tag written `NAME=VALUE` or `NAME:VALUE`, e.g.
/// `label:site` for tags such as `site=dock`). Devices without the fact fall in `(none)`.
public enum HistoryGrouping: Sendable, Equatable, CustomStringConvertible {
    case device
    case workspace
    case tag(Glob)
    case type
    case platform
    case label(String)

    /// What a device has none of the grouping's fact is grouped as.
    public static let none = "(none)"

    /// Parses `--by` / `history.group_by`; nil with what was wrong.
    public static func parse(_ text: String) -> Result<HistoryGrouping, HistoryGroupingError> {
        switch text {
        case "device": return .success(.device)
        case "workspace": return .success(.workspace)
        case "type": return .success(.type)
        case "platform": return .success(.platform)
        default:
            if text.hasPrefix("tag:"), text.count > 4 { return .success(.tag(Glob(String(text.dropFirst(4))))) }
            if text.hasPrefix("label:"), text.count > 6 { return .success(.label(String(text.dropFirst(6)))) }
            return .failure(HistoryGroupingError(text: text))
        }
    }

    public var description: String {
        switch self {
        case .device: "device"
        case .workspace: "workspace"
        case .tag(let glob): "tag:\(glob.pattern)"
        case .type: "type"
        case .platform: "platform"
        case .label(let name): "label:\(name)"
        }
    }

    /// The group a device is in.
    public func group(of device: KnownDevice) -> String {
        switch self {
        case .device: return device.deviceID
        case .workspace: return device.workspace
        case .tag(let glob): return device.tags.first(where: glob.matches) ?? Self.none
        case .type: return device.type ?? Self.none
        case .platform: return device.platform ?? Self.none
        case .label(let name):
            for tag in device.tags where tag.count > name.count + 1 && tag.hasPrefix(name) {
                let separator = tag[tag.index(tag.startIndex, offsetBy: name.count)]
                if separator == "=" || separator == ":" {
                    return String(tag[tag.index(tag.startIndex, offsetBy: name.count + 1)...])
                }
            }
            return Self.none
        }
    }
}

public struct HistoryGroupingError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var description: String {
        "cannot group by \"\(text)\": use device, workspace, type, platform, tag:PATTERN (e.g. tag:site-*) "
            + "or label:NAME (tags written NAME=VALUE or NAME:VALUE)"
    }
}
