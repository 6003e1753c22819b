/// A rule's simpler fields, each read with its own problems reported: nil when one was.
extension RuleParser {
    /// `id`: required, `[a-z0-9][a-z0-9_.-]*`.
    static func parseID(_ reader: NodeReader?, rule: NodeReader) -> String? {
        guard let reader else {
            rule.report("a rule needs an \"id\"")
            return nil
        }
        guard let text = reader.string() else { return nil }
        guard isValidID(text) else {
            reader.report(
                "a rule id is lowercase letters, digits, '_', '.' and '-', starting with a letter or digit; got \"\(text)\""
            )
            return nil
        }
        return text
    }

    /// `severity`: `warning` when not given.
    static func parseSeverity(_ reader: NodeReader?) -> Severity? {
        guard let reader else { return .warning }
        guard let text = reader.string() else { return nil }
        if let parsed = Severity(rawValue: text) { return parsed }
        let hint =
            NameSuggestion.closest(to: text, among: Severity.allCases.map(\.rawValue)).map {
                "; did you mean \"\($0)\"?"
            }
            ?? ""
        reader.report("severity must be critical, error, warning or info; got \"\(text)\"\(hint)")
        return nil
    }

    /// `inhibit_equal`: label names, only beside `inhibits`; on a fleet rule never `device`.
    static func parseInhibitEqual(_ reader: NodeReader?, inhibits: [String], isFleet: Bool) -> [String]? {
        guard let reader else { return [] }
        guard let keys = reader.strings() else { return nil }
        var valid = true
        for (index, key) in keys.enumerated()
        where !(["workspace", "device", "severity"].contains(key) || key.hasPrefix("label:") && key.count > 6) {
            reader.element(index).report(
                "inhibit_equal entries are workspace, device, severity or label:NAME; got \"\(key)\"")
            valid = false
        }
        if isFleet, let index = keys.firstIndex(of: "device") {
            reader.element(index).report(
                "a fleet rule inhibits the alerts of its group's own devices already; \"device\" cannot be equal to a group"
            )
            valid = false
        }
        if inhibits.isEmpty {
            reader.report("inhibit_equal needs \"inhibits\": the rule ids this rule silences")
            valid = false
        }
        return valid ? keys : nil
    }
}
