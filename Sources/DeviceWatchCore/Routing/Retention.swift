import Foundation

/// The retention stage: what planning may forget.
enum Retention {
    /// Whether a group is still needed: it has told alerts to follow, firing ones, or members
    /// that fire (muted, so not yet told).
    static func keeps(
        _ group: NotificationGroup, firing: [AlertKey], membership: AlertRouter.Membership?, book: AlertBook
    ) -> Bool {
        !group.told.isEmpty || !firing.isEmpty
            || membership?.alerts.contains(where: { book.alerts[$0]?.state == .firing }) == true
    }

    /// Resolved alerts no receiver still has to hear about are done, unless their rule watches
    /// for flapping and they fired or resolved within its window (their changes are counted on).
    static func forgetResolved(
        in book: inout AlertBook, toldBy routing: RoutingState, rules: [String: Rule], at now: Date
    ) {
        guard book.alerts.values.contains(where: { $0.state == .resolved }) else { return }
        let stillTold = Set(routing.groups.values.flatMap(\.told))
        for (key, alert) in book.alerts where alert.state == .resolved && !stillTold.contains(key) {
            if let policy = rules[key.ruleID]?.flapping, let last = alert.flips?.last,
                now.duration(since: last) < policy.within
            {
                continue
            }
            book.remove(key)
        }
    }
}
