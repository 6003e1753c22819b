import DeviceWatchCore
import Foundation
import Logging

/// One worker of several on one PostgreSQL database: every round (a third of the lease TTL, at
/// most a second) it says it is alive, renews the workspace leases it keeps, gives up what is
/// beyond its share and takes free ones up to it (``LeaseShare``). For each workspace it holds it
/// runs an ``Engine`` on that workspace's state, loaded from the database when the lease is
/// taken, committing under the lease's epoch (``FencedStore``), and that workspace's poller.
///
/// It never judges from memory what the database has not confirmed: a workspace whose lease is
/// lost (a fenced commit, a renewal refused) stops at once, and when the database cannot be
/// reached for a whole TTL every workspace stops, since another worker may hold them by then.
public actor ClusterMember: AlertJudge {
    public struct Settings: Sendable {
        public var rules: RuleSet
        public var defaults: RoutingDefaults
        public var staleAfter: Duration
        public var workspaces: [Configuration.Workspace]
        public var keys: [String: Secret]

        /// The time between polls, per workspace.
        var pollEvery: [String: Duration] { Configuration.pollEvery(workspaces) }
    }

    /// A workspace this worker holds, and what runs for it.
    struct Held {
        var epoch: Int64
        var engine: Engine
        var workspace: Configuration.Workspace
        var key: Secret
        var poller: Task<Void, Never>
    }

    public let id: String
    public let store: PostgresStateStore
    public let ttl: Duration
    var settings: Settings
    var held: [String: Held] = [:]
    private let makeClient: @Sendable (Secret) -> DevicesAPIClient
    private let metrics: WorkerMetrics
    let storeHealth: StoreHealth?
    private let logger: Logger
    private let committed: @Sendable () async -> Void
    /// The local wall clock (the lease times it keeps are local).
    let wallClock: WorkerClock
    /// The local time of the latest round the database confirmed.
    var confirmedAt: Date?
    var workers: [PostgresStateStore.ClusterWorker] = []
    var leases: [PostgresStateStore.WorkspaceLease] = []
    var stopped = false
    /// The latest poll judged by an engine since let go (the heartbeat's evidence survives it).
    var lastGoodPollOfDropped: Date?
    /// The cluster's alerts and health as last read, and when: status requests within
    /// ``sharedViewFor`` of each other share one read (a scrape, the page and /readyz together).
    var sharedView: (at: Date, alerts: [AlertInstance], health: [String: WorkspaceHealth])?
    let sharedViewFor: Duration = .seconds(2)

    public init(
        id: String, store: PostgresStateStore, ttl: Duration, settings: Settings,
        makeClient: @escaping @Sendable (Secret) -> DevicesAPIClient, metrics: WorkerMetrics,
        storeHealth: StoreHealth? = nil, logger: Logger, clock: WorkerClock = .system,
        committed: @escaping @Sendable () async -> Void
    ) {
        self.wallClock = clock
        self.storeHealth = storeHealth
        self.id = id
        self.store = store
        self.ttl = ttl
        var settings = settings
        settings.defaults.groupsPerWorkspace = true
        self.settings = settings
        self.makeClient = makeClient
        self.metrics = metrics
        self.logger = logger
        self.committed = committed
    }

    /// How often a round runs: often enough that a lease is renewed three times in its TTL, and
    /// a free workspace is taken within a second.
    public var roundEvery: Duration { min(ttl / 3, .seconds(1)) }

    /// The workspaces held now, with their epochs.
    public var holdings: [String: Int64] { held.mapValues(\.epoch) }

    // MARK: Rounds

    /// One round of lease keeping; see the type's summary.
    public func round() async {
        guard !stopped else { return }
        do {
            workers = try await store.heartbeat(worker: id, ttl: ttl)
            let share = LeaseShare(
                configured: settings.workspaces.map(\.id), held: holdings, liveWorkers: workers.count)
            for workspace in share.release {
                await stop(workspace, because: "more than this worker's share of \(workers.count) workers", wait: true)
            }
            try await store.releaseLeases(owner: id, workspaces: share.release)
            let round = try await store.arrangeLeases(
                owner: id, ttl: ttl, keep: share.keep, take: share.candidates, limit: share.takeLimit)
            confirmedAt = wallClock.now()
            for workspace in share.keep.keys where round.held[workspace] == nil {
                metrics.leaseLost()
                await stop(workspace, because: "another worker took its lease over", wait: false)
            }
            for (workspace, previous) in round.taken.sorted(by: { $0.key < $1.key }) {
                guard let epoch = round.held[workspace] else { continue }
                await start(workspace, epoch: epoch, takenFrom: previous)
            }
            leases = try await store.leases()
            metrics.leases(held: held.count)
            // The database answers, and no engine runs here to clear what a stopped one reported
            // (a commit that timed out while the link was cut, just before its lease was lost).
            if held.isEmpty { storeHealth?.withdraw([.commitCycle, .readSilences]) }
        } catch {
            logger.warning("cannot keep the workspace leases: \(error)")
            // A lease not renewed for its TTL may be another worker's already: stop judging.
            if let confirmedAt, wallClock.now().duration(since: confirmedAt) >= ttl * 0.9, !held.isEmpty {
                let silent = DurationText.format(wallClock.now().duration(since: confirmedAt))
                let stopping = held.keys.sorted().joined(separator: ", ")
                logger.error(
                    "the database has not confirmed this worker's leases for \(silent): stopped polling \(stopping) until it does"
                )
                for workspace in held.keys.sorted() {
                    await stop(workspace, because: "the database cannot confirm its lease", wait: false)
                }
            }
        }
    }

    /// A workspace taken: its state loaded from the database, its engine and poller started.
    private func start(_ workspace: String, epoch: Int64, takenFrom previous: String) async {
        guard let config = settings.workspaces.first(where: { $0.id == workspace }),
            let key = settings.keys[workspace]
        else {
            try? await store.releaseLeases(owner: id, workspaces: [workspace])
            return
        }
        let fence = WorkspaceFence(workspace: workspace, owner: id, epoch: epoch, ttl: ttl)
        let fenced = FencedStore(store: store, fence: fence)
        let state: PersistedState
        do {
            state = try await fenced.load()
        } catch {
            logger.error("cannot load the state of a workspace just taken; giving it up: \(error)")
            try? await store.releaseLeases(owner: id, workspaces: [workspace])
            return
        }
        let engine = Engine(
            rules: settings.rules, defaults: settings.defaults, staleAfter: settings.staleAfter,
            pollEvery: settings.pollEvery, state: state,
            store: fenced, storeHealth: storeHealth, logger: logger, committed: committed,
            fenced: { [weak self] in await self?.fenced(workspace, epoch: epoch) })
        if previous.isEmpty || previous == id {
            // Free, or this worker's own lease that ran out while the database was away.
            logger.info("holding workspace", metadata: ["workspace": "\(workspace)", "epoch": "\(epoch)"])
        } else {
            metrics.takeover()
            logger.info(
                "took workspace over",
                metadata: [
                    "workspace": "\(workspace)", "epoch": "\(epoch)", "from": "\(previous)",
                    "reason": "its lease ran out or was given up",
                ])
        }
        held[workspace] = Held(
            epoch: epoch, engine: engine, workspace: config, key: key,
            poller: startPoller(config, key: key, engine: engine))
    }

    private func startPoller(
        _ workspace: Configuration.Workspace, key: Secret, engine: Engine, after previous: Task<Void, Never>? = nil
    ) -> Task<Void, Never> {
        let client = makeClient(key)
        let staleAfter = settings.staleAfter
        return Task { [metrics, logger] in
            await previous?.value
            await Pollers.poll(
                workspace, client: client, engine: engine, metrics: metrics, logger: logger, staleAfter: staleAfter)
        }
    }

    /// Stops judging a workspace: its poller is cancelled (and, with `wait`, has finished its
    /// cycle) and its engine let go.
    private func stop(_ workspace: String, because reason: String, wait: Bool) async {
        guard let gone = held.removeValue(forKey: workspace) else { return }
        gone.poller.cancel()
        if wait { await gone.poller.value }
        if let good = await gone.engine.lastGoodPoll {
            lastGoodPollOfDropped = max(lastGoodPollOfDropped ?? good, good)
        }
        logger.info("stopped polling", metadata: ["workspace": "\(workspace)", "reason": "\(reason)"])
        metrics.leases(held: held.count)
    }

    /// A commit refused: another worker holds the workspace at a later epoch.
    private func fenced(_ workspace: String, epoch: Int64) async {
        guard held[workspace]?.epoch == epoch else { return }
        metrics.fencedCycle()
        metrics.leaseLost()
        await stop(workspace, because: "a commit was fenced: another worker took its lease over", wait: false)
    }

    /// Stops every poller and gives every lease up (a graceful shutdown), so the other workers
    /// take the workspaces at their next round.
    public func leave() async {
        stopped = true
        let workspaces = held.keys.sorted()
        for workspace in workspaces { await stop(workspace, because: "stopping", wait: true) }
        try? await store.releaseLeases(owner: id, workspaces: workspaces)
        if !workspaces.isEmpty {
            logger.info(
                "gave the workspace leases up", metadata: ["workspaces": "\(workspaces.joined(separator: ","))"])
        }
    }

    /// Stops polling without giving the leases up (cancelled: the process is going away).
    public func halt() {
        stopped = true
        for gone in held.values { gone.poller.cancel() }
        held = [:]
    }

    // MARK: Reload

    /// A reloaded configuration: every held engine reloads (alerts of removed workspaces resolve
    /// now, committed under their leases), pollers of re-timed or re-keyed workspaces restart, and
    /// the next round gives up what is no longer configured and spreads what is new.
    public func reload(_ next: Settings) async {
        var next = next
        next.defaults.groupsPerWorkspace = true
        settings = next
        let ids = Set(next.workspaces.map(\.id))
        for (workspace, running) in held.sorted(by: { $0.key < $1.key }) {
            await running.engine.reload(
                rules: next.rules, defaults: next.defaults, staleAfter: next.staleAfter, workspaces: ids,
                pollEvery: next.pollEvery)
            guard let config = next.workspaces.first(where: { $0.id == workspace }), let key = next.keys[workspace]
            else { continue }
            if config != running.workspace || key != running.key {
                running.poller.cancel()
                held[workspace]?.workspace = config
                held[workspace]?.key = key
                held[workspace]?.poller = startPoller(config, key: key, engine: running.engine, after: running.poller)
            }
        }
    }
}
