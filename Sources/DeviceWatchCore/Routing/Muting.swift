import Foundation

/// The silence, inhibit and mute-time stages together: whether an alert is muted now. Muted
/// alerts are tracked, not sent; what a receiver was already told still reaches it when it
/// resolves. A window (`mute_during`) that ends with its alert still firing lets it be told at
/// once, as news to the receivers that were not told.
struct Muting {
    let inhibited: Set<AlertKey>
    /// The silences active at the planning time.
    let silences: [Silence]
    let now: Date
    /// Rules muted now by a `mute_during` window, with the window's end.
    let mutedRules: [String: Date]
    /// When the windows of silences `during` them end.
    let windowEnds: [Date]

    init(book: AlertBook, rules: RuleSet, silences: [Silence], at now: Date, timeIntervals: TimeIntervals = .init()) {
        inhibited = Inhibition.inhibited(book: book, rules: rules)
        // A silence `during` windows mutes only while one of them holds; it wakes the planner when
        // that window ends, as a silence's own end does.
        var windowEnds: [Date] = []
        self.silences = silences.filter { silence in
            guard silence.isActive(at: now) else { return false }
            guard let during = silence.during else { return true }
            let ends = during.compactMap { timeIntervals.activeUntil($0, at: now) }
            guard let end = ends.max() else { return false }
            windowEnds.append(end)
            return true
        }
        self.windowEnds = windowEnds
        self.now = now
        var muted: [String: Date] = [:]
        if !timeIntervals.named.isEmpty {
            for rule in rules.rules where !rule.muteDuring.isEmpty {
                let ends = rule.muteDuring.compactMap { timeIntervals.activeUntil($0, at: now) }
                if let end = ends.max() { muted[rule.id] = end }
            }
        }
        mutedRules = muted
    }

    func mutes(_ alert: AlertInstance) -> Bool {
        inhibited.contains(alert.key) || (!mutedRules.isEmpty && mutedRules[alert.key.ruleID] != nil)
            || silences.contains { $0.mutes(alert, at: now) }
    }
}
