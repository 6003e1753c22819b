import DeviceAPISimulator
import DeviceWatch
import DeviceWatchCore
import Foundation

/// A rule test file: rule files, and cases of device states over time with the alerts expected to fire.
public struct RuleTestSuite: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var workspace: String
        public var start: Date
        /// The time between the evaluations that `for` and `keep_firing_for` are tracked over.
        public var evaluateEvery: Duration
        public var devices: DeviceSource
        public var expectations: [Expectation]
        /// Grouping and timing, as the configuration's `defaults` (its defaults when not given).
        public var defaults: RoutingDefaults
        public var silences: [Silence]
    }

    /// How a case describes its devices.
    public enum DeviceSource: Sendable {
        /// Simulator device definitions: heartbeat schedules, evaluated at any time.
        case scenario([SimulatedDevice])
        /// Device lists as the API returns them, each valid from its time until the next.
        case timeline([(at: Date, devices: [Device])])

        func devices(at time: Date) -> [Device] {
            switch self {
            case .scenario(let definitions): return definitions.map { $0.snapshot(at: time) }
            case .timeline(let entries): return entries.last { $0.at <= time }?.devices ?? []
            }
        }
    }

    public struct Expectation: Sendable {
        public var at: Date
        /// `+20m` as written, for messages.
        public var atText: String
        /// The exact set firing then (nil: not checked).
        public var firing: [ExpectedAlert]?
        /// Only these rules are compared, when given.
        public var rules: Set<String>?
        /// The notifications expected since the previous expectation (nil: not checked).
        public var notifications: [ExpectedNotification]?
    }

    /// A notification a test expects: to which receiver, and optionally why and about which devices.
    public struct ExpectedNotification: Sendable, CustomStringConvertible {
        public var receiver: String
        public var reason: NotificationIntent.Reason?
        public var firing: Set<String>?
        public var resolved: Set<String>?
        public var firingCount: Int?

        func matches(_ intent: NotificationIntent) -> Bool {
            intent.receiver == receiver && (reason.map { $0 == intent.reason } ?? true)
                && (firing.map { $0 == Set(intent.firing.map(\.key.deviceID)) } ?? true)
                && (resolved.map { $0 == Set(intent.resolved.map(\.key.deviceID)) } ?? true)
                && (firingCount.map { $0 == intent.firing.count } ?? true)
        }

        public var description: String {
            var text = "to \(receiver)"
            if let reason { text += " (\(reason.rawValue))" }
            if let firing { text += ", firing: \(firing.sorted().joined(separator: ", "))" }
            if let firingCount { text += ", \(firingCount) firing" }
            if let resolved { text += ", resolved: \(resolved.sorted().joined(separator: ", "))" }
            return text
        }
    }

    public struct ExpectedAlert: Sendable, Hashable {
        public var rule: String
        /// The device, or for a fleet rule's alert the group's key.
        public var device: String
        public var summary: String?
        /// Named as `group` (a fleet rule's alert).
        public var isGroup = false
    }

    public var file: String
    public var ruleFiles: [String]
    public var cases: [Case]
}
