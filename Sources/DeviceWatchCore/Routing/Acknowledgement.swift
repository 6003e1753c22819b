import Foundation

/// Someone on call has seen an alert, or a group's alerts, and is on it: while it holds, those
/// alerts send no repeats and no escalation. It holds until the alert resolves (a later firing of
/// the same device is a new one), until it expires, and for a group only while no other alert has
/// joined (the newcomer is news: it is told, repeated and escalated as usual).
public struct Acknowledgement: Sendable, Equatable, Codable, TimedRecord {
    public var id: String
    /// Each acknowledged alert's fingerprint, with the start of the firing acknowledged.
    public var alerts: [String: Date]
    /// The group's key, when a group was acknowledged.
    public var groupKey: String?
    public var author: String
    public var comment: String
    public var createdAt: Date
    /// When it expires (30 days on when no duration was asked for).
    public var endsAt: Date

    public init(
        id: String, alerts: [String: Date], groupKey: String? = nil, author: String, comment: String,
        createdAt: Date, endsAt: Date = .distantFuture
    ) {
        self.id = id
        self.alerts = alerts
        self.groupKey = groupKey
        self.author = author
        self.comment = comment
        self.createdAt = createdAt
        self.endsAt = endsAt
    }

    /// Whether it still holds for `alert` (firing, the same firing, not expired).
    public func covers(_ alert: AlertInstance, at now: Date) -> Bool {
        guard now < endsAt, alert.state == .firing, let since = alerts[alert.fingerprint] else { return false }
        // Stored times keep milliseconds: the same firing within that.
        return abs(since.timeIntervalSince(alert.firingSince ?? alert.activeSince)) < 0.002
    }

    /// What a notification says about it.
    public var note: Note { Note(author: author, comment: comment, at: createdAt) }

    /// Who acknowledged, when and why, as notifications and the status page show it.
    ///
    /// Kept out of line (``OutOfLine``): every snapshot has room for one, and few hold one.
    public struct Note: Sendable, Equatable, Codable {
        private struct Fields: Sendable, Equatable, Codable {
            var author: String
            var comment: String
            var at: Date
        }

        private let fields: OutOfLine<Fields>

        public init(author: String, comment: String, at: Date) {
            fields = OutOfLine(Fields(author: author, comment: comment, at: at))
        }

        public init(from decoder: any Decoder) throws { fields = OutOfLine(try Fields(from: decoder)) }

        public func encode(to encoder: any Encoder) throws { try fields.value.encode(to: encoder) }

        public var author: String { fields.value.author }
        public var comment: String { fields.value.comment }
        public var at: Date { fields.value.at }

        /// `acknowledged by alice at 2026-11-28T12:00:00.000Z: on it`.
        public var text: String {
            let who = author.isEmpty ? "someone" : InertText.line(author)
            let why = comment.isEmpty ? "" : ": " + InertText.line(comment)
            return "acknowledged by \(who) at \(Timestamp.format(at))\(why)"
        }
    }

    /// An acknowledgement as a person asks for one (`devicewatch ack`, `POST .../ack`, the
    /// status page's button), checked against the alerts as they are.
    public struct Request: Sendable, Equatable {
        public enum Target: Sendable, Equatable {
            case alert(fingerprint: String)
            case group(key: String)
        }

        public var target: Target
        public var author: String
        public var comment: String
        /// How long it holds at most (`4h`); nil until the alerts resolve (at most ``longest``).
        public var duration: String?

        /// An acknowledgement without a duration still ends after 30 days: an alert firing that
        /// long is news again.
        public static let longest: Duration = .days(30)

        public init(target: Target, author: String, comment: String, duration: String? = nil) {
            self.target = target
            self.author = author
            self.comment = comment
            self.duration = duration
        }

        /// The acknowledgement of what is firing now, or why there is nothing to acknowledge.
        /// - Parameters:
        ///   - alerts: the alerts as the worker keeps them.
        ///   - groups: the receivers' notification groups (for `--group`).
        public func acknowledgement(
            id: String, alerts: [AlertKey: AlertInstance], groups: [NotificationGroup], at now: Date
        ) -> Result<Acknowledgement, Silence.RequestError> {
            var problems: [String] = []
            var length: Duration?
            if let duration {
                length = DurationText.duration(duration)
                if (length ?? .zero) <= .zero {
                    problems.append("the duration must be a duration such as 30m or 4h, not \"\(duration)\"")
                }
            }
            if author.count > 200 || comment.count > 2000 {
                problems.append("keep the author within 200 characters and the comment within 2,000")
            }
            var acknowledged: [String: Date] = [:]
            var groupKey: String?
            switch target {
            case .alert(let fingerprint):
                if let alert = alerts.values.first(where: { $0.fingerprint == fingerprint }) {
                    if alert.state == .firing {
                        acknowledged[fingerprint] = alert.firingSince ?? alert.activeSince
                    } else {
                        problems.append(
                            "alert \(fingerprint) is \(alert.state.rawValue), not firing: nothing to acknowledge")
                    }
                } else {
                    problems.append("no alert has the fingerprint \(fingerprint) (devicewatch status lists them)")
                }
            case .group(let key):
                groupKey = key
                let matching = groups.filter { $0.groupKey == key }
                if matching.isEmpty {
                    problems.append(
                        "no notification group has the key \(key) (the status page and /api/v1/groups list them)")
                }
                for group in matching {
                    for alertKey in group.told {
                        guard let alert = alerts[alertKey], alert.state == .firing else { continue }
                        acknowledged[alert.fingerprint] = alert.firingSince ?? alert.activeSince
                    }
                }
                if !matching.isEmpty, acknowledged.isEmpty {
                    problems.append(
                        "group \(key) has no firing alert its receivers were told of: nothing to acknowledge")
                }
            }
            guard problems.isEmpty else { return .failure(Silence.RequestError(problems: problems)) }
            return .success(
                Acknowledgement(
                    id: id, alerts: acknowledged, groupKey: groupKey, author: author, comment: comment,
                    createdAt: now, endsAt: now + (length ?? Self.longest)))
        }
    }
}

/// The acknowledgements in force at a planning time, by alert.
struct Acknowledgements {
    let active: [Acknowledgement]
    let now: Date

    init(_ acknowledgements: [Acknowledgement], at now: Date) {
        active = acknowledgements.filter { now < $0.endsAt }
        self.now = now
    }

    /// The acknowledgement holding for `alert`, if one does.
    func of(_ alert: AlertInstance) -> Acknowledgement? {
        guard !active.isEmpty else { return nil }
        return active.last { $0.covers(alert, at: now) }
    }
}

/// What people ask of the alerts for a while (silences, acknowledgements): stored alike, as an
/// id, when it ends, and the record itself.
public protocol TimedRecord: Sendable, Codable {
    var id: String { get }
    var endsAt: Date { get }
}
