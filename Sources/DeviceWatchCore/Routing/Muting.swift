import Foundation

/// The silence and inhibit stages together: whether an alert is muted now. Muted alerts are
/// tracked, not sent; what a receiver was already told still reaches it when it resolves.
struct Muting {
    let inhibited: Set<AlertKey>
    /// The silences active at the planning time.
    let silences: [Silence]
    let now: Date

    init(book: AlertBook, rules: RuleSet, silences: [Silence], at now: Date) {
        inhibited = Inhibition.inhibited(book: book, rules: rules)
        self.silences = silences.filter { $0.isActive(at: now) }
        self.now = now
    }

    func mutes(_ alert: AlertInstance) -> Bool {
        inhibited.contains(alert.key) || silences.contains { $0.mutes(alert, at: now) }
    }
}
