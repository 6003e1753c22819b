import DeviceWatchCore

/// How device-controlled text is made inert in each receiver's markup.
///
/// Text reaches these functions already made inert for people (``InertText``: no control or
/// bidirectional characters); they add what each format needs on top, so a device named
/// `<!channel>`, `@everyone` or `[click here](http://evil.example)` mentions no one and links
/// nowhere. Only device- and API-controlled text goes through them: devicewatch's own links
/// (the status page) are written as markup on purpose.
enum Markup {
    /// Slack mrkdwn: its three control characters as entities (`<!channel>`, `<https://x|y>`).
    static func slack(_ text: String) -> String {
        var text = unlinked(text)
        guard
            text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
        else {
            return text
        }
        text = text.replacingOccurrences(of: "&", with: "&amp;")
        return text.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Markdown as Discord and Teams (Adaptive Cards) read it: a backslash before every character
    /// that starts markup anywhere (emphasis, code, spoilers, links, Discord's `<@id>` mentions
    /// and `<t:…>` tags), and before those that start markup at the beginning of a line
    /// (headings, quotes, lists). Both read a backslash before ASCII punctuation as "this
    /// character, literally" (CommonMark; Discord's parser likewise).
    static func markdown(_ text: String) -> String {
        let text = unlinked(text)
        guard
            text.utf8.contains(where: {
                Self.anywhere.contains($0) || Self.lineStart.contains($0) || ($0 >= 0x30 && $0 <= 0x39)
            })
        else {
            return text
        }
        var result = String.UnicodeScalarView()
        var atLineStart = true
        var digitsAtLineStart = false
        for scalar in text.unicodeScalars {
            let byte = scalar.isASCII ? UInt8(scalar.value) : 0
            if scalar.isASCII,
                anywhere.contains(byte) || (atLineStart && lineStart.contains(byte))
                    || (digitsAtLineStart && (byte == UInt8(ascii: ".") || byte == UInt8(ascii: ")")))
            {
                result.append("\\")
            }
            result.append(scalar)
            if scalar == "\n" {
                atLineStart = true
                digitsAtLineStart = false
            } else if atLineStart, scalar == " " || scalar == "\t" {
                continue
            } else {
                let isDigit = byte >= 0x30 && byte <= 0x39
                digitsAtLineStart = (atLineStart || digitsAtLineStart) && isDigit
                atLineStart = false
            }
        }
        return String(result)
    }

    /// ASCII that starts markup wherever it stands.
    private static let anywhere: Set<UInt8> = Set("\\*_~`|[]<>".utf8)
    /// ASCII that starts markup at the beginning of a line: headings, quotes, lists.
    private static let lineStart: Set<UInt8> = Set("#>-+=".utf8)

    /// HTML's five special characters as entities, for element text and attribute values
    /// (the status page, its SVG, email). Line breaks are kept: callers make text one line first
    /// where it must be.
    static func html(_ text: String) -> String {
        guard text.utf8.contains(where: { "&<>\"'".utf8.contains($0) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A zero-width space after the `:` of every `scheme://`, so no client turns a device's text
    /// into a link (chat apps link bare URLs by themselves).
    static func unlinked(_ text: String) -> String {
        guard text.contains("://") else { return text }
        return text.replacingOccurrences(of: "://", with: ":\u{200B}//")
    }
}
