import CurlHTTP
import DeviceWatchCore
import Foundation
import Logging
import ServiceLifecycle

/// The long-running worker: a poller per workspace, the engine, the timer tick and the dispatcher.
public struct Worker: Service {
    public let loaded: LoadedConfiguration
    private let logger: Logger

    public init(loaded: LoadedConfiguration, logger: Logger = Logger(label: "devicewatch")) {
        self.loaded = loaded
        self.logger = logger
    }

    /// Everything the worker needs, built before it starts: a problem here stops it with a clear error.
    public struct Parts: Sendable {
        public var store: any StateStore
        public var state: PersistedState
        public var receivers: [String: any Receiver]
        public var apiKey: Secret
    }

    public func prepare() throws -> Parts {
        let store = try loaded.openStore()
        let state = try store.load()
        let receivers = try loaded.makeReceivers()
        let apiKey: Secret
        do {
            apiKey = try loaded.secret(loaded.configuration.api.apiKey)
        } catch {
            throw ReceiverSetupError(receiver: "api", problem: "the API key cannot be read: \(error)")
        }
        return Parts(store: store, state: state, receivers: receivers, apiKey: apiKey)
    }

    public func run() async throws {
        let parts = try prepare()
        let config = loaded.configuration
        let http = CurlHTTPClient()
        let dispatcher = Dispatcher(
            store: parts.store, http: http, receivers: parts.receivers, context: RenderContext(rules: loaded.rules),
            logger: logger.with(label: "dispatcher"))
        let engine = Engine(
            rules: loaded.rules, defaults: RoutingDefaults(config.defaults, metaReceivers: config.metaReceivers),
            staleAfter: config.defaults.staleAfter, state: parts.state, store: parts.store, logger: logger,
            committed: { await dispatcher.wake() })
        let client = DevicesAPIClient(
            baseURL: config.api.baseURL, apiKey: parts.apiKey, http: http,
            retry: RetryPolicy(maxAttempts: 3, maxTotal: .seconds(30)),
            requestTimeout: .milliseconds(Int(config.api.timeout * 1000)))
        logger.info("devicewatch started", metadata: [
            "workspaces": "\(config.workspaces.map(\.id).joined(separator: ","))", "rules": "\(loaded.rules.rules.count)",
            "receivers": "\(parts.receivers.keys.sorted().joined(separator: ","))",
        ])
        // Deliver what a previous run left in the outbox.
        await dispatcher.wake()

        let workspaces = Set(config.workspaces.map(\.id))
        let watcher = ConfigWatcher(loaded: loaded, logger: logger) { [logger] reloaded in
            let receivers: [String: any Receiver]
            do {
                receivers = try reloaded.makeReceivers()
            } catch {
                logger.error("the new configuration's receivers cannot be built; still running on the last good one: \(error)")
                return
            }
            if Set(reloaded.configuration.workspaces.map(\.id)) != workspaces {
                logger.warning("workspace changes take effect at the next restart")
            }
            await dispatcher.update(receivers: receivers, context: RenderContext(rules: reloaded.rules))
            await engine.reload(
                rules: reloaded.rules, defaults: RoutingDefaults(reloaded.configuration.defaults, metaReceivers: reloaded.configuration.metaReceivers),
                staleAfter: reloaded.configuration.defaults.staleAfter, workspaces: workspaces)
        }
        let hangups = SignalStream.hangups()

        try await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await dispatcher.run() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        if Task.isCancelled { break }
                        await engine.tick()
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(2))
                        await watcher.check()
                    }
                }
                group.addTask {
                    for await _ in hangups {
                        logger.info("SIGHUP: reloading the configuration")
                        await watcher.check(force: true)
                    }
                }
                for workspace in config.workspaces {
                    group.addTask {
                        await Self.poll(workspace, client: client, engine: engine, logger: logger)
                    }
                }
            }
        }
        hangups.stop()
        logger.info("devicewatch stopping: delivering what is due, for up to 10 s")
        let drain = Task { await dispatcher.deliverDue() }
        let deadline = Task {
            try? await Task.sleep(for: .seconds(10))
            drain.cancel()
        }
        _ = await drain.value
        deadline.cancel()
        http.shutdown()
        logger.info("devicewatch stopped")
    }

    /// Polls one workspace every `poll_every` (with 10% jitter); a slow poll delays the next.
    static func poll(_ workspace: Configuration.Workspace, client: DevicesAPIClient, engine: Engine, logger: Logger) async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                let result = try await client.list(workspace: workspace.id)
                for warning in result.warnings.prefix(5) { logger.warning("\(warning)", metadata: ["workspace": "\(workspace.id)"]) }
                for skipped in result.skipped.prefix(5) { logger.warning("\(skipped)", metadata: ["workspace": "\(workspace.id)"]) }
                await engine.pollSucceeded(workspace: workspace.id, devices: result.devices, apiDate: result.apiDate)
            } catch {
                if case .transport(.cancelled) = error.kind { break }
                logger.error("poll failed: \(error)", metadata: ["workspace": "\(workspace.id)"])
                await engine.pollFailed(workspace: workspace.id, error: error)
            }
            let jitter = Double.random(in: -0.1...0.1) * workspace.pollEvery
            let elapsed = started.duration(to: .now)
            let wait = max(0.1, workspace.pollEvery + jitter - (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
    }
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
