import DeviceWatchCore
import Foundation
import Logging

/// Owns the alert state: applies each poll through the pure core (evaluate, lifecycle, plan) and
/// commits each cycle's changes and new notifications to the store in one transaction.
///
/// If a commit fails, the in-memory state goes back to what is committed (alerts changed durably
/// are restored from the originals the book kept; per-poll bookkeeping such as the device facts
/// stays new, as after a restart), so the next cycle recomputes the same changes: nothing planned
/// is lost, nothing committed is repeated.
public actor Engine {
    private var rules: RuleSet
    private var defaults: RoutingDefaults
    private var staleAfter: Double
    private var book: AlertBook
    private var routing: RoutingState
    private let store: any StateStore
    private let storeHealth: StoreHealth?
    private let logger: Logger
    private let committed: @Sendable () async -> Void
    /// The local wall clock; the API's is this plus `clockOffset`.
    private let localNow: @Sendable () -> Date
    /// The API's clock minus the local one, from the latest poll: timers run on the API's clock.
    private var clockOffset: Double = 0
    /// The silences the latest plan saw, and when it said a notification may next be due: a tick
    /// before then, with the same silences, has nothing to plan.
    private var plannedSilences: [Silence]?
    private var nextDue: Date?
    /// The same per workspace, as measured (`offsets`) and as stored (`storedOffsets`): a cycle
    /// writes an offset only when it moved by more than ``ClockOffset/tolerance``.
    private var offsets: [String: ClockOffset] = [:]
    private var storedOffsets: [String: ClockOffset] = [:]
    /// Device counts by status at each workspace's latest successful poll.
    private var fleet: [String: FleetCounts] = [:]
    #if DEBUG
        /// Debug builds (the tests) check each cycle's journaled diff against one with the whole book.
        private var wholeBefore: (book: AlertBook, routing: RoutingState)?
    #endif

    public init(
        rules: RuleSet, defaults: RoutingDefaults, staleAfter: Double, state: PersistedState, store: any StateStore,
        storeHealth: StoreHealth? = nil, logger: Logger = Logger(label: "devicewatch.engine"),
        localNow: @escaping @Sendable () -> Date = Date.init, committed: @escaping @Sendable () async -> Void = {}
    ) {
        self.localNow = localNow
        self.storeHealth = storeHealth
        self.rules = rules
        self.defaults = defaults
        self.staleAfter = staleAfter
        self.book = state.book
        self.routing = state.routing
        self.store = store
        self.logger = logger
        self.committed = committed
        for offset in state.clockOffsets {
            offsets[offset.workspace] = offset
            storedOffsets[offset.workspace] = offset
        }
        // Until the first poll, the API's clock as it stood at the last one before the restart.
        clockOffset = state.clockOffsets.max { $0.measuredAt < $1.measuredAt }?.seconds ?? 0
    }

    /// The time on the API's clock now, as the engine sees it.
    public var now: Date { localNow().addingTimeInterval(clockOffset) }

    /// The engine's clock per workspace, for silences added over the ops API.
    public var clock: EngineClock { EngineClock(Array(offsets.values)) }

    /// Applies a successful poll: evaluate at `apiDate` (the API's clock; the local one when absent or absurd).
    public func pollSucceeded(workspace: String, devices: consuming [Device], apiDate: Date?) async {
        let local = localNow()
        let (at, source) = EvaluationTime.choose(apiDate: apiDate, local: local)
        if source == .api {
            clockOffset = at.timeIntervalSince(local)
            offsets[workspace] = ClockOffset(workspace: workspace, seconds: clockOffset, measuredAt: local)
        }
        fleet[workspace] = FleetCounts(copy devices)
        let start = beginCycle()
        let evaluation = rules.evaluate(
            workspace: workspace, devices: devices, firstSeen: book.firstSeen[workspace] ?? [:], at: at)
        let transitions = AlertLifecycle.apply(
            evaluation, workspace: workspace, devices: devices, rules: rules, to: &book, at: at)
        // Alerts keep the devices they need; the rest of the list goes before planning.
        _ = consume devices
        for transition in transitions {
            logger.info(
                "\(transition.key.ruleID) on \(transition.key.deviceID): \(transition.from?.rawValue ?? "inactive") -> \(transition.to?.rawValue ?? "inactive") (\(transition.reason))",
                metadata: ["workspace": "\(workspace)", "fingerprint": "\(transition.fingerprint)"])
        }
        await finishCycle(start, at: at)
    }

    /// Records a failed poll: nothing is evaluated on stale data; a meta alert follows after `stale_after`.
    public func pollFailed(workspace: String, error: DevicesAPIError) async {
        let at = now
        let start = beginCycle()
        let transitions = AlertLifecycle.pollFailed(
            workspace: workspace, reason: error.description, isAuthFailure: error.isAuthenticationProblem,
            staleAfter: staleAfter,
            book: &book, at: at)
        for transition in transitions { logger.error("\(transition.reason)", metadata: ["workspace": "\(workspace)"]) }
        await finishCycle(start, at: at)
    }

    /// Plans what timers made due (group_wait, group_interval, repeat_every, a silence ending)
    /// without a new poll. A tick before the earliest of them, with the silences as the last plan
    /// saw them, does nothing more than read the silences: no plan, no transaction, whatever the
    /// number of alerts.
    public func tick() async {
        let at = now
        guard let silences = readSilences(at: at) else { return }
        if silences == plannedSilences, nextDue.map({ at < $0 }) ?? true { return }
        await finishCycle(beginCycle(), at: at, silences: silences)
    }

    /// A reloaded configuration: alerts of removed rules resolve at the next poll of their workspace,
    /// alerts of removed workspaces now.
    public func reload(rules: RuleSet, defaults: RoutingDefaults, staleAfter: Double, workspaces: Set<String>) async {
        self.rules = rules
        self.defaults = defaults
        self.staleAfter = staleAfter
        let start = beginCycle()
        _ = AlertLifecycle.retainWorkspaces(workspaces, in: &book, at: now)
        fleet = fleet.filter { workspaces.contains($0.key) }
        await finishCycle(start, at: now)
    }

    /// The current alerts, for the ops API and status page.
    public var alerts: [AlertInstance] { book.alerts.values.sorted { $0.key < $1.key } }

    public var health: [String: WorkspaceHealth] { book.health }

    /// What the ops server shows, read at one moment.
    public struct Snapshot: Sendable {
        public var now: Date
        public var alerts: [AlertInstance]
        public var health: [String: WorkspaceHealth]
        public var fleet: [String: FleetCounts]
        public var rules: RuleSet
        public var staleAfter: Double
    }

    public func snapshot() -> Snapshot {
        Snapshot(now: now, alerts: alerts, health: book.health, fleet: fleet, rules: rules, staleAfter: staleAfter)
    }

    /// Starts a cycle: the book keeps the originals of what the cycle changes durably, and the
    /// rest of the state is remembered as it is (sharing storage; copied only if the cycle writes it).
    private func beginCycle() -> StateChanges.CycleStart {
        book.beginCycle()
        #if DEBUG
            wholeBefore = (book, routing)
        #endif
        return StateChanges.CycleStart(book: book, routing: routing)
    }

    /// Back to what is committed: alerts changed this cycle as they were, and the rest as it was.
    private func rollBack(to start: StateChanges.CycleStart) {
        book.rollBackAlerts()
        book.firstSeen = start.firstSeen
        book.health = start.health
        routing = start.routing
    }

    private func finishCycle(_ start: StateChanges.CycleStart, at now: Date, silences: [Silence]? = nil) async {
        if commitCycle(start, at: now, silences: silences) > 0 { await committed() }
    }

    /// The silences active or to come at `now`; nil (reported) when the store cannot say.
    private func readSilences(at now: Date) -> [Silence]? {
        do {
            let silences = try store.silences(includeExpired: false, at: now)
            storeHealth?.succeeded(.readSilences)
            return silences
        } catch {
            if let storeHealth {
                storeHealth.failed(.readSilences, error: error)
            } else {
                logger.error("cannot read silences, keeping the cycle for later: \(error)")
            }
            return nil
        }
    }

    /// Plans and commits one cycle; returns how many notifications it enqueued. The plan runs
    /// inside the store's transaction and each notification is written as it is planned, so a
    /// large outage's notifications (megabytes) are never all in memory at once.
    private func commitCycle(_ start: StateChanges.CycleStart, at now: Date, silences given: [Silence]?) -> Int {
        guard let silences = given ?? readSilences(at: now) else {
            rollBack(to: start)
            return 0
        }
        var planned = 0
        var wrote = false
        var due: Date?
        do {
            // Outbox times are the worker's own clock: the dispatcher schedules on it.
            try store.commitCycle(at: localNow()) { enqueue in
                var failure: (any Error)?
                due = NotificationPlanner.plan(
                    book: &book, state: &routing, rules: rules, defaults: defaults, silences: silences, at: now
                ) { intent in
                    guard failure == nil else { return }
                    do {
                        try enqueue(intent)
                    } catch {
                        failure = error
                        return
                    }
                    planned += 1
                    logger.info(
                        "notification planned",
                        metadata: [
                            "receiver": "\(intent.receiver)", "group": "\(intent.groupKey)",
                            "reason": "\(intent.reason.rawValue)",
                            "firing": "\(intent.firing.count)", "resolved": "\(intent.resolved.count)",
                        ])
                }
                if let failure { throw failure }
                var changes = StateChanges.since(start, (book, routing), intents: [])
                #if DEBUG
                    if let wholeBefore {
                        assert(
                            changes == StateChanges.between(wholeBefore, (book, routing), intents: []),
                            "the cycle's journal missed a change")
                    }
                #endif
                changes.upsertClockOffsets = movedOffsets()
                wrote = planned > 0 || !changes.isEmpty
                if wrote { CrashPoint.beforeCommit.hit() }
                return changes
            }
        } catch {
            // Back to what is committed: the next cycle plans the same again.
            if let storeHealth {
                storeHealth.failed(.commitCycle, error: error)
            } else {
                logger.error("cannot commit the cycle, it will be retried: \(error)")
            }
            rollBack(to: start)
            // Planned again at the next tick.
            plannedSilences = nil
            return 0
        }
        storeHealth?.succeeded(.commitCycle)
        plannedSilences = silences
        nextDue = due
        book.beginCycle()
        for offset in movedOffsets() { storedOffsets[offset.workspace] = offset }
        if wrote { CrashPoint.afterCommit.hit() }
        return planned
    }

    /// The workspaces whose clock offset moved since it was stored (or was never stored).
    private func movedOffsets() -> [ClockOffset] {
        offsets.values.filter { offset in
            storedOffsets[offset.workspace].map { abs($0.seconds - offset.seconds) > ClockOffset.tolerance } ?? true
        }.sorted { $0.workspace < $1.workspace }
    }
}
