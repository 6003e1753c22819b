import Foundation

/// How a fleet rule's `group_by` names a device's group, compiled once per rule set: each entry
/// is a constant of the rule (`rule`, `severity`, `label:NAME`), the workspace, or a device fact.
/// Rules with the same entries share one spec, so a device's group is worked out once per
/// evaluation for all of them.
struct GroupSpec: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case constant(String)
        case workspace
        case deviceID
        case field(DeviceField)
        case tag(Glob)
    }

    let parts: [Part]

    init(_ entries: [String], rule: Rule) {
        parts = entries.map { entry in
            switch entry {
            case "rule": .constant(rule.id)
            case "severity": .constant(rule.severity.rawValue)
            case "workspace": .workspace
            case "device": .deviceID
            case "type": .field(.type)
            case "platform": .field(.platform)
            case "architecture": .field(.architecture)
            default:
                entry.hasPrefix("label:")
                    ? .constant(rule.labels[String(entry.dropFirst(6))] ?? GroupKey.none)
                    : .tag(Glob(String(entry.dropFirst(4))))
            }
        }
    }

    /// The device's group: the entries' values joined with `/` (`(none)` for a missing fact).
    func key(for device: UnsafePointer<Device>, workspace: String) -> String {
        func value(_ part: Part) -> String {
            switch part {
            case .constant(let text): return text
            case .workspace: return workspace
            case .deviceID: return device.pointee.id
            case .field(let field):
                guard let text = field.value(of: device.pointee), !text.isEmpty else { return GroupKey.none }
                return text
            case .tag(let glob):
                var first: String?
                for tag in device.pointee.tags where glob.matches(tag) {
                    if first.map({ tag < $0 }) ?? true { first = tag }
                }
                return first ?? GroupKey.none
            }
        }
        if parts.count == 1 { return value(parts[0]) }
        return parts.map(value).joined(separator: "/")
    }
}

/// One fleet rule as the evaluation runs it.
struct FleetPlan: Sendable {
    let ruleIndex: Int
    /// The compiled `where` (every device when the rule has none): who is in a group.
    let selectorRoot: Int
    /// The compiled `where` and `fleet.when`'s per-device condition: who is counted.
    let matchRoot: Int
    /// Index into the rule set's distinct ``GroupSpec``s.
    let spec: Int
}

/// The groups of one evaluation, built as the devices are met: per spec, the groups' keys and
/// their devices (indices into the device list); per fleet rule, each group's counts and which
/// devices it selected and counted.
struct FleetTally {
    private var keys: [[String]]
    private var indexByKey: [[String: Int]]
    private var devicesByGroup: [[[Int32]]]
    /// Per spec: the group of the current device, once worked out (-1: not yet).
    private var currentGroup: [Int]
    private var totals: [[Int]]
    private var matching: [[Int]]
    /// Per plan, per device: 1 selected, 2 selected and counted.
    private var marks: [[UInt8]]

    init(specs: Int, plans: Int, devices: Int) {
        keys = Array(repeating: [], count: specs)
        indexByKey = Array(repeating: [:], count: specs)
        devicesByGroup = Array(repeating: [], count: specs)
        currentGroup = Array(repeating: -1, count: specs)
        totals = Array(repeating: [], count: plans)
        matching = Array(repeating: [], count: plans)
        marks = Array(repeating: [UInt8](repeating: 0, count: devices), count: plans)
    }

    /// Starts a device: its groups are not known yet.
    mutating func startDevice() {
        for index in currentGroup.indices { currentGroup[index] = -1 }
    }

    /// The device's group under `spec`, worked out once per device and spec.
    mutating func group(
        spec: Int, specs: [GroupSpec], device: UnsafePointer<Device>, index: Int, workspace: String
    ) -> Int {
        if currentGroup[spec] >= 0 { return currentGroup[spec] }
        let key = specs[spec].key(for: device, workspace: workspace)
        let group: Int
        if let existing = indexByKey[spec][key] {
            group = existing
        } else {
            group = keys[spec].count
            keys[spec].append(key)
            indexByKey[spec][key] = group
            devicesByGroup[spec].append([])
        }
        devicesByGroup[spec][group].append(Int32(index))
        currentGroup[spec] = group
        return group
    }

    mutating func count(plan: Int, group: Int, device: Int, matches: Bool) {
        if totals[plan].count <= group {
            let grow = group + 1 - totals[plan].count
            totals[plan] += repeatElement(0, count: grow)
            matching[plan] += repeatElement(0, count: grow)
        }
        totals[plan][group] += 1
        marks[plan][device] = 1
        if matches {
            matching[plan][group] += 1
            marks[plan][device] = 2
        }
    }

    /// Every group of each plan, by key; members for those that hold (or all, with `allMembers`).
    func groups(
        plans: [FleetPlan], rules: [Rule], devices: UnsafeBufferPointer<Device>, at now: Date, allMembers: Bool
    ) -> [FleetGroup] {
        var result: [FleetGroup] = []
        for (planIndex, plan) in plans.enumerated() {
            let rule = rules[plan.ruleIndex]
            guard let fleet = rule.fleet else { continue }
            var groups: [FleetGroup] = []
            for (group, total) in totals[planIndex].enumerated() where total > 0 {
                let counted = matching[planIndex][group]
                let holds = fleet.holds(total: total, matching: counted)
                var members: [FleetMember] = []
                if holds || allMembers {
                    for index in devicesByGroup[plan.spec][group] where marks[planIndex][Int(index)] > 0 {
                        let device = devices[Int(index)]
                        members.append(
                            FleetMember(
                                id: device.id, name: device.displayName,
                                status: device.observedStatus(at: now).rawValue,
                                matches: marks[planIndex][Int(index)] == 2))
                    }
                    members.sort { ($0.matches ? 0 : 1, $0.id) < ($1.matches ? 0 : 1, $1.id) }
                }
                groups.append(
                    FleetGroup(
                        ruleID: rule.id,
                        facts: FleetFacts(
                            group: keys[plan.spec][group], total: total, matching: counted, members: members),
                        holds: holds))
            }
            result += groups.sorted { $0.facts.group < $1.facts.group }
        }
        return result
    }
}
