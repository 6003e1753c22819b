/// Durations written as text in configuration files: `90s`, `15m`, `4h`, `2d`, `250ms`, `1h30m`.
public enum DurationText {
    /// Seconds in the duration, or nil when the text is not a duration.
    public static func seconds(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var unit = ""
        var sawAny = false
        func flush() -> Bool {
            // Digits, optionally a point and more digits: what the JSON Schemas' pattern allows.
            guard let first = number.first, let last = number.last, first.isNumber, last.isNumber,
                number.filter({ $0 == "." }).count <= 1, let value = Double(number), value >= 0
            else { return false }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86_400
            case "w": scale = 604_800
            default: return false
            }
            total += value * scale
            number = ""
            unit = ""
            sawAny = true
            return true
        }
        for character in text {
            if character.isASCII, character.isNumber || character == "." {
                if !unit.isEmpty, !flush() { return nil }
                number.append(character)
            } else if character.isASCII, character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, flush(), sawAny else { return nil }
        return total
    }

    /// The duration the text says, or nil when the text is not a duration.
    public static func duration(_ text: String) -> Duration? { seconds(text).map { .seconds($0) } }

    /// ``format(seconds:)`` of a duration.
    public static func format(_ duration: Duration) -> String { format(seconds: duration.timeInterval) }

    /// A readable form with the two largest adjacent units: `45s`, `15m30s`, `4h`, `2h5m`, `2d3h`, `250ms`.
    /// Seconds are dropped from an hour or more, minutes from a day or more.
    public static func format(seconds: Double) -> String {
        if seconds < 1, seconds > 0 { return "\(Int((seconds * 1000).rounded()))ms" }
        let total = Int(seconds.rounded())
        if total == 0 { return "0s" }
        let units = [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        guard let first = units.firstIndex(where: { total >= $0.1 }) else { return "0s" }
        let (bigUnit, bigSize) = units[first]
        var text = "\(total / bigSize)\(bigUnit)"
        if first + 1 < units.count {
            let (smallUnit, smallSize) = units[first + 1]
            let small = total % bigSize / smallSize
            if small > 0 { text += "\(small)\(smallUnit)" }
        }
        return text
    }

    /// A compact age for tables: `45s`, `3m`, `2h`, `5d`.
    public static func age(seconds: Double) -> String {
        let s = max(0, Int(seconds))
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m"
        case ..<86_400: return "\(s / 3600)h"
        default: return "\(s / 86_400)d"
        }
    }
}
