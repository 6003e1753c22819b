/// The inhibit stage: while a rule fires, alerts of the rules it lists in `inhibits`, with equal
/// `inhibit_equal` labels, are not sent (a site gateway down mutes that site's cameras). A
/// firing fleet alert inhibits those alerts of its group's own devices (and, with
/// `inhibit_equal`, only those with equal labels too): a site outage pages once, for the site.
enum Inhibition {
    /// The alerts inhibited now.
    static func inhibited(book: AlertBook, rules: [String: Rule]) -> Set<AlertKey> {
        let sources = rules.values.filter { !$0.inhibits.isEmpty }
        guard !sources.isEmpty else { return [] }
        var muted: Set<AlertKey> = []
        for source in sources where source.isFleet {
            // (workspace, device) -> the signatures of the firing groups the device is in.
            var members: [String: [String: Set<[String?]>]] = [:]
            for alert in book.alerts.values where alert.key.ruleID == source.id && alert.state == .firing {
                let signature = source.inhibitEqual.map { AlertRouter.labelValue($0, alert) }
                for member in alert.fleet?.members ?? [] {
                    members[alert.key.workspace, default: [:]][member.id, default: []].insert(signature)
                }
            }
            guard !members.isEmpty else { continue }
            let targets = Set(source.inhibits)
            for (key, alert) in book.alerts where targets.contains(key.ruleID) && key.ruleID != source.id {
                guard alert.fleet == nil, let signatures = members[key.workspace]?[key.deviceID] else { continue }
                if signatures.contains(source.inhibitEqual.map { AlertRouter.labelValue($0, alert) }) {
                    muted.insert(key)
                }
            }
        }
        for source in sources where !source.isFleet {
            var signatures: Set<[String?]> = []
            for alert in book.alerts.values where alert.key.ruleID == source.id && alert.state == .firing {
                signatures.insert(source.inhibitEqual.map { AlertRouter.labelValue($0, alert) })
            }
            guard !signatures.isEmpty else { continue }
            let targets = Set(source.inhibits)
            for (key, alert) in book.alerts where targets.contains(key.ruleID) && key.ruleID != source.id {
                if signatures.contains(source.inhibitEqual.map { AlertRouter.labelValue($0, alert) }) {
                    muted.insert(key)
                }
            }
        }
        return muted
    }
}

extension RuleSet {
    /// The alerts of `book` inhibited now (for tools that explain what the planner holds back).
    public func inhibitedAlerts(in book: AlertBook) -> Set<AlertKey> {
        Inhibition.inhibited(book: book, rules: byID)
    }
}
