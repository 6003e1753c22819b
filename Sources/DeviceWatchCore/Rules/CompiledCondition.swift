/// Tag patterns of all rules, each one bit; a device's tags become a bit set once per evaluation.
struct TagTable: Sendable {
    private var exact: [String: [Int]] = [:]
    private var globs: [(Glob, Int)] = []
    private(set) var count = 0

    var wordCount: Int { max(1, (count + 63) / 64) }

    /// The bit of a pattern, assigned on first use.
    mutating func bit(for glob: Glob) -> Int {
        if glob.hasWildcards {
            if let existing = globs.first(where: { $0.0 == glob }) { return existing.1 }
            globs.append((glob, count))
        } else {
            if let existing = exact[glob.pattern]?.first { return existing }
            exact[glob.pattern, default: []].append(count)
        }
        count += 1
        return count - 1
    }

    /// Sets the bits of every pattern that one of `tags` matches.
    func fill(_ bits: inout [UInt64], for tags: [String]) {
        for index in bits.indices { bits[index] = 0 }
        for tag in tags {
            if let indices = exact[tag] { for bit in indices { bits[bit >> 6] |= 1 << UInt64(bit & 63) } }
            for (glob, bit) in globs where glob.matches(tag) { bits[bit >> 6] |= 1 << UInt64(bit & 63) }
        }
    }
}

/// A predicate ready to evaluate: no strings to parse, no patterns to build, no allocation.
indirect enum CompiledCondition: Sendable {
    case offlineFor(Double)
    case unknownFor(Double)
    case versionBelow(Version)
    case status(known: UInt8, others: [String])
    case tags(allOf: [Int], anyOf: [Int], noneOf: [Int])
    case field(DeviceField, [Glob])
    case all([CompiledCondition])
    case any([CompiledCondition])
    case not(CompiledCondition)

    static let onlineBit: UInt8 = 1, offlineBit: UInt8 = 2, unknownBit: UInt8 = 4

    init(_ predicate: Condition, tags: inout TagTable) {
        switch predicate {
        case .offlineFor(let seconds): self = .offlineFor(seconds)
        case .unknownFor(let seconds): self = .unknownFor(seconds)
        case .rfdmVersionBelow(let version): self = .versionBelow(version)
        case .status(let statuses):
            var known: UInt8 = 0
            var others: [String] = []
            for status in statuses {
                switch status {
                case "online": known |= Self.onlineBit
                case "offline": known |= Self.offlineBit
                case "unknown": known |= Self.unknownBit
                default: others.append(status)
                }
            }
            self = .status(known: known, others: others)
        case .tags(let filter):
            self = .tags(
                allOf: filter.allOf.map { tags.bit(for: $0) }, anyOf: filter.anyOf.map { tags.bit(for: $0) },
                noneOf: filter.noneOf.map { tags.bit(for: $0) })
        case .field(let field, let patterns): self = .field(field, patterns)
        case .all(let parts): self = .all(parts.map { CompiledCondition($0, tags: &tags) })
        case .any(let parts): self = .any(parts.map { CompiledCondition($0, tags: &tags) })
        case .not(let inner): self = .not(CompiledCondition(inner, tags: &tags))
        }
    }

    func holds(_ facts: DeviceFacts, _ tagBits: UnsafeBufferPointer<UInt64>) -> Bool {
        @inline(__always) func has(_ bit: Int) -> Bool { tagBits[bit >> 6] & (1 << UInt64(bit & 63)) != 0 }
        switch self {
        case .offlineFor(let seconds):
            guard let age = facts.heartbeatAge else { return false }
            return age >= seconds
        case .unknownFor(let seconds):
            guard let age = facts.unknownAge else { return false }
            return age >= seconds
        case .versionBelow(let minimum):
            guard let version = facts.version else { return false }
            return version < minimum
        case .status(let known, let others):
            switch facts.device.status {
            case .online?: return known & Self.onlineBit != 0
            case .offline?: return known & Self.offlineBit != 0
            case .unknown?: return known & Self.unknownBit != 0
            case .other(let value)?: return others.contains(value)
            case nil: return false
            }
        case .tags(let allOf, let anyOf, let noneOf):
            for bit in allOf where !has(bit) { return false }
            if !anyOf.isEmpty, !anyOf.contains(where: has) { return false }
            for bit in noneOf where has(bit) { return false }
            return true
        case .field(let field, let patterns):
            guard let value = field.value(of: facts.device) else { return false }
            return patterns.contains { $0.matches(value) }
        case .all(let parts):
            return parts.allSatisfy { $0.holds(facts, tagBits) }
        case .any(let parts):
            return parts.contains { $0.holds(facts, tagBits) }
        case .not(let inner):
            return !inner.holds(facts, tagBits)
        }
    }
}
