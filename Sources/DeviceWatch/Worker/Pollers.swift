import DeviceWatchCore
import Foundation
import Logging

/// One poller per configured workspace; a reload that adds, removes or re-times workspaces starts
/// and stops pollers without touching the others.
actor Pollers {
    private let makeClient: @Sendable (Secret) -> DevicesAPIClient
    private let engine: Engine
    private let metrics: WorkerMetrics
    private let logger: Logger
    private var running: [String: (workspace: Configuration.Workspace, key: Secret, task: Task<Void, Never>)] = [:]

    /// - Parameter makeClient: the Devices API client for one workspace's key.
    init(
        makeClient: @escaping @Sendable (Secret) -> DevicesAPIClient, engine: Engine, metrics: WorkerMetrics,
        logger: Logger
    ) {
        self.makeClient = makeClient
        self.engine = engine
        self.metrics = metrics
        self.logger = logger
    }

    /// Polls exactly `workspaces` from now on, each with its key from `keys`; failing polls back off
    /// to at most half of `staleAfter`.
    func update(_ workspaces: [Configuration.Workspace], keys: [String: Secret], staleAfter: Duration) {
        let wanted = Dictionary(workspaces.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var stopping: [String: Task<Void, Never>] = [:]
        for (id, poller) in running where wanted[id] != poller.workspace || keys[id] != poller.key {
            poller.task.cancel()
            stopping[id] = poller.task
            running[id] = nil
            if wanted[id] == nil { logger.info("stopped polling", metadata: ["workspace": "\(id)"]) }
        }
        for (id, workspace) in wanted where running[id] == nil {
            guard let key = keys[id] else {
                logger.error("no API key for workspace; not polling it", metadata: ["workspace": "\(id)"])
                continue
            }
            let previous = stopping[id]
            let client = makeClient(key)
            let task = Task { [engine, metrics, logger] in
                // A re-timed workspace: its old poller finishes (or abandons) its poll first, so
                // one workspace is never polled twice at once.
                await previous?.value
                await Self.poll(
                    workspace, client: client, engine: engine, metrics: metrics, logger: logger, staleAfter: staleAfter)
            }
            running[id] = (workspace, key, task)
        }
    }

    func stop() {
        for poller in running.values { poller.task.cancel() }
        running = [:]
    }

    private static func listed(
        _ workspace: Configuration.Workspace, client: DevicesAPIClient, metrics: WorkerMetrics,
        started: Duration, timing: PollTiming, logger: Logger
    ) async throws(DevicesAPIError) -> ([Device], Date?) {
        let result = try await client.list(workspace: workspace.id)
        metrics.poll(workspace: workspace.id, succeeded: true, duration: timing.now() - started)
        let metadata: Logger.Metadata = ["workspace": "\(workspace.id)"]
        for warning in result.warnings.prefix(5) { logger.warning("\(warning)", metadata: metadata) }
        for skipped in result.skipped.prefix(5) { logger.warning("\(skipped)", metadata: metadata) }
        return (result.devices, result.apiDate)
    }

    /// Polls one workspace until cancelled, every `poll_every` while polls succeed and backing off
    /// while they fail (``PollSchedule``); one poll at a time, never two at once.
    static func poll(
        _ workspace: Configuration.Workspace, client: DevicesAPIClient, engine: Engine, metrics: WorkerMetrics,
        logger: Logger,
        staleAfter: Duration, timing: PollTiming = .real
    ) async {
        let metadata: Logger.Metadata = ["workspace": "\(workspace.id)"]
        let schedule = PollSchedule(
            pollEvery: workspace.pollEvery,
            maxBackoff: PollSchedule.maxBackoff(pollEvery: workspace.pollEvery, staleAfter: staleAfter))
        var random = SystemRandomNumberGenerator()
        var failures = 0
        while !Task.isCancelled {
            let started = timing.now()
            let outcome: PollSchedule.Outcome
            do {
                // The raw body (megabytes for a large fleet) is let go before the cycle runs.
                let (devices, apiDate) = try await listed(
                    workspace, client: client, metrics: metrics, started: started, timing: timing, logger: logger)
                if Task.isCancelled { break }
                let count = devices.count
                await engine.pollSucceeded(workspace: workspace.id, devices: consume devices, apiDate: apiDate)
                logger.debug("polled the workspace", metadata: ["workspace": "\(workspace.id)", "devices": "\(count)"])
                failures = 0
                outcome = .succeeded
            } catch {
                if case .transport(.cancelled) = error.kind { break }
                if Task.isCancelled { break }
                failures += 1
                metrics.poll(workspace: workspace.id, succeeded: false, duration: timing.now() - started)
                logger.error("poll failed: \(error)", metadata: metadata)
                await engine.pollFailed(workspace: workspace.id, error: error)
                outcome = .failed(consecutive: failures, retryAfter: error.retryAfter)
            }
            let wait = schedule.wait(after: outcome, elapsed: timing.now() - started, random: &random)
            if failures > 1 {
                logger.info(
                    "backing off after \(failures) failed polls: next in \(DurationText.format(wait))",
                    metadata: metadata)
            }
            do {
                try await timing.sleep(wait)
            } catch {
                break
            }
        }
    }
}

/// The clocks a poller runs on: the monotonic time and a sleep, injected so tests drive time.
struct PollTiming: Sendable {
    var now: @Sendable () -> Duration
    var sleep: @Sendable (Duration) async throws -> Void

    static let real = PollTiming(
        now: { Self.origin.duration(to: .now) },
        sleep: { try await Task.sleep(for: $0) })
    private static let origin = ContinuousClock.now
}
