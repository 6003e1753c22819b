/// Reads typed values out of a ``JSONNode``, reporting every mismatch to a ``DiagnosticLog``
/// with its JSON path and position, and returning nil for what could not be read.
public struct NodeReader {
    public let node: JSONNode
    public let path: String
    public let log: DiagnosticLog

    public init(node: JSONNode, path: String = "", log: DiagnosticLog) {
        self.node = node
        self.path = path
        self.log = log
    }

    /// A reader of a whole file's text, or nil when it is not JSON (reported to `log` at the
    /// line and column where it stops being JSON).
    public static func parsing(_ text: String, log: DiagnosticLog) -> NodeReader? {
        do {
            return NodeReader(node: try JSONParser.parse(text), log: log)
        } catch {
            log.report(
                "not valid JSON: \(error.message)", path: "",
                at: JSONNode(value: .null, line: error.line, column: error.column))
            return nil
        }
    }

    public func report(_ message: String) {
        log.report(message, path: path, at: node)
    }

    public func child(_ key: String, _ node: JSONNode) -> NodeReader {
        let simple =
            !key.isEmpty
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "$") }
        let step = simple ? (path.isEmpty ? key : ".\(key)") : "[\"\(key)\"]"
        return NodeReader(node: node, path: path + step, log: log)
    }

    public var isNull: Bool { node.value == .null }

    /// The element at `index` of an array node (itself, when the node is a single value).
    public func element(_ index: Int) -> NodeReader {
        guard case .array(let items) = node.value, index < items.count else { return self }
        return NodeReader(node: items[index], path: "\(path)[\(index)]", log: log)
    }

    /// Whether the node is an object with no members at all (known or not).
    public var isEmptyObject: Bool {
        if case .object(let members) = node.value { return members.isEmpty }
        return false
    }

    /// The members of an object, reporting unknown keys (with a suggestion for near misses).
    /// A top-level `"$schema"` is always allowed.
    public func object(known: [String]) -> [String: NodeReader]? {
        guard case .object(let members) = node.value else {
            report("expected an object, got \(node.kindDescription)")
            return nil
        }
        var fields: [String: NodeReader] = [:]
        for member in members {
            let reader = child(member.key, member.value)
            if known.contains(member.key) || (member.key == "$schema" && path.isEmpty) {
                fields[member.key] = reader
            } else {
                let keyNode = JSONNode(value: .string(member.key), line: member.keyLine, column: member.keyColumn)
                let message =
                    NameSuggestion.closest(to: member.key, among: known).map {
                        "unknown key \"\(member.key)\"; did you mean \"\($0)\"?"
                    } ?? "unknown key \"\(member.key)\"; expected one of: \(known.joined(separator: ", "))"
                log.report(message, path: reader.path, at: keyNode)
            }
        }
        return fields
    }

    /// The members of an object whose keys are names chosen by the user (receivers, labels).
    public func members() -> [(String, NodeReader)]? {
        guard case .object(let members) = node.value else {
            report("expected an object, got \(node.kindDescription)")
            return nil
        }
        return members.map { ($0.key, child($0.key, $0.value)) }
    }

    public func array() -> [NodeReader]? {
        guard case .array(let items) = node.value else {
            report("expected an array, got \(node.kindDescription)")
            return nil
        }
        return items.enumerated().map { NodeReader(node: $1, path: "\(path)[\($0)]", log: log) }
    }

    public func string(_ expectation: String = "a string") -> String? {
        guard case .string(let text) = node.value else {
            report("expected \(expectation), got \(node.kindDescription)")
            return nil
        }
        return text
    }

    public func bool() -> Bool? {
        guard case .bool(let flag) = node.value else {
            report("expected true or false, got \(node.kindDescription)")
            return nil
        }
        return flag
    }

    public func number() -> Double? {
        guard case .number(let number) = node.value else {
            report("expected a number, got \(node.kindDescription)")
            return nil
        }
        return number
    }

    /// A string, or a list of strings; reported when neither.
    public func stringOrList(_ expectation: String = "a string or a list of strings") -> [String]? {
        switch node.value {
        case .string(let text): return [text]
        case .array(let items):
            var strings: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item.value else {
                    NodeReader(node: item, path: "\(path)[\(index)]", log: log).report(
                        "expected a string, got \(item.kindDescription)")
                    return nil
                }
                strings.append(text)
            }
            return strings
        default:
            report("expected \(expectation), got \(node.kindDescription)")
            return nil
        }
    }

    public func strings() -> [String]? {
        guard case .array = node.value else {
            report("expected a list of strings, got \(node.kindDescription)")
            return nil
        }
        return stringOrList()
    }

    /// A duration such as `90s`, `15m`, `4h`, `2d`.
    public func duration() -> Duration? {
        guard let text = string("a duration such as \"90s\", \"15m\", \"4h\" or \"2d\"") else { return nil }
        guard let duration = DurationText.duration(text) else {
            report("expected a duration such as \"90s\", \"15m\", \"4h\" or \"2d\", got \"\(text)\"")
            return nil
        }
        return duration
    }
}
