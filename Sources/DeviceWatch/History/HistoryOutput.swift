import DeviceWatchCore
import Foundation

/// The report's words: one shape of each report as JSON (the CLI's `--format json` and the ops
/// API's `/api/v1/availability` and `/api/v1/alerts/history` are the same), a table for people and
/// CSV for spreadsheets.
public enum HistoryOutput {
    public enum Format: String, Sendable, CaseIterable {
        case table, csv, json
    }

    // MARK: Availability

    public static func json(_ report: AvailabilityReport) -> JSONValue {
        var object: [String: JSONValue] = [
            "since": .string(Timestamp.format(report.window.start)),
            "until": .string(Timestamp.format(report.window.end)), "by": .string(report.grouping.description),
            "rows": .array(report.rows.map(json)), "total": json(report.total),
        ]
        object["target"] = report.target.map(JSONValue.number) ?? .null
        return .object(object)
    }

    static func json(_ row: AvailabilityReport.Row) -> JSONValue {
        let figures = row.figures
        var object: [String: JSONValue] = [
            "key": .string(row.key), "devices": .number(Double(row.devices)),
            "down_now": .number(Double(row.downNow)), "online_seconds": .number(figures.online.rounded()),
            "offline_seconds": .number(figures.offline.rounded()),
            "unknown_seconds": .number(figures.unknown.rounded()),
            "no_data_seconds": .number(figures.noData.rounded()), "outages": .number(Double(figures.outages)),
            "longest_outage_seconds": .number(figures.longestOutage.rounded()),
        ]
        object["availability"] = figures.availability.map(JSONValue.number) ?? .null
        object["mean_time_to_recover_seconds"] = figures.meanTimeToRecover.map { .number($0.rounded()) } ?? .null
        if let name = row.name { object["name"] = .string(name) }
        if let workspace = row.workspace { object["workspace"] = .string(workspace) }
        if let missed = row.missedTarget { object["missed_target"] = .bool(missed) }
        if !row.segments.isEmpty { object["segments"] = .array(row.segments.map { $0.map(JSONValue.number) ?? .null }) }
        return .object(object)
    }

    /// `99.52%`, or `no data`.
    public static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "no data" }
        if value == 1 { return "100%" }
        // Never rounds up to 100% what fell short of it. Digits by hand: thousands of tooltips
        // per status page, and String(format:) is the slowest part of drawing them.
        let hundredths = max(0, Int((value * 10_000).rounded(.down)))
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }

    public static func table(_ report: AvailabilityReport) -> String {
        let device = report.grouping == .device
        var header = [device ? "DEVICE" : report.grouping.description.uppercased()]
        if device { header += ["NAME", "WORKSPACE"] } else { header.append("DEVICES") }
        header += ["AVAILABILITY", "ONLINE", "OFFLINE", "UNKNOWN", "NO DATA", "OUTAGES", "LONGEST", "MTTR", "DOWN NOW"]
        if report.target != nil { header.append("TARGET") }
        func cells(_ row: AvailabilityReport.Row) -> [String] {
            let figures = row.figures
            var cells = [row.key]
            if device { cells += [row.name ?? "", row.workspace ?? ""] } else { cells.append("\(row.devices)") }
            cells += [
                percent(figures.availability), DurationText.format(seconds: figures.online),
                DurationText.format(seconds: figures.offline), DurationText.format(seconds: figures.unknown),
                DurationText.format(seconds: figures.noData), "\(figures.outages)",
                figures.outages > 0 ? DurationText.format(seconds: figures.longestOutage) : "-",
                figures.meanTimeToRecover.map { DurationText.format(seconds: $0) } ?? "-", "\(row.downNow)",
            ]
            if report.target != nil {
                cells.append(row.missedTarget == true ? "MISSED" : row.missedTarget == nil ? "-" : "met")
            }
            return cells
        }
        var lines = [header] + report.rows.map(cells)
        var total = cells(report.total)
        total[0] = "TOTAL"
        if device { total[1] = "\(report.total.devices) devices" }
        lines.append(total)
        let title =
            "Availability \(Timestamp.format(report.window.start)) to \(Timestamp.format(report.window.end)) (API clock)"
            + (report.target.map { ", target \(percent($0))" } ?? "")
            + (device ? "" : "; a group's times add up over its devices")
        return title + "\n" + aligned(lines)
    }

    public static func csv(_ report: AvailabilityReport) -> String {
        var lines = [
            [
                "key", "name", "workspace", "devices", "availability", "online_seconds", "offline_seconds",
                "unknown_seconds", "no_data_seconds", "outages", "longest_outage_seconds",
                "mean_time_to_recover_seconds", "down_now", "missed_target",
            ]
        ]
        for row in report.rows + [report.total] {
            let figures = row.figures
            lines.append([
                row.key, row.name ?? "", row.workspace ?? "", "\(row.devices)",
                figures.availability.map { String($0) } ?? "", seconds(figures.online), seconds(figures.offline),
                seconds(figures.unknown), seconds(figures.noData), "\(figures.outages)", seconds(figures.longestOutage),
                figures.meanTimeToRecover.map(seconds) ?? "", "\(row.downNow)",
                row.missedTarget.map { $0 ? "true" : "false" } ?? "",
            ])
        }
        return lines.map { $0.map(csvCell).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: Alerts

    public static func json(_ rows: [AlertHistoryRow], since: Date, until: Date) -> JSONValue {
        .object([
            "since": .string(Timestamp.format(since)), "until": .string(Timestamp.format(until)),
            "alerts": .array(rows.map { json($0, now: until) }),
        ])
    }

    static func json(_ row: AlertHistoryRow, now: Date) -> JSONValue {
        let episode = row.episode
        var object: [String: JSONValue] = [
            "rule": .string(episode.key.ruleID), "workspace": .string(episode.key.workspace),
            "device": .string(episode.key.deviceID), "severity": .string(episode.severity.rawValue),
            "fired_at": .string(Timestamp.format(episode.firedAt)),
            "duration_seconds": .number(episode.duration(at: now).rounded()),
            "state": .string(episode.resolvedAt == nil ? "firing" : "resolved"), "flapped": .bool(episode.flapped),
            "repeats": .number(Double(row.repeats)),
            "notified": .array(
                row.told.map {
                    .object([
                        "receiver": .string($0.receiver), "firing": .number(Double($0.firing)),
                        "resolved": .bool($0.resolved), "failed": .number(Double($0.failed)),
                        "pending": .number(Double($0.pending)),
                    ])
                }),
        ]
        object["resolved_at"] = episode.resolvedAt.map { .string(Timestamp.format($0)) } ?? .null
        object["resolve_reason"] = episode.resolveReason.map { .string($0.rawValue) } ?? .null
        object["subject"] = episode.subject.map(JSONValue.string) ?? .null
        if let message = episode.message { object["message"] = .string(message) }
        return .object(object)
    }

    public static func table(_ rows: [AlertHistoryRow], since: Date, until: Date) -> String {
        var lines = [["FIRED", "RULE", "DEVICE", "NAME", "SEVERITY", "FOR", "STATE", "NOTIFIED", "REPEATS"]]
        for row in rows {
            let episode = row.episode
            lines.append([
                Timestamp.format(episode.firedAt), episode.key.ruleID, episode.key.deviceID,
                episode.subject ?? "", episode.severity.rawValue,
                DurationText.format(seconds: episode.duration(at: until)),
                episode.resolvedAt == nil
                    ? (episode.flapped ? "firing (flapped)" : "firing")
                    : "resolved (\(episode.resolveReason?.rawValue ?? "recovered"))"
                        + (episode.flapped ? ", flapped" : ""),
                row.toldText, "\(row.repeats)",
            ])
        }
        let title =
            "Alerts \(Timestamp.format(since)) to \(Timestamp.format(until)) (API clock): \(rows.count) "
            + (rows.count == 1 ? "time an alert fired" : "times alerts fired")
        return rows.isEmpty ? title + "\n" : title + "\n" + aligned(lines)
    }

    public static func csv(_ rows: [AlertHistoryRow], until: Date) -> String {
        var lines = [
            [
                "fired_at", "resolved_at", "rule", "workspace", "device", "subject", "severity", "duration_seconds",
                "resolve_reason", "flapped", "notified", "repeats",
            ]
        ]
        for row in rows {
            let episode = row.episode
            lines.append([
                Timestamp.format(episode.firedAt), episode.resolvedAt.map(Timestamp.format) ?? "", episode.key.ruleID,
                episode.key.workspace, episode.key.deviceID, episode.subject ?? "", episode.severity.rawValue,
                seconds(episode.duration(at: until)), episode.resolveReason?.rawValue ?? "",
                episode.flapped ? "true" : "false", row.toldText, "\(row.repeats)",
            ])
        }
        return lines.map { $0.map(csvCell).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: Helpers

    static func seconds(_ value: Double) -> String { String(Int(value.rounded())) }

    /// A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break; a cell a
    /// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
    /// prefixed with `'`, so a device named `=HYPERLINK(...)` stays text.
    static func csvCell(_ text: String) -> String {
        var cell = text
        if let first = cell.first, "=+-@\t\r".contains(first), Double(cell) == nil { cell = "'" + cell }
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Columns padded to their widest cell (in characters), two spaces apart.
    static func aligned(_ lines: [[String]]) -> String {
        let safe = lines.map { $0.map(InertText.line) }
        var widths: [Int] = []
        for line in safe {
            for (index, cell) in line.enumerated() {
                if index == widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return safe.map { line in
            line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

extension HistoryOutput {
    /// `/api/v1/devices/ID/history`: the device's facts, its availability over the window, its
    /// timeline (status spans, no data apart), its status changes, and its alert episodes.
    public static func deviceJSON(_ history: FleetHistory, facts: KnownDevice, episodes: [AlertHistoryRow])
        -> JSONValue
    {
        let all = history.timelines()
        let blind = all.blind
        let timeline = all.devices.first {
            $0.facts.deviceID == facts.deviceID && $0.facts.workspace == facts.workspace
        }
        let spots = blind[facts.workspace] ?? []
        let report = AvailabilityReport.build(
            history, by: .device, workspace: facts.workspace, deviceID: facts.deviceID)
        let spans = StatusTimeline.spans(
            atStart: timeline?.atStart, changes: timeline.map { Array($0.changes) } ?? [], window: history.window,
            blind: spots)
        var device: [String: JSONValue] = [
            "id": .string(facts.deviceID), "workspace": .string(facts.workspace),
            "tags": .array(facts.tags.map(JSONValue.string)),
        ]
        device["name"] = facts.name.map(JSONValue.string) ?? .null
        device["type"] = facts.type.map(JSONValue.string) ?? .null
        device["platform"] = facts.platform.map(JSONValue.string) ?? .null
        return .object([
            "device": .object(device), "since": .string(Timestamp.format(history.window.start)),
            "until": .string(Timestamp.format(history.window.end)),
            "availability": report.rows.first.map(json) ?? json(report.total),
            "timeline": .array(
                spans.map {
                    .object([
                        "from": .string(Timestamp.format($0.interval.start)),
                        "until": .string(Timestamp.format($0.interval.end)), "status": .string($0.kind.rawValue),
                    ])
                }),
            "changes": .array(
                (timeline.map { Array($0.changes) } ?? []).map {
                    .object(["at": .string(Timestamp.format($0.at)), "status": .string($0.statusText)])
                }),
            "alerts": .array(episodes.map { json($0, now: history.window.end) }),
        ])
    }
}
