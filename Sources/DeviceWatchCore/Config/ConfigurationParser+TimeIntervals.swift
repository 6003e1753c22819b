import Foundation

/// `time_intervals`: `{"nightly-reboots": [{"weekdays": ["monday:friday"], "times": [{"start":
/// "02:00", "end": "03:30"}], "time_zone": "Europe/Berlin"}]}`, in Alertmanager's vocabulary.
extension ConfigurationParser {
    static let weekdayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    static let monthNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
        "december",
    ]

    static func parseTimeIntervals(_ reader: NodeReader) -> TimeIntervals {
        var intervals = TimeIntervals()
        for (name, value) in reader.members() ?? [] {
            guard let entries = value.array() else { continue }
            var windows: [RecurringWindow] = []
            for entry in entries {
                if let window = parseWindow(entry) { windows.append(window) }
            }
            intervals.named[name] = windows
        }
        return intervals
    }

    static func parseWindow(_ reader: NodeReader) -> RecurringWindow? {
        guard
            let fields = reader.object(known: ["weekdays", "days_of_month", "months", "years", "times", "time_zone"])
        else { return nil }
        var zone = TimeZone(identifier: "UTC")!
        if let node = fields["time_zone"], let text = node.string() {
            if let found = TimeZone(identifier: text) {
                zone = found
            } else {
                node.report(
                    "unknown time zone \"\(text)\": use a name from the tz database such as Europe/Berlin or America/New_York (or UTC)"
                )
                return nil
            }
        }
        var window = RecurringWindow(timeZone: zone)
        var valid = true
        func ranges(_ key: String, _ parse: (String) -> Int?, bounds: ClosedRange<Int>, example: String)
            -> [(first: Int, last: Int)]
        {
            guard let node = fields[key], let items = node.stringOrList("a range such as \(example)") else { return [] }
            var result: [(first: Int, last: Int)] = []
            for (index, text) in items.enumerated() {
                let parts = text.split(separator: ":", maxSplits: 1).map {
                    String($0).trimmingCharacters(in: .whitespaces).lowercased()
                }
                let low = parts.first.flatMap(parse)
                let high = parts.count > 1 ? parse(parts[1]) : low
                // Days of the month may mix signs (1:-1, the whole month); otherwise first <= last.
                guard let low, let high, bounds.contains(low), bounds.contains(high),
                    low <= high || (key == "days_of_month" && low > 0 && high < 0)
                else {
                    node.element(index).report("\(key): \"\(text)\" is not a range such as \(example)")
                    valid = false
                    continue
                }
                result.append((low, high))
            }
            return result
        }
        window.weekdays = ranges(
            "weekdays", { weekdayNames.firstIndex(of: $0) }, bounds: 0...6, example: "monday:friday or saturday"
        ).map { $0.first...$0.last }
        window.daysOfMonth = ranges(
            "days_of_month", { Int($0).flatMap { $0 == 0 ? nil : $0 } }, bounds: -31...31,
            example: "1:7 or -1 (the last day)"
        ).map { RecurringWindow.DayRange(first: $0.first, last: $0.last) }
        window.months = ranges(
            "months", { text in Int(text) ?? monthNames.firstIndex(of: text).map { $0 + 1 } }, bounds: 1...12,
            example: "january:march or 12"
        ).map { $0.first...$0.last }
        window.years = ranges("years", { Int($0) }, bounds: 1970...9999, example: "2026:2027").map {
            $0.first...$0.last
        }
        if let node = fields["times"], let items = node.array() {
            for item in items {
                guard let parts = item.object(known: ["start", "end"]) else {
                    valid = false
                    continue
                }
                func minutes(_ key: String) -> Int? {
                    guard let text = parts[key]?.string() else {
                        if parts[key] == nil { item.report("a time range needs \"\(key)\", e.g. \"02:00\"") }
                        return nil
                    }
                    let pieces = text.split(separator: ":")
                    guard pieces.count == 2, let hour = Int(pieces[0]), let minute = Int(pieces[1]),
                        pieces[1].count == 2,
                        (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440
                    else {
                        parts[key]?.report("\(key) must be a time of day HH:MM from 00:00 to 24:00, not \"\(text)\"")
                        return nil
                    }
                    return hour * 60 + minute
                }
                guard let start = minutes("start"), let end = minutes("end") else {
                    valid = false
                    continue
                }
                guard start < end else {
                    item.report(
                        "a time range ends after it starts (a window across midnight is two: 22:00-24:00 and 00:00-02:00)"
                    )
                    valid = false
                    continue
                }
                window.times.append(start..<end)
            }
        }
        return valid ? window : nil
    }
}
