import Foundation

/// A device rule's flap detection: when its alert for a device fires and resolves `changes`
/// times within `within`, the alert is held firing as **flapping** (one notification says so,
/// none for each further flip) until it has been stable for `stableFor`, and then settles where
/// the device is (firing, or resolved).
public struct FlappingPolicy: Sendable, Equatable {
    /// Fires and resolves (each counts once) that make an alert flapping; at least 2.
    public var changes: Int
    /// How long the changes are counted over.
    public var within: Duration
    /// How long without a change after which a flapping alert settles.
    public var stableFor: Duration

    /// `flips` with `now` added, keeping only those within the window (and no more than the count needs).
    func adding(_ now: Date, to flips: [Date]) -> [Date] {
        Array((flips + [now]).filter { now.duration(since: $0) < within }.suffix(changes))
    }

    /// Whether these flips make an alert flapping.
    func flaps(_ flips: [Date], at now: Date) -> Bool {
        flips.filter { now.duration(since: $0) < within }.count >= changes
    }

    /// `4 changes within 1h`
    public func describe(_ count: Int) -> String {
        "\(count) changes within \(DurationText.format(within))"
    }
}

/// What a notification says of a flapping alert.
public struct FlappingState: Sendable, Equatable, Codable {
    /// When it started flapping.
    public var since: Date
    /// Its changes within the rule's window, when it started flapping.
    public var changes: Int
}
