import Foundation

/// A recurring window of time, in Alertmanager's `time_intervals` vocabulary: weekdays, days of
/// the month, months, years and times of day, each a list of ranges (every field given must
/// match; a field left out matches always), in a time zone from the system's tz database.
/// Times are `[start, end)` minutes of the local day, so a window keeps its wall-clock hours
/// across daylight-saving changes (02:00-03:30 is 90 minutes most nights, 30 when 02:00-03:00
/// is skipped, 150 when it is repeated).
public struct RecurringWindow: Sendable, Equatable {
    /// 0 Sunday ... 6 Saturday.
    public var weekdays: [ClosedRange<Int>] = []
    /// Days 1...31, or -31...-1 counted from the month's end (-1 is its last day); `1:-1` is
    /// the whole month.
    public var daysOfMonth: [DayRange] = []

    public struct DayRange: Sendable, Equatable {
        public var first: Int
        public var last: Int
    }
    public var months: [ClosedRange<Int>] = []
    public var years: [ClosedRange<Int>] = []
    /// Minutes of the local day, 0...1440.
    public var times: [Range<Int>] = []
    public var timeZone: TimeZone

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Whether `date` falls in the window.
    public func contains(_ date: Date) -> Bool { end(ofWindowAt: date) != nil }

    /// The end of the window `date` falls in (its time range's end that day, or the day's end
    /// when it has no times); nil when `date` is outside it.
    public func end(ofWindowAt date: Date) -> Date? {
        let calendar = calendar
        let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute], from: date)
        guard let year = parts.year, let month = parts.month, let day = parts.day, let weekday = parts.weekday,
            let hour = parts.hour, let minute = parts.minute
        else { return nil }
        if !years.isEmpty, !years.contains(where: { $0.contains(year) }) { return nil }
        if !months.isEmpty, !months.contains(where: { $0.contains(month) }) { return nil }
        if !weekdays.isEmpty, !weekdays.contains(where: { $0.contains(weekday - 1) }) { return nil }
        if !daysOfMonth.isEmpty {
            let length = calendar.range(of: .day, in: .month, for: date)?.count ?? 31
            let matches = daysOfMonth.contains { range in
                // Negative days count back from the month's end: -1 is its last day.
                let lower = range.first < 0 ? length + 1 + range.first : range.first
                let upper = range.last < 0 ? length + 1 + range.last : range.last
                return lower <= day && day <= upper
            }
            if !matches { return nil }
        }
        let startOfDay = calendar.startOfDay(for: date)
        guard !times.isEmpty else { return calendar.date(byAdding: .day, value: 1, to: startOfDay) }
        let now = hour * 60 + minute
        guard let range = times.first(where: { $0.contains(now) }) else { return nil }
        if range.upperBound >= 1440 { return calendar.date(byAdding: .day, value: 1, to: startOfDay) }
        return calendar.date(bySettingHour: range.upperBound / 60, minute: range.upperBound % 60, second: 0, of: date)
    }
}

/// The configuration's `time_intervals`: named lists of windows; a name is active when any of
/// its windows contains the time.
public struct TimeIntervals: Sendable, Equatable {
    public var named: [String: [RecurringWindow]] = [:]

    public init(_ named: [String: [RecurringWindow]] = [:]) { self.named = named }

    /// When the active window of `name` at `date` ends; nil when none is active.
    public func activeUntil(_ name: String, at date: Date) -> Date? {
        named[name]?.compactMap { $0.end(ofWindowAt: date) }.max()
    }
}
