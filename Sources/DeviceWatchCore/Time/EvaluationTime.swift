import Foundation

/// Which clock an evaluation runs on: the API's (its `Date` header), so a worker with a skewed
/// clock cannot page the whole fleet offline, unless that header is missing or absurd.
public enum EvaluationTime {
    public enum Source: String, Sendable {
        case api, local, given
    }

    /// The earliest and latest `Date` header believed (2020 to 2100): outside that the API's
    /// clock is broken, and the local clock is the better guess.
    static let plausible = Date(timeIntervalSince1970: 1_577_836_800)..<Date(timeIntervalSince1970: 4_102_444_800)

    public static func choose(apiDate: Date?, local: Date) -> (date: Date, source: Source) {
        if let apiDate, plausible.contains(apiDate) { return (apiDate, .api) }
        return (local, .local)
    }
}
