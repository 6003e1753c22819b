/// The inhibit stage: while a rule fires, alerts of the rules it lists in `inhibits`, with equal
/// `inhibit_equal` labels, are not sent (a site gateway down mutes that site's cameras). A
/// firing fleet alert inhibits those alerts of its group's own devices (and, with
/// `inhibit_equal`, only those with equal labels too): a site outage pages once, for the site.
enum Inhibition {
    /// The alerts inhibited now.
    static func inhibited(book: AlertBook, rules ruleSet: RuleSet) -> Set<AlertKey> {
        let rules = ruleSet.byID
        let sources = rules.values.filter { !$0.inhibits.isEmpty }
        guard !sources.isEmpty else { return [] }
        var muted: Set<AlertKey> = []
        // Fleet sources: only those with a firing group, over only their targets' alerts.
        let fleetIDs = Set(sources.filter(\.isFleet).map(\.id))
        var firingFleetRules: Set<String> = []
        if !fleetIDs.isEmpty {
            for key in book.alerts.keys where fleetIDs.contains(key.ruleID) && !firingFleetRules.contains(key.ruleID) {
                if book.alerts[key]?.state == .firing { firingFleetRules.insert(key.ruleID) }
            }
        }
        let fleetSources = sources.filter { firingFleetRules.contains($0.id) }
        if !fleetSources.isEmpty {
            let targets = Set(fleetSources.flatMap(\.inhibits))
            var byRule: [String: [AlertKey]] = [:]
            for key in book.alerts.keys where targets.contains(key.ruleID) {
                byRule[key.ruleID, default: []].append(key)
            }
            for source in fleetSources {
                for target in Set(source.inhibits) where target != source.id {
                    for key in byRule[target] ?? [] {
                        // The target's device names the group it would be in (from the facts it
                        // carries); the group's alert, when it fires, lists its members by id.
                        guard let alert = book.alerts[key], alert.fleet == nil,
                            let group = ruleSet.fleetGroupKey(
                                rule: source.id, device: alert.device, workspace: key.workspace),
                            let fleetAlert = book.alerts[
                                AlertKey(workspace: key.workspace, ruleID: source.id, deviceID: group)],
                            fleetAlert.state == .firing, fleetAlert.fleet?.hasMember(key.deviceID) == true
                        else { continue }
                        if source.inhibitEqual.allSatisfy({
                            AlertRouter.labelValue($0, fleetAlert) == AlertRouter.labelValue($0, alert)
                        }) {
                            muted.insert(key)
                        }
                    }
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
        Inhibition.inhibited(book: book, rules: self)
    }
}
