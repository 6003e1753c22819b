import Foundation

/// HTTP dates (RFC 9110 IMF-fixdate, `Sat, 28 Nov 2026 12:00:00 GMT`), for the `Date` and
/// `Retry-After` headers. Hand-written to stay free of locale-dependent formatters.
public enum HTTPDate {
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(_ date: Date) -> String {
        let (days, secondOfDay) = Int64(date.timeIntervalSince1970.rounded(.down)).floorDivided(by: 86_400)
        let (year, month, day) = Timestamp.civil(fromDays: days)
        let weekday = weekdays[Int(days.floorDivided(by: 7).remainder)]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(two(day)) \(months[Int(month) - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    /// Parses an IMF-fixdate; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", parts[0].hasSuffix(","),
            let day = Int64(parts[1]), let monthIndex = months.firstIndex(of: String(parts[2])),
            let year = Int64(parts[3])
        else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let hour = Int64(time[0]), let minute = Int64(time[1]), let second = Int64(time[2]),
            day >= 1, day <= Timestamp.daysInMonth(year, Int64(monthIndex + 1)), hour < 24, minute < 60, second <= 60
        else { return nil }
        let days = Timestamp.days(fromCivil: year, Int64(monthIndex + 1), day)
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}
