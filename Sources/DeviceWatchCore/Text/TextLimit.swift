/// A length limit as a service counts it.
///
/// Services count text in different units: Slack, Discord and PagerDuty in Unicode code points
/// or UTF-16 code units (JavaScript's `length`), some in UTF-8 bytes, and none in what Swift's
/// `String.count` gives (grapheme clusters: a flag, a ZWJ family or a letter with 5,000 combining
/// marks is one). A text fits a limit when its scalars and its UTF-16 units are at most
/// `characters` (UTF-16 units are never fewer than scalars, so that is the count checked) and,
/// when `bytes` is set, its UTF-8 encoding is at most `bytes`.
public struct TextLimit: Sendable, Equatable {
    /// Most Unicode scalars and most UTF-16 code units.
    public var characters: Int
    /// Most UTF-8 bytes, when the service limits bytes.
    public var bytes: Int?

    public init(_ characters: Int, bytes: Int? = nil) {
        self.characters = characters
        self.bytes = bytes
    }

    /// The mark that ends a cut text: one scalar, one UTF-16 unit, three UTF-8 bytes.
    public static let ellipsis = "…"
}

extension String {
    /// The text's length as the strictest of the services counts characters: UTF-16 code units,
    /// which are never fewer than its Unicode scalars.
    public var serviceLength: Int { utf16.count }

    /// Whether the text fits `limit` in every unit it names.
    public func fits(_ limit: TextLimit) -> Bool {
        // A quick answer for the usual short text: UTF-8 bytes bound both other counts.
        let bytes = utf8.count
        if bytes <= limit.characters, limit.bytes.map({ bytes <= $0 }) ?? true { return true }
        return utf16.count <= limit.characters && (limit.bytes.map { bytes <= $0 } ?? true)
    }

    /// The text cut to fit `limit`, on a grapheme boundary, ending in `…` when it was cut.
    ///
    /// A first grapheme cluster too long to fit at all and longer than any real character (a
    /// letter with thousands of combining marks) is cut between its scalars instead, so the cut
    /// text keeps as much as fits; an ordinary one (a flag, an emoji sequence) is never split.
    public func capped(_ limit: TextLimit) -> String {
        if fits(limit) { return self }
        let ellipsis = TextLimit.ellipsis
        let units = limit.characters - ellipsis.utf16.count
        let bytes = (limit.bytes ?? .max) - ellipsis.utf8.count
        guard units >= 0, bytes >= 0 else { return "" }
        var usedUnits = 0
        var usedBytes = 0
        var end = startIndex
        for character in self {
            let characterUnits = character.utf16.count
            let characterBytes = character.utf8.count
            guard usedUnits + characterUnits <= units, usedBytes + characterBytes <= bytes else { break }
            usedUnits += characterUnits
            usedBytes += characterBytes
            end = index(after: end)
        }
        if end == startIndex, let first = first, first.utf16.count > 32 {
            // Not even the first grapheme fits, and it is no ordinary one: keep the scalars that do.
            var scalars = String.UnicodeScalarView()
            for scalar in unicodeScalars {
                let scalarUnits = UTF16.width(scalar)
                let scalarBytes = UTF8.width(scalar)
                guard usedUnits + scalarUnits <= units, usedBytes + scalarBytes <= bytes else { break }
                usedUnits += scalarUnits
                usedBytes += scalarBytes
                scalars.append(scalar)
            }
            return String(scalars) + ellipsis
        }
        return String(self[..<end]) + ellipsis
    }
}
