/// One problem in a configuration, rule or test file, precise enough to fix without guessing.
public struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, as the user named it.
    public var file: String
    /// The rule the problem is in, when it is in one.
    public var ruleID: String?
    /// The JSON path, e.g. `rules[3].when.offline_for`; empty for the whole file.
    public var path: String
    public var line: Int?
    public var column: Int?
    /// What is wrong and what was expected.
    public var message: String

    public init(
        file: String, ruleID: String? = nil, path: String, line: Int? = nil, column: Int? = nil, message: String
    ) {
        self.file = file
        self.ruleID = ruleID
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// `rules/prod.json:14:9: rule "production-offline": rules[0].when.ofline_for: unknown key; did you mean "offline_for"?`
    public var description: String {
        var text = file
        if let line { text += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        text += ": "
        if let ruleID { text += "rule \"\(ruleID)\": " }
        if !path.isEmpty { text += "\(path): " }
        return text + message
    }
}

/// Problems found while reading one file; every problem is kept, not only the first.
public final class DiagnosticLog {
    public let file: String
    public private(set) var diagnostics: [Diagnostic] = []
    /// The rule being read, named in every problem reported meanwhile.
    public var ruleID: String?

    public init(file: String) {
        self.file = file
    }

    public func report(_ message: String, path: String, at node: JSONNode?) {
        diagnostics.append(
            Diagnostic(file: file, ruleID: ruleID, path: path, line: node?.line, column: node?.column, message: message)
        )
    }

    public var isEmpty: Bool { diagnostics.isEmpty }
}

/// Suggests the closest known name for a near-miss (`ofline_for` -> `offline_for`).
public enum NameSuggestion {
    public static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let lowered = name.lowercased()
        var best: (candidate: String, distance: Int, prefix: Int)?
        for candidate in candidates {
            let target = candidate.lowercased()
            // A truncated name ("all" for "all_of") is a near miss too.
            let distance = lowered.count >= 3 && target.hasPrefix(lowered) ? 1 : editDistance(lowered, target)
            let limit = max(1, min(3, candidate.count / 3))
            let prefix = zip(lowered, target).prefix { $0 == $1 }.count
            guard distance <= limit else { continue }
            // Ties go to the candidate sharing the longer start ("ofline": "offline", not "online").
            if best == nil || distance < best!.distance || (distance == best!.distance && prefix > best!.prefix) {
                best = (candidate, distance, prefix)
            }
        }
        return best?.candidate
    }

    /// Levenshtein distance, with a transposition counted as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
