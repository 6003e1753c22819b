import CurlHTTP
import DeviceWatchCore
import Foundation
import Logging
import ServiceLifecycle

/// The long-running worker: a poller per workspace, the engine, the timer tick and the dispatcher.
public struct Worker: Service {
    public let loaded: LoadedConfiguration
    private let logger: Logger
    private let onListening: @Sendable (String) async -> Void

    /// - Parameter onListening: told the ops server's address (`http://host:port`) once it listens.
    public init(
        loaded: LoadedConfiguration, logger: Logger = Logger(label: "devicewatch"),
        onListening: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.loaded = loaded
        self.logger = logger
        self.onListening = onListening
    }

    /// Everything the worker needs, built before it starts: a problem here stops it with a clear error.
    public struct Parts: Sendable {
        public var store: any StateStore
        public var state: PersistedState
        public var receivers: [String: any Receiver]
        /// Each workspace's API key (its own, else `api`'s).
        public var apiKeys: [String: Secret]
        public var adminToken: Secret?
    }

    public func prepare() async throws -> Parts {
        let store = try await loaded.openStore()
        let state = try await store.load()
        let receivers = try loaded.makeReceivers()
        let apiKeys = try loaded.apiKeys()
        var adminToken: Secret?
        if let reference = loaded.configuration.server.adminToken {
            do {
                adminToken = try loaded.secret(reference)
            } catch {
                throw ReceiverSetupError(receiver: "server", problem: "the admin token cannot be read: \(error)")
            }
        }
        return Parts(store: store, state: state, receivers: receivers, apiKeys: apiKeys, adminToken: adminToken)
    }

    public func run() async throws {
        let parts = try await prepare()
        let config = loaded.configuration
        let startedAt = Date()
        let metrics = WorkerMetrics()
        let storeHealth = StoreHealth(logger: logger.with(label: "store"), metrics: metrics)
        let http = CurlHTTPClient()
        // On PostgreSQL this worker is one of a cluster (of one, or several): it delivers rows it
        // claims, paces receivers with the others, and judges the workspaces it holds leases on.
        var cluster: (store: PostgresStateStore, ttl: Duration)?
        if let postgres = parts.store as? PostgresStateStore, case .postgres(_, let ttl) = config.state {
            cluster = (postgres, ttl)
        }
        let workerID = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) \(UUID().uuidString.prefix(8).lowercased())"
        var delivery = Dispatcher.Settings()
        delivery.keepStatusChanges = config.history.keep
        if let cluster {
            // Rows are claimed as they are read (64 at a time per receiver); a row read ahead whose
            // claim ran out before its turn is confirmed with the database before it is sent.
            cluster.store.claimOutbox(as: workerID, for: cluster.ttl)
            cluster.store.onClaims { claimed, lost in metrics.claims(claimed: claimed, lost: lost) }
        }
        let dispatcher = Dispatcher(
            store: parts.store, http: http, receivers: parts.receivers,
            context: RenderContext(rules: loaded.rules, externalURL: config.server.externalURL), settings: delivery,
            metrics: metrics, storeHealth: storeHealth, logger: logger.with(label: "dispatcher"),
            pacing: cluster?.store)
        // One client per workspace, each with that workspace's key.
        let makeClient: @Sendable (Secret) -> DevicesAPIClient = { key in
            DevicesAPIClient(
                baseURL: config.api.baseURL, apiKey: key, http: http,
                retry: RetryPolicy(maxAttempts: 3, maxTotal: .seconds(30)),
                requestTimeout: config.api.timeout)
        }
        let judge: any AlertJudge
        let judging: [any Service]
        let applyReload: @Sendable (LoadedConfiguration, [String: Secret]) async -> Void
        let clusterStatus: @Sendable () async -> DatabaseLease?
        if let cluster {
            let member = ClusterMember(
                id: workerID, store: cluster.store, ttl: cluster.ttl,
                settings: ClusterMember.Settings(
                    rules: loaded.rules,
                    defaults: RoutingDefaults(config.defaults, metaReceivers: config.metaReceivers),
                    staleAfter: config.defaults.staleAfter, workspaces: config.workspaces, keys: parts.apiKeys),
                makeClient: makeClient, metrics: metrics, storeHealth: storeHealth, logger: logger,
                committed: { await dispatcher.wake() })
            logger.info(
                "joining the workers on the database",
                metadata: ["database": "\(cluster.store.path)", "worker": "\(workerID)"])
            judge = member
            judging = [
                TickService(engine: member), ClusterService(member: member, logger: logger),
                OutboxWatchService(store: cluster.store, dispatcher: dispatcher, storeHealth: storeHealth),
            ]
            applyReload = { reloaded, keys in
                let next = reloaded.configuration
                await member.reload(
                    ClusterMember.Settings(
                        rules: reloaded.rules,
                        defaults: RoutingDefaults(next.defaults, metaReceivers: next.metaReceivers),
                        staleAfter: next.defaults.staleAfter, workspaces: next.workspaces, keys: keys))
            }
            clusterStatus = { await member.status() }
        } else {
            let engine = Engine(
                rules: loaded.rules, defaults: RoutingDefaults(config.defaults, metaReceivers: config.metaReceivers),
                staleAfter: config.defaults.staleAfter, pollEvery: Configuration.pollEvery(config.workspaces),
                state: parts.state, store: parts.store,
                storeHealth: storeHealth, logger: logger,
                committed: { await dispatcher.wake() })
            let pollers = Pollers(makeClient: makeClient, engine: engine, metrics: metrics, logger: logger)
            judge = engine
            judging = [
                TickService(engine: engine),
                PollingService(
                    pollers: pollers, workspaces: config.workspaces, keys: parts.apiKeys,
                    staleAfter: config.defaults.staleAfter),
            ]
            applyReload = { reloaded, keys in
                let next = reloaded.configuration
                await engine.reload(
                    rules: reloaded.rules, defaults: RoutingDefaults(next.defaults, metaReceivers: next.metaReceivers),
                    staleAfter: next.defaults.staleAfter, workspaces: Set(next.workspaces.map(\.id)),
                    pollEvery: Configuration.pollEvery(next.workspaces))
                await pollers.update(next.workspaces, keys: keys, staleAfter: next.defaults.staleAfter)
            }
            clusterStatus = { nil }
        }
        logger.info(
            "devicewatch started",
            metadata: [
                "workspaces": "\(config.workspaces.map(\.id).joined(separator: ","))",
                "rules": "\(loaded.rules.rules.count)",
                "receivers": "\(parts.receivers.keys.sorted().joined(separator: ","))",
            ])

        let workspaceList = WorkspaceList(config.workspaces.map(\.id))
        let watcher = ConfigWatcher(loaded: loaded, logger: logger) { [logger] reloaded in
            let receivers = try reloaded.makeReceivers()
            let keys = try reloaded.apiKeys()
            let next = reloaded.configuration
            if next.api != config.api || next.state != config.state || next.server != config.server {
                logger.warning("changes to api, state and server take effect at the next restart")
            }
            await dispatcher.update(
                receivers: receivers,
                context: RenderContext(rules: reloaded.rules, externalURL: config.server.externalURL))
            await applyReload(reloaded, keys)
            await workspaceList.set(next.workspaces.map(\.id))
        }
        let ops = OpsServer(
            settings: OpsServer.Settings(
                listen: config.server.listen, adminToken: parts.adminToken,
                allowsAnonymousWrites: config.server.isLoopback, historyGroupBy: config.history.groupBy,
                timeIntervals: Set(config.defaults.timeIntervals.named.keys), externalURL: config.server.externalURL),
            store: parts.store, metrics: metrics, logger: logger.with(label: "ops"),
            status: { [store = parts.store] in
                let snapshot = await judge.snapshot()
                let workspaces = await workspaceList.ids
                // Health times are on the API's clock, as the engine keeps them; so is the start here.
                let started = snapshot.now.addingTimeInterval(-Date().timeIntervalSince(startedAt))
                let storeState = storeHealth.snapshot
                let lease = await clusterStatus()
                return await WorkerStatus(
                    now: snapshot.now, startedAt: started, workspaces: workspaces, fleet: snapshot.fleet,
                    alerts: snapshot.alerts,
                    // Not from a store known to be failing: a damaged file can hold a read for the whole
                    // busy timeout, and /readyz must answer at once that the store is failing.
                    // Nor, on PostgreSQL, from a database that has not confirmed the leases lately
                    // (cut off: a read would wait for its timeout).
                    health: snapshot.health,
                    outbox: storeState.failingSince == nil
                        && (lease.map { Date().duration(since: $0.renewedAt) < $0.ttl } ?? true)
                        ? try? store.outboxCounts() : nil,
                    reload: await watcher.status,
                    readiness: Readiness.evaluate(
                        workspaces: workspaces, health: snapshot.health, staleAfter: snapshot.staleAfter,
                        startedAt: started, now: snapshot.now,
                        store: storeState, lease: lease),
                    rules: snapshot.rules, store: storeState, lease: lease)
            },
            clock: { await judge.clock },
            onListening: onListening)
        var heartbeatServices: [any Service] = []
        if let heartbeat = config.heartbeat {
            heartbeatServices = [
                HeartbeatService(
                    engine: judge, url: try loaded.secret(heartbeat.url), every: heartbeat.every, http: http,
                    logger: logger,
                    takeTurn: heartbeatTurn(cluster?.store, every: heartbeat.every))
            ]
        }
        // Started in this order, stopped in the reverse one (see WorkerServices.swift): the ops
        // server first (if it cannot listen, nothing else starts for long) and last; the
        // dispatcher drains after everything that feeds it has stopped.
        var configuration = ServiceGroupConfiguration(
            services: [OpsService(server: ops), DeliveryService(dispatcher: dispatcher, logger: logger)] + judging + [
                ReloadService(watcher: watcher, logger: logger),
                StoreWatchdog(health: storeHealth, giveUpAfter: config.stateGiveUpAfter),
            ] + heartbeatServices,
            logger: logger)
        // What is due when a shutdown begins gets this long to go; the rest waits for the next start.
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let services = ServiceGroup(configuration: configuration)
        do {
            try await withGracefulShutdownHandler {
                try await services.run()
            } onGracefulShutdown: {
                Task { await services.triggerGracefulShutdown() }
            }
        } catch let gaveUp as StoreGaveUp {
            // Nothing can be recorded: what is pending stays pending for the next start.
            http.shutdown()
            logger.critical("\(gaveUp)")
            throw gaveUp
        }
        http.shutdown()
        logger.info("devicewatch stopped")
    }
}

/// On PostgreSQL, whether it is this worker's turn to send the heartbeat; nil for one worker alone.
private func heartbeatTurn(_ store: PostgresStateStore?, every: Duration) -> (@Sendable () async -> Bool)? {
    guard let store else { return nil }
    return { (try? await store.takeHeartbeatTurn(every: every)) ?? false }
}

/// The workspaces the running configuration names, for the ops server.
actor WorkspaceList {
    private(set) var ids: [String]

    init(_ ids: [String]) { self.ids = ids }

    func set(_ ids: [String]) { self.ids = ids }
}

extension Logger {
    func with(label: String) -> Logger {
        var copy = Logger(label: self.label + "." + label)
        copy.logLevel = logLevel
        return copy
    }
}

extension Worker: CustomStringConvertible {
    /// What service logs show: never the configuration (it names where secrets live).
    public var description: String { "devicewatch worker" }
}
