import Foundation

/// Which (rule, device) pairs are firing over a series of evaluations, honouring a rule's `for`
/// (the condition must hold that long first) and `keep_firing_for` (a firing alert stays firing
/// through shorter recoveries). Pure: time and findings are arguments.
///
/// This is the firing part of the alert lifecycle that rule tests need; notifications, resolves
/// and persistence build on it.
public struct FiringTracker: Sendable {
    public struct Key: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var ruleID: String
        public var deviceID: String

        public init(ruleID: String, deviceID: String) {
            self.ruleID = ruleID
            self.deviceID = deviceID
        }

        public static func < (lhs: Key, rhs: Key) -> Bool { (lhs.ruleID, lhs.deviceID) < (rhs.ruleID, rhs.deviceID) }
        public var description: String { "\(ruleID) / \(deviceID)" }
    }

    public struct State: Sendable, Equatable {
        /// When the condition started to hold (this time round).
        public var activeSince: Date
        /// The latest evaluation at which the condition held.
        public var lastTrue: Date
        public var firing: Bool
        /// The latest finding, for its summary and reasons.
        public var finding: Finding
    }

    public private(set) var states: [Key: State] = [:]

    public init() {}

    /// Applies one evaluation's findings at `time`.
    /// - Parameter rules: the rules evaluated, for their `for` and `keep_firing_for`.
    public mutating func observe(_ findings: [Finding], rules: [Rule], at time: Date) {
        let byID = Dictionary(rules.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var holding: Set<Key> = []
        for finding in findings {
            let key = Key(ruleID: finding.ruleID, deviceID: finding.deviceID)
            holding.insert(key)
            var state = states[key] ?? State(activeSince: time, lastTrue: time, firing: false, finding: finding)
            state.lastTrue = time
            state.finding = finding
            if !state.firing, time.timeIntervalSince(state.activeSince) >= (byID[finding.ruleID]?.pendingFor ?? 0) {
                state.firing = true
            }
            states[key] = state
        }
        for (key, state) in states where !holding.contains(key) {
            let keep = byID[key.ruleID]?.keepFiringFor ?? 0
            if state.firing, byID[key.ruleID] != nil, time.timeIntervalSince(state.lastTrue) < keep { continue }
            states.removeValue(forKey: key)
        }
    }

    /// The pairs firing now, sorted.
    public var firing: [Key] {
        states.filter(\.value.firing).keys.sorted()
    }
}
