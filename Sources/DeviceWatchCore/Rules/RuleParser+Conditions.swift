/// A rule's `when`: condition objects, each key a test of the device.
extension RuleParser {
    /// A predicate object; several keys in one object must all hold.
    static func parseCondition(_ reader: NodeReader) -> Condition? {
        guard let fields = reader.object(known: conditionKeys) else { return nil }
        if reader.isEmptyObject {
            reader.report("an empty condition; give at least one of: \(conditionKeys.joined(separator: ", "))")
            return nil
        }
        var parts: [Condition] = []
        var valid = true
        // File order, so explanations follow what the user wrote.
        guard case .object(let members) = reader.node.value else { return nil }
        for member in members {
            guard let field = fields[member.key] else { continue }
            if let part = parseLeaf(key: member.key, field) { parts.append(part) } else { valid = false }
        }
        guard valid, !parts.isEmpty else { return nil }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private static func parseLeaf(key: String, _ reader: NodeReader) -> Condition? {
        switch key {
        case "offline_for": return reader.duration().map { .offlineFor($0) }
        case "unknown_for": return reader.duration().map { .unknownFor($0) }
        case "rfdm_version_below":
            guard let text = reader.string("a version such as \"1.4.0\"") else { return nil }
            guard let version = Version(text) else {
                reader.report("expected a dotted numeric version such as \"1.4.0\" or \"v1.10\", got \"\(text)\"")
                return nil
            }
            return .rfdmVersionBelow(version)
        case "status":
            guard let statuses = reader.stringOrList("a status or a list of them (online, offline, unknown)") else {
                return nil
            }
            guard !statuses.isEmpty else {
                reader.report("list at least one status")
                return nil
            }
            for status in statuses where !["online", "offline", "unknown"].contains(status) {
                let hint = NameSuggestion.closest(to: status, among: ["online", "offline", "unknown"]).map {
                    "; did you mean \"\($0)\"?"
                }
                // Unknown statuses are allowed (the API may add some); a near miss is surely a typo.
                if let hint {
                    reader.report("\"\(status)\" is not a status the API sends\(hint)")
                    return nil
                }
            }
            return .status(statuses)
        case "tags":
            guard let fields = reader.object(known: ["all_of", "any_of", "none_of"]) else { return nil }
            var filter = TagFilter()
            var valid = true
            func globs(_ key: String) -> [Glob] {
                guard let field = fields[key] else { return [] }
                guard let list = field.stringOrList("a tag or a list of tags") else {
                    valid = false
                    return []
                }
                if list.isEmpty {
                    field.report("list at least one tag (or leave \"\(key)\" out)")
                    valid = false
                }
                return list.map(Glob.init)
            }
            filter.allOf = globs("all_of")
            filter.anyOf = globs("any_of")
            filter.noneOf = globs("none_of")
            guard valid, fields.count > 0 || reader.isEmptyObject else { return nil }
            if filter.allOf.isEmpty, filter.anyOf.isEmpty, filter.noneOf.isEmpty {
                reader.report("give at least one of all_of, any_of, none_of")
                return nil
            }
            return .tags(filter)
        case "all", "any":
            guard let items = reader.array() else { return nil }
            guard !items.isEmpty else {
                reader.report("\"\(key)\" needs at least one condition")
                return nil
            }
            let parts = items.map(parseCondition)
            guard parts.allSatisfy({ $0 != nil }) else { return nil }
            return key == "all" ? .all(parts.compactMap { $0 }) : .any(parts.compactMap { $0 })
        case "not":
            return parseCondition(reader).map { .not($0) }
        default:
            guard let field = DeviceField(rawValue: key) else { return nil }
            guard let patterns = reader.stringOrList("a string, a glob such as \"cam-*\", or a list of them") else {
                return nil
            }
            guard !patterns.isEmpty else {
                reader.report("list at least one pattern")
                return nil
            }
            return .field(field, patterns.map(Glob.init))
        }
    }
}
