/// A fleet rule's `fleet` object: `group_by`, `min_devices` and `when`, the group's condition.
extension RuleParser {
    static let fleetKeys = ["group_by", "min_devices", "when"]
    /// The counts over a group, each with the per-device condition it counts: `of` for the
    /// generic ones, fixed for the shorthands.
    static let fleetConditions: [(key: String, of: Condition?)] = [
        ("count_at_least", nil), ("fraction_at_least", nil), ("count_below", nil),
        ("offline_count_at_least", .status(["offline"])), ("offline_fraction_at_least", .status(["offline"])),
        ("online_count_below", .status(["online"])), ("unknown_count_at_least", .status(["unknown"])),
    ]

    static func parseFleet(_ reader: NodeReader) -> FleetCondition? {
        guard let fields = reader.object(known: fleetKeys) else { return nil }
        var valid = true
        var groupBy = ["workspace"]
        if let groupReader = fields["group_by"], let keys = groupReader.strings() {
            if keys.isEmpty {
                groupReader.report(
                    "list at least one group_by entry, e.g. [\"tag:site-*\"] (or leave group_by out: one group per workspace)"
                )
                valid = false
            }
            for (index, key) in keys.enumerated() where !GroupKey.isValid(key) {
                groupReader.element(index).report(GroupKey.problem(key))
                valid = false
            }
            groupBy = keys
        } else if fields["group_by"] != nil {
            valid = false
        }
        var minDevices = 1
        if let minReader = fields["min_devices"] {
            if let count = count(minReader, atLeast: 1) { minDevices = count } else { valid = false }
        }
        guard let when = fields["when"] else {
            reader.report(
                "a fleet rule needs \"when\": what must hold for a group, e.g. {\"offline_fraction_at_least\": 0.5}")
            return nil
        }
        guard let threshold = parseFleetWhen(when), valid else { return nil }
        return FleetCondition(
            groupBy: groupBy, minDevices: minDevices, threshold: threshold.threshold, of: threshold.of)
    }

    private static func parseFleetWhen(_ reader: NodeReader) -> (threshold: FleetCondition.Threshold, of: Condition)? {
        let keys = fleetConditions.map(\.key)
        guard let fields = reader.object(known: keys + ["of"]) else { return nil }
        let given = keys.filter { fields[$0] != nil }
        guard given.count == 1, let key = given.first, let field = fields[key] else {
            reader.report(
                given.isEmpty
                    ? "give one of: \(keys.joined(separator: ", "))"
                    : "give one count, not several: \(given.joined(separator: ", "))")
            return nil
        }
        let fixed = fleetConditions.first { $0.key == key }?.of ?? nil
        var of: Condition?
        if let ofReader = fields["of"] {
            if fixed != nil {
                ofReader.report(
                    "\(key) counts its own condition; use \(key.hasSuffix("below") ? "count_below" : key.contains("fraction") ? "fraction_at_least" : "count_at_least") with \"of\" to count another"
                )
                return nil
            }
            of = parseCondition(ofReader)
            guard of != nil else { return nil }
        } else if fixed == nil {
            reader.report("\(key) needs \"of\": the per-device condition to count, e.g. {\"offline_for\": \"10m\"}")
            return nil
        }
        guard let condition = fixed ?? of else { return nil }
        let threshold: FleetCondition.Threshold
        if key.contains("fraction") {
            guard let fraction = field.number() else { return nil }
            guard fraction > 0, fraction <= 1 else {
                field.report("a fraction is more than 0 and at most 1 (0.5 is half the group); got \(fraction)")
                return nil
            }
            threshold = .fractionAtLeast(fraction)
        } else {
            guard let number = count(field, atLeast: 1) else { return nil }
            threshold = key.hasSuffix("below") ? .countBelow(number) : .countAtLeast(number)
        }
        return (threshold, condition)
    }

    /// A whole number of at least `minimum`.
    private static func count(_ reader: NodeReader, atLeast minimum: Int) -> Int? {
        guard let number = reader.number() else { return nil }
        guard number == number.rounded(), number >= Double(minimum), number < 1e9 else {
            reader.report("expected a whole number of at least \(minimum), got \(number)")
            return nil
        }
        return Int(number)
    }
}
