import Foundation

/// A fleet rule's judgement of a group of devices: the devices its `where` selects are put in
/// groups by `group_by`, and a group fires when enough of them meet a per-device condition
/// (`"fleet": {"group_by": ["tag:site-*"], "min_devices": 3, "when": {"offline_fraction_at_least": 0.5}}`).
public struct FleetCondition: Sendable, Equatable {
    /// How many of a group's devices must meet ``of``.
    public enum Threshold: Sendable, Equatable {
        /// At least this many.
        case countAtLeast(Int)
        /// At least this fraction of the group (0...1).
        case fractionAtLeast(Double)
        /// Fewer than this many.
        case countBelow(Int)

        var isCountBelow: Bool {
            if case .countBelow = self { return true }
            return false
        }
    }

    /// `group_by` entries (see ``GroupKey``); the group's key joins their values with `/`.
    public var groupBy: [String]
    /// Groups with fewer devices never fire.
    public var minDevices: Int
    public var threshold: Threshold
    /// The per-device condition that is counted.
    public var of: Condition

    public init(groupBy: [String], minDevices: Int = 1, threshold: Threshold, of: Condition) {
        self.groupBy = groupBy
        self.minDevices = minDevices
        self.threshold = threshold
        self.of = of
    }

    /// Whether a group of `total` devices of which `matching` meet ``of`` fires.
    public func holds(total: Int, matching: Int) -> Bool {
        guard total > 0, total >= minDevices else { return false }
        switch threshold {
        case .countAtLeast(let count): return matching >= count
        // With a little slack, so 0.3 of 10 is 3 whatever the rounding of 0.3 * 10.
        case .fractionAtLeast(let fraction): return Double(matching) / Double(total) >= fraction - 1e-9
        case .countBelow(let count): return matching < count
        }
    }

    /// The threshold in words: `at least 50% of the group`, `fewer than 2`.
    public var thresholdSummary: String {
        switch threshold {
        case .countAtLeast(let count): "at least \(count)"
        case .fractionAtLeast(let fraction): "at least \(FleetFacts.percent(fraction)) of the group"
        case .countBelow(let count): "fewer than \(count)"
        }
    }
}

/// One device of a fleet alert's group, as the alert carries it.
public struct FleetMember: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    /// The status the API gave at the poll (or what its heartbeat says; see ``Device/observedStatus(at:)``).
    public var status: String
    /// Whether it meets the rule's per-device condition (`of`).
    public var matches: Bool
}

/// What a fleet alert knows of its group at its latest evaluation.
///
/// Kept out of line (``OutOfLine``): most alerts are not a fleet rule's, and hold nil.
public struct FleetFacts: Sendable, Equatable, Codable {
    private struct Fields: Sendable, Equatable, Codable {
        var group: String
        var total: Int
        var matching: Int
        var members: [FleetMember]
    }

    private let fields: OutOfLine<Fields>

    public init(group: String, total: Int, matching: Int, members: [FleetMember]) {
        fields = OutOfLine(Fields(group: group, total: total, matching: matching, members: members))
    }

    public init(from decoder: any Decoder) throws { fields = OutOfLine(try Fields(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try fields.value.encode(to: encoder) }

    /// The group's key: the `group_by` values joined with `/` (`site-b`).
    public var group: String { fields.value.group }
    /// Devices in the group (selected by the rule's `where`).
    public var total: Int { fields.value.total }
    /// Devices that meet the per-device condition.
    public var matching: Int { fields.value.matching }
    /// Every device of the group, by id.
    public var members: [FleetMember] { fields.value.members }

    /// Whether the device is in the group (a binary search: members are in id order).
    public func hasMember(_ id: String) -> Bool {
        var low = 0, high = members.count
        while low < high {
            let middle = (low + high) / 2
            if members[middle].id < id { low = middle + 1 } else { high = middle }
        }
        return low < members.count && members[low].id == id
    }

    /// `matching / total`, 0 for an empty group.
    public var fraction: Double { total == 0 ? 0 : Double(matching) / Double(total) }

    /// `50%`, `33.3%`: a fraction as people read it.
    public static func percent(_ fraction: Double) -> String {
        let value = (fraction * 1000).rounded() / 10
        return value == value.rounded() ? "\(Int(value))%" : "\(value)%"
    }
}
