import Foundation
import Mustache

/// Rules compiled once (at load or reload) for evaluation without parsing, regex building or
/// allocation per device-rule pair: durations are seconds, versions numeric, tags interned as
/// bits, globs precompiled and summary and description templates parsed.
public struct RuleSet: Sendable {
    public let rules: [Rule]
    /// Each rule by id (the first of an id), built once per rule set.
    public let byID: [String: Rule]
    let indexByID: [String: Int]
    /// Each rule's `where` and `when` as one compiled condition (`all` of both).
    private let compiled: CompiledRules
    let summaries: [MustacheTemplate]
    /// Each rule's description template; nil for a rule without one (or with an invalid one).
    let descriptions: [MustacheTemplate?]
    private let atoms: AtomTable
    /// The rules judged device by device (not fleet rules), by index.
    private let deviceRules: [Int]
    private let fleetPlans: [FleetPlan]
    private let groupSpecs: [GroupSpec]
    /// Each spec's ``GroupSpec/shortcut``, worked out once.
    private let groupShortcuts: [GroupSpec.Shortcut]

    /// Compiles rules whose summaries and descriptions are valid templates (see
    /// ``templateProblems(_:)``); an invalid summary falls back to ``Rule/defaultSummary``, an
    /// invalid description is left out.
    public init(_ rules: [Rule]) {
        self.rules = rules
        var indexByID: [String: Int] = [:]
        for (index, rule) in rules.enumerated() where indexByID[rule.id] == nil { indexByID[rule.id] = index }
        self.indexByID = indexByID
        byID = indexByID.mapValues { rules[$0] }
        var atoms = AtomTable()
        var compiled = CompiledRules()
        for rule in rules {
            // A fleet rule's root is its per-device condition alone: it is tested only on devices
            // its `where` selected.
            let condition = rule.fleet?.of ?? rule.selector.map { .all([$0, rule.condition]) } ?? rule.condition
            compiled.append(CompiledCondition(condition, atoms: &atoms))
        }
        // A fleet rule's `where` (who is in a group) is a root after every rule's, shared by the
        // fleet rules that select alike, so a device is tested once per distinct `where`.
        var fleetPlans: [FleetPlan] = [], groupSpecs: [GroupSpec] = [], deviceRules: [Int] = []
        var selectorRoots: [(Condition, Int)] = []
        for (index, rule) in rules.enumerated() {
            guard let fleet = rule.fleet else {
                deviceRules.append(index)
                continue
            }
            let selector = rule.selector ?? .all([])
            let selectorRoot =
                selectorRoots.first { $0.0 == selector }?.1
                ?? {
                    compiled.append(CompiledCondition(selector, atoms: &atoms))
                    selectorRoots.append((selector, compiled.roots.count - 1))
                    return compiled.roots.count - 1
                }()
            let spec = GroupSpec(fleet.groupBy, rule: rule, atoms: &atoms)
            let specIndex =
                groupSpecs.firstIndex(of: spec)
                ?? {
                    groupSpecs.append(spec)
                    return groupSpecs.count - 1
                }()
            fleetPlans.append(
                FleetPlan(ruleIndex: index, selectorRoot: selectorRoot, matchRoot: index, spec: specIndex))
        }
        self.compiled = compiled
        self.deviceRules = deviceRules
        self.fleetPlans = fleetPlans
        self.groupSpecs = groupSpecs
        groupShortcuts = groupSpecs.map(\.shortcut)
        summaries = rules.map { rule in
            let fallback = rule.isFleet ? Rule.defaultFleetSummary : Rule.defaultSummary
            return (try? RuleSet.template(rule.summary ?? fallback)) ?? (try! RuleSet.template(fallback))
        }
        descriptions = rules.map { rule in rule.description.flatMap { try? RuleSet.template($0) } }
        self.atoms = atoms
    }

    /// Summary templates are plain text: nothing is HTML-escaped (receivers escape for their format).
    static func template(_ text: String) throws -> MustacheTemplate {
        try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
    }

    /// The rules whose summary or description is not a valid Mustache template, with the parser's message.
    public static func templateProblems(_ rules: [Rule]) -> [(rule: Rule, field: String, message: String)] {
        var problems: [(Rule, String, String)] = []
        for rule in rules {
            for (field, text) in [("summary", rule.summary), ("description", rule.description)] {
                guard let text else { continue }
                do { _ = try template(text) } catch {
                    problems.append((rule, field, "not a valid Mustache template: \(error)"))
                }
            }
        }
        return problems
    }

    /// Evaluates every rule against every device of one workspace's snapshot.
    ///
    /// Allocates nothing for a device-rule pair that does not match: device facts (tag bits,
    /// ages, the parsed version) are worked out once per device, versions once per distinct text.
    /// - Parameters:
    ///   - devices: the workspace's device list.
    ///   - firstSeen: when devicewatch first saw each device, for `unknown_for` without `created_at`.
    ///   - now: the evaluation time (the API's clock).
    ///   - fleetMembers: also list the members of fleet groups that do not hold (for `eval`).
    public func evaluate(
        workspace: String, devices: [Device], firstSeen: [String: Date] = [:], at now: Date, fleetMembers: Bool = false
    ) -> Evaluation {
        var byRule = [[Finding]](repeating: [], count: rules.count)
        var tally = FleetTally(
            specs: groupSpecs.count, plans: fleetPlans.count, devices: fleetPlans.isEmpty ? 0 : devices.count)
        var fleetGroups: [FleetGroup] = []
        var unversioned: [(String, String?)] = []
        var versionBits: [String: (parsed: Bool, bits: [Int])] = [:]
        var bits = [UInt64](repeating: 0, count: atoms.wordCount)
        var interner = TagInterner()
        // Per device: whether each distinct `where` selects it, and its group under each spec
        // (worked out when a plan first needs it: `groupOf` holds for the device `groupFor` names).
        // Plain memory, written without an array's uniqueness check and never reset.
        let selected = UnsafeMutableBufferPointer<Bool>.allocate(capacity: compiled.roots.count - rules.count)
        let groupOf = UnsafeMutableBufferPointer<Int32>.allocate(capacity: groupSpecs.count)
        let groupFor = UnsafeMutableBufferPointer<Int>.allocate(capacity: groupSpecs.count)
        groupFor.initialize(repeating: -1)
        defer {
            selected.deallocate()
            groupOf.deallocate()
            groupFor.deallocate()
        }
        var tagIndices: [Int32] = []
        let nowSeconds = now.timeIntervalSince1970
        compiled.nodes.withUnsafeBufferPointer { nodes in
            compiled.children.withUnsafeBufferPointer { children in
                compiled.roots.withUnsafeBufferPointer { roots in
                    devices.withUnsafeBufferPointer { devices in
                        for deviceIndex in devices.indices {
                            let device = devices.baseAddress! + deviceIndex
                            var ownVersionBits: [Int] = []
                            if atoms.comparesVersions {
                                var parsed = false
                                if let raw = device.pointee.rfdmVersion {
                                    if let cached = versionBits[raw] {
                                        (parsed, ownVersionBits) = cached
                                    } else {
                                        let computed = atoms.versionBits(for: raw)
                                        versionBits[raw] = computed
                                        (parsed, ownVersionBits) = computed
                                    }
                                }
                                if !parsed { unversioned.append((device.pointee.id, device.pointee.rfdmVersion)) }
                            }
                            bits.withUnsafeMutableBufferPointer {
                                atoms.fill(
                                    $0, for: device, versionBits: ownVersionBits, interner: &interner,
                                    tagIndices: &tagIndices)
                            }
                            let lastHeartbeat = device.pointee.lastHeartbeat, createdAt = device.pointee.createdAt
                            let seen = lastHeartbeat == nil && createdAt == nil ? firstSeen[device.pointee.id] : nil
                            let heartbeatAge = lastHeartbeat.map { max(0, nowSeconds - $0.timeIntervalSince1970) } ?? -1
                            let unknownAge =
                                lastHeartbeat != nil
                                ? -1 : (createdAt ?? seen).map { max(0, nowSeconds - $0.timeIntervalSince1970) } ?? -1
                            bits.withUnsafeBufferPointer { bits in
                                let evaluator = ConditionEvaluator(
                                    nodes: nodes, children: children, bits: bits, heartbeatAge: heartbeatAge,
                                    unknownAge: unknownAge)
                                for ruleIndex in deviceRules where evaluator.holds(roots[ruleIndex]) {
                                    byRule[ruleIndex].append(
                                        Finding(
                                            workspace: workspace, ruleID: rules[ruleIndex].id,
                                            severity: rules[ruleIndex].severity,
                                            device: device.pointee, evaluatedAt: now, firstSeen: seen))
                                }
                                guard !fleetPlans.isEmpty else { return }
                                // Every distinct `where` once (fleet rules share one or two).
                                for slot in selected.indices {
                                    selected[slot] = evaluator.holds(roots[rules.count + slot])
                                }
                                for (planIndex, plan) in fleetPlans.enumerated()
                                where selected[plan.selectorRoot - rules.count] {
                                    if groupFor[plan.spec] != deviceIndex {
                                        groupOf[plan.spec] = group(
                                            spec: plan.spec, device: device, workspace: workspace,
                                            tagIndices: tagIndices, interner: &interner, tally: &tally)
                                        groupFor[plan.spec] = deviceIndex
                                    }
                                    tally.mark(
                                        plan: planIndex, spec: plan.spec, device: deviceIndex,
                                        group: groupOf[plan.spec], counted: evaluator.holds(roots[plan.matchRoot]))
                                }
                            }
                        }
                        if !fleetPlans.isEmpty {
                            fleetGroups = tally.groups(
                                plans: fleetPlans, rules: rules, devices: devices, at: now, allMembers: fleetMembers)
                        }
                    }
                }
            }
        }
        var counts: [String: Int] = [:]
        for (index, rule) in rules.enumerated() { counts[rule.id] = byRule[index].count }
        for group in fleetGroups where group.holds { counts[group.ruleID, default: 0] += 1 }
        return Evaluation(
            findings: byRule.flatMap { $0 }, unversionedDevices: unversioned, matchCounts: counts,
            fleetGroups: fleetGroups)
    }

    /// A device's group under a fleet spec: from its interned tags for a spec of one tag
    /// pattern (the first matching tag in sorted order, as ``GroupSpec/key(for:workspace:)``
    /// chooses), else from the key the spec builds.
    private func group(
        spec: Int, device: UnsafePointer<Device>, workspace: String, tagIndices: [Int32],
        interner: inout TagInterner, tally: inout FleetTally
    ) -> Int32 {
        let pattern: Int
        switch groupShortcuts[spec] {
        case .tagPattern(let only) where !tagIndices.contains(-1):
            pattern = only
        case .field(let field):
            // As ``GroupSpec/key(for:workspace:)`` has it for one fact, without copying the spec.
            let value = field.value(of: device.pointee)
            return tally.group(spec: spec, builtKey: value?.isEmpty == false ? value! : GroupKey.none)
        default:
            return tally.group(spec: spec, builtKey: groupSpecs[spec].key(for: device, workspace: workspace))
        }
        var best: Int32 = -1
        for tag in tagIndices where interner.patternMatches[Int(tag)] & (1 << UInt64(pattern)) != 0 {
            if best < 0 || interner.tags[Int(tag)] < interner.tags[Int(best)] { best = tag }
        }
        guard best >= 0 else { return tally.group(spec: spec, key: GroupKey.none) }
        return tally.group(spec: spec, tag: best, text: interner.tags[Int(best)])
    }

    public func rule(_ id: String) -> Rule? {
        byID[id]
    }

    /// The group a device is in under a fleet rule's `group_by` (nil for a rule that is not one).
    func fleetGroupKey(rule id: String, device: Device, workspace: String) -> String? {
        guard let index = indexByID[id], let plan = fleetPlans.first(where: { $0.ruleIndex == index }) else {
            return nil
        }
        return withUnsafePointer(to: device) { groupSpecs[plan.spec].key(for: $0, workspace: workspace) }
    }
}
