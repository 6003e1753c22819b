/// What a notification says about one alert, rendered when the notification is planned from
/// the rule that fired, and kept with it: a reload that changes a threshold or a template
/// before delivery does not change what a pending notification says.
public struct AlertText: Sendable, Equatable, Codable {
    /// The rule's summary template, rendered.
    public var summary: String
    /// The rule's description template, rendered; nil without one.
    public var description: String?
    /// Why the alert matched, one phrase per fact (firing alerts only).
    public var reasons: [String]
}

extension RuleSet {
    /// The text of an alert as a notification will say it; nil for devicewatch's own alerts
    /// (their message is their text) and for alerts of a rule no longer loaded.
    func text(of alert: AlertInstance) -> AlertText? {
        guard alert.message == nil, let rule = rule(alert.key.ruleID) else { return nil }
        let finding = alert.finding
        var reasons = alert.state == .firing && alert.heldAtLastEvaluation ? reasons(for: finding) : []
        if alert.flappingSince != nil, let policy = rule.flapping {
            reasons.append(
                "flapping: \(policy.describe(alert.flips?.count ?? 0)); held firing until stable for "
                    + DurationText.format(policy.stableFor))
        }
        return AlertText(summary: summary(of: finding), description: description(of: finding), reasons: reasons)
    }
}
