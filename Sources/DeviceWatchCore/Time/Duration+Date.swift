import Foundation

// devicewatch's time bases (see `WorkerClock` in the worker): the API's clock, on which device
// facts and alert times are `Date`s; the local wall clock, also `Date`s; and the monotonic clock,
// which only waits and measures. Lengths of time (`poll_every`, `for`, `group_wait`, ...) are
// `Duration`s everywhere; these convert at the one place a length meets a `Date`.

extension Duration {
    /// The length in seconds, for Foundation's `Date` arithmetic.
    public var timeInterval: TimeInterval {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// A whole number of days.
    public static func days(_ days: Int) -> Duration { .seconds(days * 86_400) }

    /// A whole number of minutes.
    public static func minutes(_ minutes: Int) -> Duration { .seconds(minutes * 60) }

    /// A whole number of hours.
    public static func hours(_ hours: Int) -> Duration { .seconds(hours * 3600) }
}

extension Date {
    /// The time `duration` after this one.
    public static func + (date: Date, duration: Duration) -> Date { date.addingTimeInterval(duration.timeInterval) }

    /// The time `duration` before this one.
    public static func - (date: Date, duration: Duration) -> Date { date.addingTimeInterval(-duration.timeInterval) }

    /// How long after `earlier` this is (negative when it is before).
    public func duration(since earlier: Date) -> Duration { .seconds(timeIntervalSince(earlier)) }
}
