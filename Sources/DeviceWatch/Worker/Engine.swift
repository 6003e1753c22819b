import DeviceWatchCore
import Foundation
import Logging

/// Owns the alert state: runs each poll, failed poll, tick and reload through the pure
/// ``AlertCycle`` and commits the cycle's changes and new notifications in one transaction.
///
/// If a commit fails, the state goes back to what is committed (``AlertState/rollBack()``;
/// per-poll bookkeeping such as the device facts stays new, as after a restart), so the next
/// cycle recomputes the same changes: nothing planned is lost, nothing committed is repeated.
public actor Engine {
    private var settings: AlertCycle.Settings
    private var state: AlertState
    private let store: any StateStore
    private let storeHealth: StoreHealth?
    private let logger: Logger
    private let committed: @Sendable () async -> Void
    /// Told when a commit was refused because another worker took the workspace over (several
    /// workers on PostgreSQL): this engine's decisions are stale from then on.
    private let fenced: @Sendable () async -> Void
    /// The local wall clock; the API's is this plus `clockOffset`.
    private let localNow: @Sendable () -> Date
    /// The API's clock minus the local one, from the latest poll: timers run on the API's clock.
    private var clockOffset: Duration = .zero
    /// The silences and acknowledgements the latest plan saw, and when it said a notification may
    /// next be due: a tick before then, with the same of both, has nothing to plan.
    private var plannedSilences: Interventions?
    private var nextDue: Date?
    /// Counts the settings (one more at each reload), and the count the latest plan saw.
    private var settingsGeneration = 0
    private var plannedGeneration = -1
    /// The same per workspace, as measured (`offsets`) and as stored (`storedOffsets`): a cycle
    /// writes an offset only when it moved by more than ``ClockOffset/tolerance``.
    private var offsets: [String: ClockOffset] = [:]
    private var storedOffsets: [String: ClockOffset] = [:]
    /// Device counts by status at each workspace's latest successful poll.
    private var fleet: [String: FleetCounts] = [:]
    /// The local time of the latest poll judged and committed (the heartbeat's evidence).
    public private(set) var lastGoodPoll: Date?
    /// Cycles run one at a time (see ``run(_:silences:transition:)``): those waiting for the one
    /// under way, in order.
    private var cycleRunning = false
    private var cyclesWaiting: [CheckedContinuation<Void, Never>] = []

    public init(
        rules: RuleSet, defaults: RoutingDefaults, staleAfter: Duration, pollEvery: [String: Duration] = [:],
        state: PersistedState, store: any StateStore,
        storeHealth: StoreHealth? = nil, logger: Logger = Logger(label: "devicewatch.engine"),
        localNow: @escaping @Sendable () -> Date = Date.init, committed: @escaping @Sendable () async -> Void = {},
        fenced: @escaping @Sendable () async -> Void = {}
    ) {
        self.fenced = fenced
        self.localNow = localNow
        self.storeHealth = storeHealth
        settings = AlertCycle.Settings(rules: rules, defaults: defaults, staleAfter: staleAfter, pollEvery: pollEvery)
        self.state = AlertState(book: state.book, routing: state.routing)
        self.store = store
        self.logger = logger
        self.committed = committed
        for offset in state.clockOffsets {
            offsets[offset.workspace] = offset
            storedOffsets[offset.workspace] = offset
        }
        // Until the first poll, the API's clock as it stood at the last one before the restart.
        clockOffset = state.clockOffsets.max { $0.measuredAt < $1.measuredAt }?.offset ?? .zero
    }

    /// The time on the API's clock now, as the engine sees it.
    public var now: Date { localNow() + clockOffset }

    /// The engine's clock per workspace, for silences added over the ops API.
    public var clock: EngineClock { EngineClock(Array(offsets.values)) }

    /// Applies a successful poll: evaluate at `apiDate` (the API's clock; the local one when absent or absurd).
    public func pollSucceeded(workspace: String, devices: consuming [Device], apiDate: Date?) async {
        let local = localNow()
        let (at, source) = EvaluationTime.choose(apiDate: apiDate, local: local)
        if source == .api {
            clockOffset = at.duration(since: local)
            offsets[workspace] = ClockOffset(workspace: workspace, offset: clockOffset, measuredAt: local)
        }
        fleet[workspace] = FleetCounts(copy devices)
        let committed = await run(.poll(workspace: workspace, devices: devices, at: at)) { transition in
            logger.info(
                "\(transition.key.ruleID) on \(transition.key.deviceID): \(transition.from?.rawValue ?? "inactive") -> \(transition.to?.rawValue ?? "inactive") (\(transition.reason))",
                metadata: ["workspace": "\(workspace)", "fingerprint": "\(transition.fingerprint)"])
        }
        if committed { lastGoodPoll = local }
    }

    /// Records a failed poll: nothing is evaluated on stale data; a meta alert follows after `stale_after`.
    public func pollFailed(workspace: String, error: DevicesAPIError) async {
        let input = AlertCycle.Input.pollFailed(
            workspace: workspace, reason: error.description, isAuthFailure: error.isAuthenticationProblem, at: now)
        await run(input) { transition in
            logger.error("\(transition.reason)", metadata: ["workspace": "\(workspace)"])
        }
    }

    /// Plans what timers made due (group_wait, group_interval, repeat_every, a silence ending)
    /// without a new poll. A tick before the earliest of them, with the silences as the last plan
    /// saw them, does nothing more than read the silences: no plan, no transaction, whatever the
    /// number of alerts.
    public func tick() async {
        let at = now
        guard let silences = await readInterventions(at: at) else { return }
        if silences == plannedSilences, plannedGeneration == settingsGeneration, nextDue.map({ at < $0 }) ?? true {
            return
        }
        await run(.tick(at: at), silences: silences)
    }

    /// A reloaded configuration: alerts of removed rules resolve at the next poll of their workspace,
    /// alerts of removed workspaces now.
    public func reload(
        rules: RuleSet, defaults: RoutingDefaults, staleAfter: Duration, workspaces: Set<String>,
        pollEvery: [String: Duration] = [:]
    ) async {
        settings = AlertCycle.Settings(rules: rules, defaults: defaults, staleAfter: staleAfter, pollEvery: pollEvery)
        settingsGeneration += 1
        fleet = fleet.filter { workspaces.contains($0.key) }
        await run(.reload(workspaces: workspaces, at: now))
    }

    /// The current alerts, for the ops API and status page.
    public var alerts: [AlertInstance] { state.book.alerts.values.sorted { $0.key < $1.key } }

    public var health: [String: WorkspaceHealth] { state.book.health }

    /// What the ops server shows, read at one moment.
    public struct Snapshot: Sendable {
        public var now: Date
        public var alerts: [AlertInstance]
        public var health: [String: WorkspaceHealth]
        public var fleet: [String: FleetCounts]
        public var rules: RuleSet
        public var staleAfter: Duration
    }

    public func snapshot() -> Snapshot {
        Snapshot(
            now: now, alerts: alerts, health: state.book.health, fleet: fleet, rules: settings.rules,
            staleAfter: settings.staleAfter)
    }

    /// What people asked of the alerts: silences and acknowledgements.
    struct Interventions: Equatable {
        var silences: [Silence]
        var acknowledgements: [Acknowledgement]
    }

    /// The silences active or to come at `now` and the acknowledgements in force; nil (reported)
    /// when the store cannot say.
    private func readInterventions(at now: Date) async -> Interventions? {
        do {
            let silences = try await store.silences(includeExpired: false, at: now)
            let acknowledgements = try await store.acknowledgements(includeExpired: false, at: now)
            storeHealth?.succeeded(.readSilences)
            return Interventions(silences: silences, acknowledgements: acknowledgements)
        } catch {
            storeFailed(.readSilences, error, else: "cannot read silences, keeping the cycle for later")
            return nil
        }
    }

    /// A store call failed: the store's health hears of it, or the log when nothing tracks that.
    /// Not when the engine was stopped (its lease lost or given up) while it waited: that is no
    /// failing store, and a stopped engine would never clear it.
    private func storeFailed(_ operation: StoreHealth.Operation, _ error: StateStoreError, else message: String) {
        if Task.isCancelled {
            logger.debug("stopped while waiting on the store (\(operation.rawValue)): \(error)")
        } else if let storeHealth {
            storeHealth.failed(operation, error: error)
        } else {
            logger.error("\(message): \(error)")
        }
    }

    /// Runs one cycle and commits its changes with its notifications in one transaction (true
    /// when it did, or had nothing to write). If the
    /// commit fails, the state goes back to what is committed and the next cycle plans the same
    /// again. Cycles run one at a time: the actor is reentrant while the commit is awaited, and
    /// a cycle must never start on another's uncommitted journal.
    @discardableResult
    private func run(
        _ input: consuming AlertCycle.Input, silences given: Interventions? = nil,
        transition: (Transition) -> Void = { _ in }
    ) async -> Bool {
        if cycleRunning {
            // Resumed by the cycle before it, which hands its turn on (still running).
            await withCheckedContinuation { cyclesWaiting.append($0) }
        }
        cycleRunning = true
        defer {
            if cyclesWaiting.isEmpty { cycleRunning = false } else { cyclesWaiting.removeFirst().resume() }
        }
        let at = input.at
        var fetched = given
        if fetched == nil { fetched = await readInterventions(at: at) }
        guard let silences = fetched else { return false }
        var intents: [NotificationIntent] = []
        // The latest plan was committed with these settings, silences and acknowledgements
        // (`plannedSilences` is cleared when a cycle is rolled back): a quiet poll need not plan.
        let generation = settingsGeneration
        let previousPlan =
            silences == plannedSilences && plannedGeneration == generation
            ? AlertCycle.PreviousPlan(nextDue: nextDue) : nil
        let result = AlertCycle.run(
            &state, input, settings: settings, silences: silences.silences,
            acknowledgements: silences.acknowledgements, previousPlan: previousPlan
        ) { intent in
            logger.info(
                "notification planned",
                metadata: [
                    "receiver": "\(intent.receiver)", "group": "\(intent.groupKey)",
                    "reason": "\(intent.reason.rawValue)",
                    "firing": "\(intent.firing.count)", "resolved": "\(intent.resolved.count)",
                ])
            intents.append(intent)
        }
        var changes = result.changes
        changes.intents = intents
        changes.upsertClockOffsets = movedOffsets()
        let wrote = !changes.isEmpty
        if wrote { CrashPoint.beforeCommit.hit() }
        do {
            // Outbox times are the worker's own clock: the dispatcher schedules on it.
            try await store.commit(changes, at: localNow())
        } catch {
            if error.kind == .heldByAnother {
                // Fenced: not a failing store, a lost lease. Nothing of the cycle was written.
                logger.warning("\(error)")
                state.rollBack()
                plannedSilences = nil
                await fenced()
                return false
            }
            storeFailed(.commitCycle, error, else: "cannot commit the cycle, it will be retried")
            state.rollBack()
            // Planned again at the next tick.
            plannedSilences = nil
            return false
        }
        storeHealth?.succeeded(.commitCycle)
        state.endCycle()
        for change in result.transitions { transition(change) }
        plannedSilences = silences
        plannedGeneration = generation
        nextDue = result.nextDue
        for offset in changes.upsertClockOffsets { storedOffsets[offset.workspace] = offset }
        if wrote { CrashPoint.afterCommit.hit() }
        if result.planned > 0 { await committed() }
        return true
    }

    /// The workspaces whose clock offset moved since it was stored (or was never stored).
    private func movedOffsets() -> [ClockOffset] {
        offsets.values.filter { offset in
            storedOffsets[offset.workspace].map {
                !(($0.offset - ClockOffset.tolerance)...($0.offset + ClockOffset.tolerance)).contains(offset.offset)
            } ?? true
        }.sorted { $0.workspace < $1.workspace }
    }
}
