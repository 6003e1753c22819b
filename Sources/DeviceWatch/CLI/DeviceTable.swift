import DeviceWatchCore
import Foundation

/// The `devicewatch devices` table: one row per device, sorted by name, and a summary line.
public enum DeviceTable {
    /// Renders devices as aligned columns.
    /// - Parameter now: the time ages are measured from (the API's clock when known).
    public static func render(_ devices: [Device], now: Date) -> String {
        let sorted = devices.sorted {
            ($0.displayName.lowercased(), $0.id) < ($1.displayName.lowercased(), $1.id)
        }
        var rows: [[String]] = [["NAME", "ID", "STATUS", "LAST HEARTBEAT", "RFDM", "TYPE", "TAGS"]]
        for device in sorted {
            rows.append([
                clean(device.name ?? "-"), clean(device.id), clean(device.status?.rawValue ?? "-"),
                device.lastHeartbeat.map { DurationText.age(seconds: now.timeIntervalSince($0)) + " ago" } ?? "never",
                clean(device.rfdmVersion ?? "-"), clean(device.type ?? "-"),
                device.tags.isEmpty ? "-" : clean(device.tags.joined(separator: ",")),
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            zip(row, widths).enumerated().map { index, cell in
                index == row.count - 1 ? cell.0 : cell.0.padding(toLength: cell.1, withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        lines.append("")
        lines.append(summary(devices))
        return lines.joined(separator: "\n")
    }

    /// `42 devices: 37 online, 3 offline, 2 unknown` (other statuses, when present, are listed too).
    public static func summary(_ devices: [Device]) -> String {
        var counts: [String: Int] = [:]
        for device in devices { counts[device.status?.rawValue ?? "no status", default: 0] += 1 }
        var parts = ["online", "offline", "unknown"].map { "\(counts.removeValue(forKey: $0) ?? 0) \($0)" }
        parts += counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        let noun = devices.count == 1 ? "device" : "devices"
        return "\(devices.count) \(noun): " + parts.joined(separator: ", ")
    }

    /// Device-controlled text must not move the cursor or colour the terminal.
    private static func clean(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}
