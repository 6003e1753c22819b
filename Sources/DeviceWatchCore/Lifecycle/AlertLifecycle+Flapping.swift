import Foundation

/// Flapping, in the alert lifecycle: each fire and resolve of an alert whose rule watches for
/// flapping is counted; the change that makes enough within the window holds the alert firing as
/// flapping, and it settles once stable (see ``FlappingPolicy``).
extension AlertLifecycle {
    /// An alert that starts firing under a rule watching for flapping: the start is counted, and
    /// when it makes enough changes the alert is flapping from now.
    static func flip(_ alert: inout AlertInstance, _ policy: FlappingPolicy?, at now: Date) -> [Transition] {
        guard let policy else { return [] }
        let flips = policy.adding(now, to: alert.flips ?? [])
        alert.flips = flips
        guard alert.flappingSince == nil, policy.flaps(flips, at: now) else { return [] }
        alert.flappingSince = now
        return [
            Transition(
                key: alert.key, from: .firing, to: .firing, at: now,
                reason: "flapping: \(policy.describe(flips.count))")
        ]
    }

    /// A firing alert of a rule watching for flapping whose condition stopped holding (after
    /// `keep_firing_for`): the stop is counted. A flapping alert stays firing until it has been
    /// stable for `stable_for`; the stop that makes an alert flap holds it firing instead of
    /// resolving it. Returns whether the alert stays firing (false: it resolves as usual).
    static func holdsFlapping(
        _ alert: AlertInstance, policy: FlappingPolicy, book: inout AlertBook, transitions: inout [Transition],
        at now: Date
    ) -> Bool {
        var held = alert
        let heldBefore = held.heldAtLastEvaluation
        held.evaluatedAt = now
        if held.flappingSince != nil {
            if heldBefore { held.flips = policy.adding(now, to: held.flips ?? []) }
            guard now.duration(since: held.flips?.last ?? now) < policy.stableFor else { return false }
            if heldBefore { book.set(held) } else { book.refresh(held) }
            return true
        }
        let flips = policy.adding(now, to: held.flips ?? [])
        guard policy.flaps(flips, at: now) else { return false }
        held.flips = flips
        held.flappingSince = now
        book.set(held)
        transitions.append(
            Transition(
                key: alert.key, from: .firing, to: .firing, at: now,
                reason: "flapping: \(policy.describe(flips.count))"))
        return true
    }
}
