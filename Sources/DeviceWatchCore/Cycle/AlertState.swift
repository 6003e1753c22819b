import Foundation

/// Everything a cycle works on: the alerts with what is known of each workspace (``AlertBook``)
/// and what each receiver was told (``RoutingState``). Both journal their changes as they are
/// made; ``changes`` is what to commit, ``rollBack()`` undoes them when the commit fails.
public struct AlertState: Sendable, Equatable {
    public var book: AlertBook
    public var routing: RoutingState

    public init(book: AlertBook = AlertBook(), routing: RoutingState = RoutingState()) {
        self.book = book
        self.routing = routing
    }

    /// What changed durably since the cycle began, to persist.
    public var changes: StateChanges { StateChanges(journalOf: book, routing: routing) }

    /// Starts a cycle, or ends one that is committed: the journal is forgotten.
    public mutating func endCycle() {
        book.endCycle()
        routing.endCycle()
    }

    /// Back to the state as it was when the cycle began (per-poll bookkeeping, such as when a
    /// firing alert's condition last held, stays new, as after a restart).
    public mutating func rollBack() {
        book.rollBack()
        routing.rollBack()
    }
}
