/// A string pattern with `*` (any run of characters) and `?` (one character), compiled once.
/// A pattern without wildcards is an exact comparison.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    private enum Token: Sendable, Hashable {
        case literal(Unicode.Scalar)
        case one
        case many
    }

    public let pattern: String
    private let tokens: [Token]
    /// Whether the pattern has wildcards; if not, matching is string equality.
    public let hasWildcards: Bool
    /// For a pattern that is a literal prefix and one `*` (`site-*`, the usual tag pattern):
    /// the prefix, matched by comparing bytes (scalars equal exactly when their UTF-8 does).
    private let prefix: String?

    public init(_ pattern: String) {
        self.pattern = pattern
        var tokens: [Token] = []
        for scalar in pattern.unicodeScalars {
            switch scalar {
            case "*": if tokens.last != .many { tokens.append(.many) }
            case "?": tokens.append(.one)
            default: tokens.append(.literal(scalar))
            }
        }
        self.tokens = tokens
        hasWildcards = tokens.contains { $0 == .one || $0 == .many }
        var literal = String.UnicodeScalarView()
        for token in tokens.dropLast() {
            if case .literal(let scalar) = token { literal.append(scalar) }
        }
        prefix =
            tokens.last == .many && literal.count == tokens.count - 1 ? String(literal) : nil
    }

    public var description: String { pattern }

    /// Whether `text` matches, without allocating: the classic linear wildcard match with one
    /// backtrack point (the last `*`).
    public func matches(_ text: String) -> Bool {
        guard hasWildcards else { return text == pattern }
        if let prefix { return text.utf8.starts(with: prefix.utf8) }
        let scalars = text.unicodeScalars
        var t = scalars.startIndex
        var p = 0
        var starP = -1
        var starT = scalars.startIndex
        while t < scalars.endIndex {
            if p < tokens.count {
                switch tokens[p] {
                case .many:
                    starP = p
                    starT = t
                    p += 1
                    continue
                case .one:
                    p += 1
                    t = scalars.index(after: t)
                    continue
                case .literal(let scalar) where scalar == scalars[t]:
                    p += 1
                    t = scalars.index(after: t)
                    continue
                case .literal:
                    break
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starT = scalars.index(after: starT)
            t = starT
        }
        while p < tokens.count, tokens[p] == .many { p += 1 }
        return p == tokens.count
    }
}
