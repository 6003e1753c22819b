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
        /// `pattern`: its position among the atom table's group tag patterns, when it has one.
        case tag(Glob, pattern: Int?)
    }

    let parts: [Part]

    /// The pattern of a spec that is one `tag:PATTERN` and nothing else (the usual `tag:site-*`):
    /// its groups are found from the device's interned tags, without building a key.
    var onlyTagPattern: Int? {
        guard parts.count == 1, case .tag(_, let pattern?) = parts[0] else { return nil }
        return pattern
    }

    /// How a device's group under this spec is found fastest. Its payloads are plain values, so
    /// reading it for every device copies nothing reference-counted (a ``Part`` would).
    enum Shortcut: Sendable {
        /// One `tag:PATTERN`: from the device's interned tags (see ``onlyTagPattern``).
        case tagPattern(Int)
        /// One fact (`type`, `platform`, `architecture`): its value is the key.
        case field(DeviceField)
        /// Anything else: the key is built (``key(for:workspace:)``).
        case built
    }

    var shortcut: Shortcut {
        if let pattern = onlyTagPattern { return .tagPattern(pattern) }
        if parts.count == 1, case .field(let field) = parts[0] { return .field(field) }
        return .built
    }

    init(_ entries: [String], rule: Rule, atoms: inout AtomTable) {
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
                    : {
                        let glob = Glob(String(entry.dropFirst(4)))
                        return .tag(glob, pattern: atoms.groupTagPattern(glob))
                    }()
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
            case .tag(let glob, _):
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

/// The groups of one evaluation. While the devices are met, only what is cheap per device is
/// written: each device's group under each spec it is selected for, and per fleet rule a mark
/// (selected; selected and counted). Counting, and listing the members of groups that hold, are
/// tight passes over those arrays afterwards.
struct FleetTally {
    private let deviceCount: Int
    private var keys: [[String]]
    private var indexByKey: [[String: Int32]]
    /// Per spec of one tag pattern: the group of each interned tag (-1: not met yet).
    private var groupOfTag: [[Int32]]
    /// Per spec, the last key met and its group: devices alike in a fact come in runs.
    private var lastKey: [(key: String, group: Int32)?]
    private let marks: Marks

    /// What the device loop writes for every device, up to a mark per fleet rule and a group per
    /// spec: in memory of its own, so those writes go without an array's uniqueness check.
    private final class Marks {
        /// `groupOfDevice[spec * deviceCount + device]`: -1 until worked out.
        let groupOfDevice: UnsafeMutableBufferPointer<Int32>
        /// `plans[plan * deviceCount + device]`: 1 selected, 2 selected and counted.
        let plans: UnsafeMutableBufferPointer<UInt8>

        init(specs: Int, plans: Int, devices: Int) {
            groupOfDevice = .allocate(capacity: specs * devices)
            groupOfDevice.initialize(repeating: -1)
            self.plans = .allocate(capacity: plans * devices)
            self.plans.initialize(repeating: 0)
        }

        deinit {
            groupOfDevice.deallocate()
            plans.deallocate()
        }
    }

    init(specs: Int, plans: Int, devices: Int) {
        deviceCount = devices
        keys = Array(repeating: [], count: specs)
        indexByKey = Array(repeating: [:], count: specs)
        groupOfTag = Array(repeating: [], count: specs)
        lastKey = Array(repeating: nil, count: specs)
        marks = Marks(specs: specs, plans: plans, devices: devices)
    }

    /// Records that `plan` selected the device (and whether it counts), in `group` of its spec.
    @inline(__always)
    func mark(plan: Int, spec: Int, device: Int, group: Int32, counted: Bool) {
        marks.plans[plan * deviceCount + device] = counted ? 2 : 1
        marks.groupOfDevice[spec * deviceCount + device] = group
    }

    /// The group of the interned tag `tag` under `spec` (a spec of one tag pattern), made when new.
    @inline(__always)
    mutating func group(spec: Int, tag: Int32, text: @autoclosure () -> String) -> Int32 {
        let index = Int(tag)
        if index < groupOfTag[spec].count, groupOfTag[spec][index] >= 0 { return groupOfTag[spec][index] }
        if groupOfTag[spec].count <= index {
            groupOfTag[spec] += repeatElement(-1, count: index + 1 - groupOfTag[spec].count)
        }
        let group = self.group(spec: spec, key: text())
        groupOfTag[spec][index] = group
        return group
    }

    /// The group of a built key under `spec`: devices alike in a fact come in runs, so the last
    /// key is compared first.
    mutating func group(spec: Int, builtKey key: String) -> Int32 {
        if let last = lastKey[spec], last.key == key { return last.group }
        let group = self.group(spec: spec, key: key)
        lastKey[spec] = (key, group)
        return group
    }

    /// The group of `key` under `spec`, made when it is new.
    mutating func group(spec: Int, key: String) -> Int32 {
        if let existing = indexByKey[spec][key] { return existing }
        let group = Int32(keys[spec].count)
        keys[spec].append(key)
        indexByKey[spec][key] = group
        return group
    }

    /// Every group of each plan, by key; members for those that hold (or all, with `allMembers`).
    func groups(
        plans: [FleetPlan], rules: [Rule], devices: UnsafeBufferPointer<Device>, at now: Date, allMembers: Bool
    ) -> [FleetGroup] {
        var result: [FleetGroup] = []
        for (planIndex, plan) in plans.enumerated() {
            let rule = rules[plan.ruleIndex]
            guard let fleet = rule.fleet else { continue }
            let groupCount = keys[plan.spec].count
            var totals = [Int](repeating: 0, count: groupCount), counted = totals
            let marks = UnsafeBufferPointer(
                rebasing: self.marks.plans[(planIndex * deviceCount)..<((planIndex + 1) * deviceCount)])
            let groupOf = UnsafeBufferPointer(
                rebasing: self.marks.groupOfDevice[(plan.spec * deviceCount)..<((plan.spec + 1) * deviceCount)])
            for device in 0..<deviceCount where marks[device] > 0 {
                let group = Int(groupOf[device])
                totals[group] += 1
                if marks[device] == 2 { counted[group] += 1 }
            }
            var holds = [Bool](repeating: false, count: groupCount)
            var listed = [Bool](repeating: false, count: groupCount)
            for group in 0..<groupCount where totals[group] > 0 {
                holds[group] = fleet.holds(total: totals[group], matching: counted[group])
                listed[group] = holds[group] || allMembers
            }
            var members = [[FleetMember]](repeating: [], count: groupCount)
            if listed.contains(true) {
                for device in 0..<deviceCount where marks[device] > 0 && listed[Int(groupOf[device])] {
                    let found = devices[device]
                    members[Int(groupOf[device])].append(
                        FleetMember(
                            id: found.id, name: found.displayName,
                            status: found.observedStatus(at: now).rawValue, matches: marks[device] == 2))
                }
            }
            var groups: [FleetGroup] = []
            for group in 0..<groupCount where totals[group] > 0 {
                groups.append(
                    FleetGroup(
                        ruleID: rule.id,
                        facts: FleetFacts(
                            group: keys[plan.spec][group], total: totals[group], matching: counted[group],
                            members: members[group].sorted { $0.id < $1.id }),
                        holds: holds[group]))
            }
            result += groups.sorted { $0.facts.group < $1.facts.group }
        }
        return result
    }
}
