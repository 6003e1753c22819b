/// Text from a device or the API, made harmless for the people who read it.
///
/// Device names, hostnames, tags and versions are whatever a device (or whoever controls it)
/// reports. Before such text reaches a person (a chat message, a page, a terminal, the status
/// page) it loses what could mislead or disturb them: bidirectional controls (U+202E and friends,
/// which make `gpj.exe` read `exe.jpg`) are removed, and other control characters (NUL, ESC, the C1
/// controls) become U+FFFD. Single-line text also has its line breaks and tabs turned into spaces,
/// so a name cannot forge a second line. Each receiver then escapes its own markup on top.
public enum InertText {
    /// For a field shown on one line (a name, a title, a fact).
    public static func line(_ text: String) -> String {
        clean(text, singleLine: true)
    }

    /// For text that may span lines (a summary or description written by the rule's author).
    public static func block(_ text: String) -> String {
        clean(text, singleLine: false)
    }

    /// Whether a scalar reorders or hides text: the bidirectional embeddings, overrides, isolates and marks.
    public static func isBidirectionalControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    static func clean(_ text: String, singleLine: Bool) -> String {
        // Most text is printable ASCII: nothing to do.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var scalars = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\n", "\r", "\u{2028}", "\u{2029}", "\u{85}":
                if singleLine {
                    if !(scalar == "\n" && previousWasCR) { scalars.append(" ") }
                } else if !(scalar == "\n" && previousWasCR) {
                    scalars.append("\n")
                }
            case "\t":
                scalars.append(singleLine ? " " : "\t")
            default:
                if isBidirectionalControl(scalar) { continue }
                if scalar.properties.generalCategory == .control {
                    scalars.append("\u{FFFD}")
                } else {
                    scalars.append(scalar)
                }
            }
        }
        return String(scalars)
    }
}
