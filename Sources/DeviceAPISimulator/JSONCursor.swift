import DeviceWatchCore
import Foundation

/// A JSON value with its path, reading typed fields and throwing ``ScenarioError``s that name the path.
struct JSONCursor {
    let value: JSONValue
    let path: String
    let source: String

    static func parse(_ data: Data, source: String) throws -> JSONCursor {
        do {
            return JSONCursor(value: try JSONDecoder().decode(JSONValue.self, from: data), path: "", source: source)
        } catch {
            var detail = "not valid JSON"
            if case DecodingError.dataCorrupted(let context) = error,
                let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            {
                detail += ": \(underlying)"
            }
            throw ScenarioError(source: source, path: "", problem: detail)
        }
    }

    func fail(_ problem: String) -> ScenarioError {
        ScenarioError(source: source, path: path, problem: problem)
    }

    func child(_ key: String, _ value: JSONValue) -> JSONCursor {
        let isIdentifier = key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } && !key.isEmpty
        let step = isIdentifier ? key : "[\"\(key)\"]"
        return JSONCursor(
            value: value, path: path.isEmpty ? step : (isIdentifier ? "\(path).\(step)" : path + step), source: source)
    }

    func object(allowing keys: Set<String>) throws -> [String: JSONCursor] {
        guard case .object(let members) = value else { throw fail("expected an object, got \(value.kindDescription)") }
        var result: [String: JSONCursor] = [:]
        for (key, member) in members {
            guard keys.contains(key) else {
                let known = keys.sorted().joined(separator: ", ")
                throw child(key, member).fail("unknown key \"\(key)\" (known keys: \(known))")
            }
            result[key] = child(key, member)
        }
        return result
    }

    func members() throws -> [(String, JSONCursor)] {
        guard case .object(let members) = value else { throw fail("expected an object, got \(value.kindDescription)") }
        return members.sorted { $0.key < $1.key }.map { ($0.key, child($0.key, $0.value)) }
    }

    func array() throws -> [JSONCursor] {
        guard case .array(let items) = value else { throw fail("expected an array, got \(value.kindDescription)") }
        return items.enumerated().map { JSONCursor(value: $1, path: "\(path)[\($0)]", source: source) }
    }

    var isNull: Bool { value == .null }

    func string() throws -> String {
        guard case .string(let text) = value else { throw fail("expected a string, got \(value.kindDescription)") }
        return text
    }

    func optionalString() throws -> String? {
        isNull ? nil : try string()
    }

    func number() throws -> Double {
        guard case .number(let number) = value else { throw fail("expected a number, got \(value.kindDescription)") }
        return number
    }

    func integer(in range: ClosedRange<Int>) throws -> Int {
        let number = try number()
        guard number == number.rounded(), let value = Int(exactly: number), range.contains(value) else {
            throw fail("expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return value
    }

    func fraction() throws -> Double {
        let number = try number()
        guard (0...1).contains(number) else { throw fail("expected a fraction from 0 to 1, got \(number)") }
        return number
    }

    func strings() throws -> [String] {
        try array().map { try $0.string() }
    }

    /// A duration such as `30s`, `10m`, `250ms`.
    func duration() throws -> Double {
        let text = try string()
        guard let seconds = DurationText.seconds(text) else {
            throw fail("expected a duration like \"30s\", \"10m\", \"4h\" or \"250ms\", got \"\(text)\"")
        }
        return seconds
    }

    /// An absolute ISO-8601 time, or one relative to `origin`: `-30d`, `+10m`, `now`.
    func time(relativeTo origin: Date) throws -> Date {
        let text = try string()
        if text == "now" { return origin }
        if let sign = text.first, sign == "+" || sign == "-",
            let seconds = DurationText.seconds(String(text.dropFirst()))
        {
            return origin.addingTimeInterval(sign == "-" ? -seconds : seconds)
        }
        guard let date = Timestamp.parse(text) else {
            throw fail(
                "expected a time: ISO-8601 like \"2026-11-28T12:00:00Z\" or relative like \"-30d\", \"+10m\", got \"\(text)\""
            )
        }
        return date
    }
}
