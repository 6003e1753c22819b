import Foundation

extension Silence {
    /// A silence as a person asks for one (from `silence add` or `POST /api/v1/silences`): checked
    /// in full, every problem reported at once, before anything is stored.
    public struct Request: Sendable, Equatable {
        /// `NAME=PATTERN` each.
        public var matchers: [String]
        /// How long, e.g. `2h`.
        public var duration: String
        public var comment: String
        public var author: String
        /// ISO-8601; nil starts now.
        public var startsAt: String?
        /// Names of `time_intervals` it mutes during (a recurring window); empty: all the time.
        public var during: [String] = []
        /// The configured `time_intervals`, to check `during` against; nil: not checked.
        public var knownTimeIntervals: Set<String>?

        public init(
            matchers: [String], duration: String, comment: String, author: String, startsAt: String? = nil,
            during: [String] = [], knownTimeIntervals: Set<String>? = nil
        ) {
            self.during = during
            self.knownTimeIntervals = knownTimeIntervals
            self.matchers = matchers
            self.duration = duration
            self.comment = comment
            self.author = author
            self.startsAt = startsAt
        }

        /// Every problem with the request, in words that say what to give instead.
        public var problems: [String] {
            var problems: [String] = []
            if matchers.isEmpty {
                problems.append("give at least one matcher NAME=PATTERN, e.g. rule=production-offline")
            }
            for text in matchers {
                if case .failure(let error) = Matcher.parse(text) { problems.append(error.description) }
            }
            if (DurationText.duration(duration) ?? .zero) <= .zero {
                problems.append("the duration must be a duration such as 30m or 2h, not \"\(duration)\"")
            }
            if let startsAt, Timestamp.parse(startsAt) == nil {
                problems.append("the start must be an ISO-8601 time such as 2026-11-28T09:00:00Z, not \"\(startsAt)\"")
            }
            if comment.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("the comment must say why") }
            if let known = knownTimeIntervals {
                for name in during where !known.contains(name) {
                    let hint =
                        NameSuggestion.closest(to: name, among: Array(known)).map { "; did you mean \"\($0)\"?" }
                        ?? (known.isEmpty
                            ? "; the configuration defines no time_intervals"
                            : "; defined: \(known.sorted().joined(separator: ", "))")
                    problems.append("no time interval named \"\(name)\"\(hint)")
                }
            }
            return problems
        }

        /// The silence, or every problem with the request.
        /// - Parameters:
        ///   - id: the new silence's id (the caller makes it unique).
        ///   - now: when it was asked for; the start when none is given.
        public func silence(id: String, now: Date) -> Result<Silence, RequestError> {
            let problems = problems
            guard problems.isEmpty else { return .failure(RequestError(problems: problems)) }
            let start = startsAt.flatMap(Timestamp.parse) ?? now
            return .success(
                Silence(
                    id: id, matchers: matchers.compactMap { try? Matcher.parse($0).get() }, startsAt: start,
                    endsAt: start + (DurationText.duration(duration) ?? .zero), comment: comment,
                    author: author, createdAt: now, during: during))
        }
    }

    public struct RequestError: Error, Sendable, Equatable, CustomStringConvertible {
        public var problems: [String]
        public var description: String { problems.joined(separator: "; ") }

        public init(problems: [String]) { self.problems = problems }
    }
}
