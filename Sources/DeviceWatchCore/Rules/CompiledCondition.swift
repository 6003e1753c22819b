import Foundation

/// Every string-valued test any rule makes (a tag pattern, a field's patterns, a status, a version
/// threshold) is an *atom* with one bit. A device's atoms are worked out once per evaluation; then
/// every device-rule pair is bit tests and number comparisons over plain values: no strings, no
/// reference counting, no allocation.
struct AtomTable: Sendable {
    private(set) var tagExact: [String: [Int]] = [:]
    private(set) var tagGlobs: [(Glob, Int)] = []
    private(set) var fields: [(DeviceField, [Glob], Int)] = []
    private(set) var statuses: [String: Int] = [:]
    /// The bits of the three statuses the API documents (-1: no rule tests it), so the usual
    /// device's status costs no string hashing.
    private var onlineBit = -1, offlineBit = -1, unknownBit = -1
    private(set) var versions: [(Version, Int)] = []
    private(set) var count = 0
    /// The tag patterns fleet rules group by (`tag:PATTERN`), at most 64: matched once per
    /// distinct tag (``TagInterner``); more are matched device by device.
    private(set) var groupTagPatterns: [Glob] = []

    /// The position of a `group_by` tag pattern among ``groupTagPatterns``; nil past 64.
    mutating func groupTagPattern(_ glob: Glob) -> Int? {
        if let existing = groupTagPatterns.firstIndex(of: glob) { return existing }
        guard groupTagPatterns.count < 64 else { return nil }
        groupTagPatterns.append(glob)
        return groupTagPatterns.count - 1
    }

    var wordCount: Int { max(1, (count + 63) / 64) }
    var comparesVersions: Bool { !versions.isEmpty }

    private mutating func next() -> Int {
        count += 1
        return count - 1
    }

    mutating func tag(_ glob: Glob) -> Int {
        if glob.hasWildcards {
            if let existing = tagGlobs.first(where: { $0.0 == glob }) { return existing.1 }
            let bit = next()
            tagGlobs.append((glob, bit))
            return bit
        }
        if let existing = tagExact[glob.pattern]?.first { return existing }
        let bit = next()
        tagExact[glob.pattern] = [bit]
        return bit
    }

    mutating func field(_ field: DeviceField, _ patterns: [Glob]) -> Int {
        if let existing = fields.first(where: { $0.0 == field && $0.1 == patterns }) { return existing.2 }
        let bit = next()
        fields.append((field, patterns, bit))
        return bit
    }

    mutating func status(_ status: String) -> Int {
        if let existing = statuses[status] { return existing }
        let bit = next()
        statuses[status] = bit
        switch status {
        case "online": onlineBit = bit
        case "offline": offlineBit = bit
        case "unknown": unknownBit = bit
        default: break
        }
        return bit
    }

    mutating func version(_ version: Version) -> Int {
        if let existing = versions.first(where: { $0.0 == version }) { return existing.1 }
        let bit = next()
        versions.append((version, bit))
        return bit
    }

    /// The tag atoms a tag sets.
    func bits(ofTag tag: String) -> [Int] {
        (tagExact[tag] ?? []) + tagGlobs.filter { $0.0.matches(tag) }.map(\.1)
    }

    /// Sets the bits of every atom that holds for the device (the version atoms come from `versionBits`),
    /// and lists the device's tags as `interner` indices in `tagIndices` (-1 for a tag past its limit).
    /// The device is read in place through a pointer: copying it would count 14 references.
    func fill(
        _ bits: UnsafeMutableBufferPointer<UInt64>, for device: UnsafePointer<Device>, versionBits: [Int],
        interner: inout TagInterner, tagIndices: inout [Int32]
    ) {
        for index in bits.indices { bits[index] = 0 }
        @inline(__always) func set(_ bit: Int) { bits[bit >> 6] |= 1 << UInt64(bit & 63) }
        tagIndices.removeAll(keepingCapacity: true)
        for (position, tag) in device.pointee.tags.enumerated() {
            if let index = interner.intern(tag, at: position, atoms: self) {
                interner.forEachBit(of: index, set)
                tagIndices.append(index)
            } else {
                for bit in self.bits(ofTag: tag) { set(bit) }
                tagIndices.append(-1)
            }
        }
        for (field, patterns, bit) in fields {
            if let value = field.value(of: device.pointee), patterns.contains(where: { $0.matches(value) }) { set(bit) }
        }
        if let status = device.pointee.status {
            let bit =
                switch status {
                case .online: onlineBit
                case .offline: offlineBit
                case .unknown: unknownBit
                case .other(let value): statuses[value] ?? -1
                }
            if bit >= 0 { set(bit) }
        }
        for bit in versionBits { set(bit) }
    }

    /// The version atoms that hold for a device version (computed once per distinct version text).
    func versionBits(for raw: String) -> (parsed: Bool, bits: [Int]) {
        guard let version = Version(raw) else { return (false, []) }
        return (true, versions.filter { version < $0.0 }.map(\.1))
    }
}

/// Every rule's compiled condition in two shared arrays, so evaluating a pair touches only
/// plain values in borrowed buffers.
struct CompiledRules: Sendable {
    private(set) var nodes: [CompiledCondition.Node] = []
    private(set) var children: [Int32] = []
    /// The root node of each rule.
    private(set) var roots: [Int] = []

    mutating func append(_ condition: CompiledCondition) {
        let nodeOffset = Int32(nodes.count), childOffset = Int32(children.count)
        for var node in condition.nodes {
            node.first += childOffset
            nodes.append(node)
        }
        children += condition.children.map { $0 + nodeOffset }
        roots.append(condition.root + Int(nodeOffset))
    }
}

/// A compiled condition: a tree of plain-value nodes in one contiguous array.
struct CompiledCondition: Sendable {
    enum Kind: UInt8, Sendable {
        case atom, offlineFor, unknownFor, all, any, not
    }

    /// One node. `atom`: `word`/`mask`; `offlineFor`/`unknownFor`: `seconds`; `all`/`any`/`not`:
    /// children are the `count` nodes listed in `children` from `first`.
    struct Node: Sendable {
        var kind: Kind
        var word: Int32 = 0
        var mask: UInt64 = 0
        var seconds: Double = 0
        var first: Int32 = 0
        var count: Int32 = 0
    }

    private(set) var nodes: [Node] = []
    private(set) var children: [Int32] = []
    /// The node evaluation starts at.
    private(set) var root: Int = 0

    init(_ condition: Condition, atoms: inout AtomTable) {
        root = Int(add(condition, atoms: &atoms))
    }

    private mutating func append(_ node: Node) -> Int32 {
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    private mutating func atom(_ bit: Int) -> Int32 {
        append(Node(kind: .atom, word: Int32(bit >> 6), mask: 1 << UInt64(bit & 63)))
    }

    private mutating func group(_ kind: Kind, _ members: [Int32]) -> Int32 {
        let first = Int32(children.count)
        children += members
        return append(Node(kind: kind, first: first, count: Int32(members.count)))
    }

    private mutating func add(_ condition: Condition, atoms: inout AtomTable) -> Int32 {
        switch condition {
        case .offlineFor(let age): return append(Node(kind: .offlineFor, seconds: age.timeInterval))
        case .unknownFor(let age): return append(Node(kind: .unknownFor, seconds: age.timeInterval))
        case .rfdmVersionBelow(let version): return atom(atoms.version(version))
        case .status(let statuses):
            let members = statuses.map { atom(atoms.status($0)) }
            return members.count == 1 ? members[0] : group(.any, members)
        case .field(let field, let patterns): return atom(atoms.field(field, patterns))
        case .tags(let filter):
            var members = filter.allOf.map { atom(atoms.tag($0)) }
            if !filter.anyOf.isEmpty { members.append(group(.any, filter.anyOf.map { atom(atoms.tag($0)) })) }
            if !filter.noneOf.isEmpty {
                members.append(group(.not, [group(.any, filter.noneOf.map { atom(atoms.tag($0)) })]))
            }
            return members.count == 1 ? members[0] : group(.all, members)
        case .all(let parts): return group(.all, parts.map { add($0, atoms: &atoms) })
        case .any(let parts): return group(.any, parts.map { add($0, atoms: &atoms) })
        case .not(let inner): return group(.not, [add(inner, atoms: &atoms)])
        }
    }
}

/// Evaluates compiled conditions for one device, over borrowed buffers.
struct ConditionEvaluator {
    let nodes: UnsafeBufferPointer<CompiledCondition.Node>
    let children: UnsafeBufferPointer<Int32>
    let bits: UnsafeBufferPointer<UInt64>
    /// Seconds since the last heartbeat (a future one counts as 0); negative when it never heartbeated.
    let heartbeatAge: Double
    /// Seconds since creation or first sighting of a device that never heartbeated; negative otherwise.
    let unknownAge: Double

    func holds(_ index: Int) -> Bool {
        let node = nodes[index]
        switch node.kind {
        case .atom: return bits[Int(node.word)] & node.mask != 0
        case .offlineFor: return heartbeatAge >= 0 && heartbeatAge >= node.seconds
        case .unknownFor: return unknownAge >= 0 && unknownAge >= node.seconds
        case .all:
            for offset in 0..<Int(node.count) where !holds(Int(children[Int(node.first) + offset])) { return false }
            return true
        case .any:
            for offset in 0..<Int(node.count) where holds(Int(children[Int(node.first) + offset])) { return true }
            return false
        case .not:
            return !holds(Int(children[Int(node.first)]))
        }
    }
}
