/// A device rule's `flapping` object: `changes`, `within` and `stable_for`.
extension RuleParser {
    static func parseFlapping(_ reader: NodeReader) -> FlappingPolicy? {
        guard let fields = reader.object(known: ["changes", "within", "stable_for"]) else { return nil }
        var valid = true
        var changes: Int?
        if let field = fields["changes"], let number = field.number() {
            if number == number.rounded(), number >= 2, number <= 1000 {
                changes = Int(number)
            } else {
                field.report("changes is a whole number from 2 (a fire and its resolve) to 1000; got \(number)")
                valid = false
            }
        }
        func duration(_ key: String) -> Duration? {
            guard let field = fields[key], let duration = field.duration() else { return nil }
            guard duration > .zero else {
                field.report("\(key) must be longer than 0s")
                valid = false
                return nil
            }
            return duration
        }
        let within = duration("within"), stableFor = duration("stable_for")
        for key in ["changes", "within", "stable_for"] where fields[key] == nil {
            reader.report(
                "flapping needs \"\(key)\": e.g. {\"changes\": 4, \"within\": \"1h\", \"stable_for\": \"30m\"}")
            valid = false
        }
        guard valid, let changes, let within, let stableFor else { return nil }
        return FlappingPolicy(changes: changes, within: within, stableFor: stableFor)
    }
}
