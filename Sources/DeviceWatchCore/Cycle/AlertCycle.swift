import Foundation

/// One cycle of devicewatch's judgement, whole and pure: an input (a poll, a failed poll, a
/// tick, a reload) and the state go in; the state comes out changed, with what happened
/// (transitions), what to persist (the journaled changes) and what to send (notification
/// intents, handed out as they are planned).
///
/// The worker, `devicewatch test`, the tests and the benchmarks all run this, so a rule test
/// judges exactly as the worker does. The shape follows async-http-client's connection state
/// machines: the machine decides and returns actions; the caller performs them (here: commits
/// the changes with the intents in one transaction, or calls ``AlertState/rollBack()``).
public enum AlertCycle {
    /// What starts a cycle.
    public enum Input: Sendable {
        /// A successful poll of a workspace, judged at `at` (the API's clock).
        case poll(workspace: String, devices: [Device], at: Date)
        /// A failed poll: nothing is judged on stale data; the workspace's blind spot grows.
        case pollFailed(workspace: String, reason: String, isAuthFailure: Bool, at: Date)
        /// Time passed: group timers and silences may have made something due.
        case tick(at: Date)
        /// A new configuration (passed in ``Settings``): alerts of workspaces no longer
        /// configured resolve now; alerts of removed rules at their workspace's next poll.
        case reload(workspaces: Set<String>, at: Date)

        public var at: Date {
            switch self {
            case .poll(_, _, let at), .pollFailed(_, _, _, let at), .tick(let at), .reload(_, let at): at
            }
        }
    }

    /// What the cycle judges by: the rules, grouping and timing, and how long a workspace may
    /// go unseen before devicewatch says so.
    public struct Settings: Sendable {
        public var rules: RuleSet
        public var defaults: RoutingDefaults
        /// How long polls may fail before the workspace-unreachable alert fires.
        public var staleAfter: Duration
        /// The time between polls, per workspace (60 s where not given): how long a pause between
        /// successful polls may be before devicewatch counts it as a blind spot (``Coverage/gap(pollEvery:)``).
        public var pollEvery: [String: Duration]

        public init(
            rules: RuleSet, defaults: RoutingDefaults, staleAfter: Duration = .minutes(5),
            pollEvery: [String: Duration] = [:]
        ) {
            self.rules = rules
            self.defaults = defaults
            self.staleAfter = staleAfter
            self.pollEvery = pollEvery
        }
    }

    /// The caller's word on the previous cycle's plan: it was committed, and the settings,
    /// silences, acknowledgements and routing state are still those it saw (the worker's engine
    /// knows this; a rule test need not say it). With it, a cycle before `nextDue` that leaves
    /// every alert as planning saw it (none changed durably, none came with another device or
    /// fleet) plans nothing: planning again would find what it found then, so a quiet poll of
    /// 100,000 devices costs its evaluation only.
    public struct PreviousPlan: Sendable, Equatable {
        /// What that plan said of when a notification may next be due (nil: none waiting).
        public var nextDue: Date?

        public init(nextDue: Date?) { self.nextDue = nextDue }
    }

    /// What a cycle did, besides the intents it handed out.
    public struct Result: Sendable {
        /// Alerts that changed state, in the order they did.
        public var transitions: [Transition]
        /// What to persist, with the intents: exactly what the cycle changed durably.
        public var changes: StateChanges
        /// How many notification intents were planned.
        public var planned: Int
        /// When a notification may next be due if nothing else changes; nil when none is waiting.
        /// Until then a ``Input/tick(at:)`` with the same silences plans nothing.
        public var nextDue: Date?
        /// Whether the planner ran (false: the ``PreviousPlan`` still held; nothing was planned).
        public var ranPlanner = true
    }

    /// Runs one cycle on `state`, handing each notification intent to `emit` as soon as it is
    /// planned (in group order), so a caller writing them out never holds a large outage's
    /// notifications all at once.
    ///
    /// The journal starts empty: the previous cycle's changes must be committed or rolled back
    /// (``AlertState/rollBack()``) before the next cycle.
    public static func run(
        _ state: inout AlertState, _ input: consuming Input, settings: Settings, silences: [Silence],
        acknowledgements: [Acknowledgement] = [], previousPlan: PreviousPlan? = nil, emit: (NotificationIntent) -> Void
    ) -> Result {
        state.endCycle()
        let rules = settings.rules
        var transitions: [Transition]
        let at = input.at
        // A reload brings other settings: always planned.
        var previousPlan = previousPlan
        if case .reload = input { previousPlan = nil }
        switch consume input {
        case .poll(let workspace, let devices, let at):
            transitions = judge(poll: devices, workspace: workspace, rules: rules, book: &state.book, at: at)
            state.book.cover(
                workspace: workspace, at: at,
                gap: Coverage.gap(pollEvery: settings.pollEvery[workspace] ?? .seconds(60)))
        case .pollFailed(let workspace, let reason, let isAuthFailure, let at):
            transitions = AlertLifecycle.pollFailed(
                workspace: workspace, reason: reason, isAuthFailure: isAuthFailure, staleAfter: settings.staleAfter,
                book: &state.book, at: at)
        case .tick:
            transitions = []
        case .reload(let workspaces, let at):
            transitions = AlertLifecycle.retainWorkspaces(workspaces, in: &state.book, at: at)
        }
        if let previousPlan, at < previousPlan.nextDue ?? .distantFuture, state.book.journal.leavesPlanningInputs {
            return Result(
                transitions: transitions, changes: state.changes, planned: 0, nextDue: previousPlan.nextDue,
                ranPlanner: false)
        }
        var planned = 0
        let nextDue = NotificationPlanner.plan(
            book: &state.book, state: &state.routing, rules: rules, defaults: settings.defaults, silences: silences,
            acknowledgements: acknowledgements, at: at
        ) { intent in
            planned += 1
            emit(intent)
        }
        return Result(transitions: transitions, changes: state.changes, planned: planned, nextDue: nextDue)
    }

    /// The same, returning the intents: for rule tests, tests and tools that want them all.
    public static func run(
        _ state: inout AlertState, _ input: consuming Input, settings: Settings, silences: [Silence] = [],
        acknowledgements: [Acknowledgement] = [], previousPlan: PreviousPlan? = nil
    ) -> (result: Result, intents: [NotificationIntent]) {
        var intents: [NotificationIntent] = []
        let result = run(
            &state, input, settings: settings, silences: silences, acknowledgements: acknowledgements,
            previousPlan: previousPlan
        ) { intents.append($0) }
        return (result, intents)
    }

    /// Evaluates a poll and applies it to the alerts. The device list is released here, before
    /// planning: alerts keep the devices they need.
    private static func judge(
        poll devices: consuming [Device], workspace: String, rules: RuleSet, book: inout AlertBook, at: Date
    ) -> [Transition] {
        let evaluation = rules.evaluate(
            workspace: workspace, devices: devices, firstSeen: book.firstSeen[workspace] ?? [:], at: at)
        let transitions = AlertLifecycle.apply(
            evaluation, workspace: workspace, devices: devices, rules: rules, to: &book, at: at)
        _ = consume devices
        return transitions
    }
}
