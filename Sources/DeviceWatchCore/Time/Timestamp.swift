import Foundation

/// ISO-8601 / RFC 3339 timestamps, parsed and formatted by hand.
///
/// Hand-written because Foundation's ISO-8601 formatter costs about 40 µs a call, and a 100,000-device
/// list carries two timestamps per device; this scanner costs tens of nanoseconds.
public enum Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` and the other valid ISO-8601 forms
    /// devices are seen to send: a space or lowercase `t` separator, lowercase `z`, offsets as
    /// `±HHMM` or `±HH`, no seconds, basic format (`20261128T120000Z`), a date alone (midnight UTC),
    /// and no zone (read as UTC).
    /// - Returns: the instant, or nil when the text is not a valid timestamp.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// The same as ``parse(_:)`` over UTF-8 bytes.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var scanner = Scanner(bytes: bytes)
        return scanner.timestamp()
    }

    /// Formats as the Devices API does: `2026-04-28T12:00:00.000Z` (UTC, milliseconds).
    public static func format(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (days, dayMilliseconds) = totalMilliseconds.floorDivided(by: 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let hour = dayMilliseconds / 3_600_000
        let minute = dayMilliseconds / 60_000 % 60
        let second = dayMilliseconds / 1000 % 60
        let millisecond = dayMilliseconds % 1000
        var out = [UInt8]()
        out.reserveCapacity(24)
        let fields: [(value: Int64, width: Int, then: Unicode.Scalar)] = [
            (year, 4, "-"), (month, 2, "-"), (day, 2, "T"), (hour, 2, ":"), (minute, 2, ":"), (second, 2, "."),
            (millisecond, 3, "Z"),
        ]
        for field in fields {
            out.appendDigits(field.value, width: field.width)
            out.append(UInt8(ascii: field.then))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
    }

    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var atEnd: Bool { index >= bytes.count }
    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func accept(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    /// Exactly `count` decimal digits.
    mutating func digits(_ count: Int) -> Int64? {
        guard index + count <= bytes.count else { return nil }
        var value: Int64 = 0
        for offset in 0..<count {
            let digit = bytes[index + offset] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        index += count
        return value
    }

    mutating func timestamp() -> Date? {
        guard let year = digits(4) else { return nil }
        let extended = accept(UInt8(ascii: "-"))
        guard let month = digits(2) else { return nil }
        if extended, !accept(UInt8(ascii: "-")) { return nil }
        guard let day = digits(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysInMonth(year, month) else { return nil }

        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0
        var nanoseconds: Int64 = 0
        var offsetSeconds: Int64 = 0
        if let separator = current,
            separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ")
        {
            index += 1
            guard let h = digits(2) else { return nil }
            let colon = accept(UInt8(ascii: ":"))
            guard let m = digits(2) else { return nil }
            hour = h
            minute = m
            if colon ? accept(UInt8(ascii: ":")) : (current.map { $0 &- UInt8(ascii: "0") < 10 } ?? false) {
                guard let s = digits(2) else { return nil }
                second = s
                if accept(UInt8(ascii: ".")) || accept(UInt8(ascii: ",")) {
                    var scale: Int64 = 100_000_000
                    var any = false
                    while let byte = current, byte &- UInt8(ascii: "0") < 10 {
                        nanoseconds += Int64(byte &- UInt8(ascii: "0")) * scale
                        scale /= 10
                        index += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            // 24:00:00 is the end of the day; a leap second 60 is read as the next second's start.
            guard hour < 24 || (hour == 24 && minute == 0 && second == 0 && nanoseconds == 0),
                minute < 60, second <= 60
            else { return nil }
            guard let offset = zone() else { return nil }
            offsetSeconds = offset
        }
        guard atEnd else { return nil }
        let days = Timestamp.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
    }

    /// `Z`, `±HH:MM`, `±HHMM`, `±HH`, or nothing (UTC). nil when malformed.
    mutating func zone() -> Int64? {
        guard let byte = current else { return 0 }
        if byte == UInt8(ascii: "Z") || byte == UInt8(ascii: "z") {
            index += 1
            return 0
        }
        let sign: Int64
        switch byte {
        case UInt8(ascii: "+"): sign = 1
        case UInt8(ascii: "-"): sign = -1
        default: return nil
        }
        index += 1
        guard let hours = digits(2), hours <= 23 else { return nil }
        var minutes: Int64 = 0
        if accept(UInt8(ascii: ":")) {
            guard let m = digits(2) else { return nil }
            minutes = m
        } else if !atEnd {
            guard let m = digits(2) else { return nil }
            minutes = m
        }
        guard minutes < 60 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }
}

extension Int64 {
    /// Floor division and the non-negative remainder.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = self / divisor
        var remainder = self % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}

extension [UInt8] {
    /// Appends `value` in `width` decimal digits, zero-padded on the left.
    fileprivate mutating func appendDigits(_ value: Int64, width: Int) {
        let start = count
        append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        var rest = Swift.max(value, 0)
        var position = start + width - 1
        while position >= start {
            self[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        }
    }
}
