import CurlHTTP
import DeviceWatchCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

// The worker's long-running loops, one `Service` each, run by one `ServiceGroup` (see
// `Worker.run()`). The group starts them in order and, on graceful shutdown, stops them in the
// reverse order: what feeds the outbox stops first, the dispatcher then delivers what is due, and
// the ops server, which reports on all of them, goes last.

/// The ops server (`/healthz`, `/readyz`, `/metrics`, the API and the status page).
struct OpsService: Service, CustomStringConvertible {
    let server: OpsServer
    var description: String { "ops server" }

    func run() async throws { try await server.run() }
}

/// Delivers the outbox until graceful shutdown; then finishes the transfers under way and what is
/// due, until the group's maximum graceful shutdown duration cancels it (what is left goes at
/// the next start).
struct DeliveryService: Service, CustomStringConvertible {
    let dispatcher: Dispatcher
    let logger: Logger
    var description: String { "dispatcher" }

    func run() async {
        // What a previous run left in the outbox goes at once.
        await dispatcher.wake()
        // At graceful shutdown the loop finishes what is under way and what is due, then returns;
        // the group's maximum graceful shutdown duration cancels it if that takes too long.
        await withGracefulShutdownHandler {
            await dispatcher.run()
        } onGracefulShutdown: { [dispatcher, logger] in
            logger.info("devicewatch stopping: delivering what is due")
            Task { await dispatcher.finish() }
        }
    }
}

/// Plans what timers made due (group_wait, group_interval, repeat_every) once a second.
struct TickService: Service, CustomStringConvertible {
    let engine: any AlertJudge
    var description: String { "engine ticker" }

    func run() async {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(1))
                await engine.tick()
            }
        }
    }
}

/// One poller per workspace (``Pollers``), started with the configured workspaces and stopped
/// at graceful shutdown; reloads change them in between.
struct PollingService: Service, CustomStringConvertible {
    let pollers: Pollers
    let workspaces: [Configuration.Workspace]
    let keys: [String: Secret]
    let staleAfter: Duration
    var description: String { "pollers" }

    func run() async {
        await pollers.update(workspaces, keys: keys, staleAfter: staleAfter)
        // Until shutdown (or cancellation), then no more polls.
        try? await gracefulShutdown()
        await pollers.stop()
    }
}

/// Reloads the configuration when its files change (checked every 2 s) and on SIGHUP.
struct ReloadService: Service, CustomStringConvertible {
    let watcher: ConfigWatcher
    let logger: Logger
    var description: String { "configuration watcher" }

    func run() async {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    while true {
                        try await Task.sleep(for: .seconds(2))
                        await watcher.check()
                    }
                }
            }
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    for await _ in hangups {
                        logger.info("SIGHUP: reloading the configuration")
                        await watcher.check(force: true)
                    }
                }
            }
        }
    }
}

/// Ends the worker when the state store has kept failing for `giveUpAfter`: the group stops and
/// ``StoreGaveUp`` reaches the supervisor as a non-zero exit, rather than the worker running deaf.
struct StoreWatchdog: Service, CustomStringConvertible {
    let health: StoreHealth
    let giveUpAfter: Duration
    var description: String { "state store watchdog" }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let state = health.snapshot
                    if let since = state.failingSince, Date().duration(since: since) >= giveUpAfter {
                        throw StoreGaveUp(
                            failingFor: Date().timeIntervalSince(since), lastError: state.lastError ?? "unknown error")
                    }
                }
            }
        } catch is CancellationError {
            return
        }
    }
}

/// A worker's part in a cluster (PostgreSQL): a round of lease keeping every
/// ``ClusterMember/roundEvery`` until graceful shutdown, which stops every poller and gives every
/// lease up, so the other workers take the workspaces at once rather than after the TTL. It runs
/// first and stops last of the pollers' side: nothing polls before the first round, and the
/// dispatcher still delivers after the leases are given up.
struct ClusterService: Service, CustomStringConvertible {
    let member: ClusterMember
    let logger: Logger
    var description: String { "workspace leases" }

    func run() async {
        let every = await member.roundEvery
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    await member.round()
                    try await Task.sleep(for: every)
                }
            }
        } catch {
            // Stopping (graceful shutdown or cancellation).
        }
        // Detached: this task is cancelled by now, and would cancel the queries.
        await Task.detached { [member] in await member.leave() }.value
    }
}

/// Several workers: another worker's commit adds notifications this worker's dispatcher may
/// deliver too. Every `every` (200 ms) it looks at the newest notification in the outbox and
/// wakes the dispatcher when there is a newer one, so this worker joins in within a fifth of a
/// second instead of at its next second's tick.
struct OutboxWatchService: Service, CustomStringConvertible {
    let store: PostgresStateStore
    let dispatcher: Dispatcher
    let storeHealth: StoreHealth
    var every: Duration = .milliseconds(200)
    var description: String { "outbox watch" }

    func run() async {
        try? await cancelWhenGracefulShutdown {
            var newest: Int64?
            while true {
                // Not while the database is known to be away (the lease rounds and the dispatcher
                // say so, and find it back): this look only hastens what the tick does anyway.
                if storeHealth.snapshot.failingSince == nil, let seen = try? await store.newestNotification() {
                    if let newest, seen > newest { await dispatcher.wake() }
                    newest = seen
                }
                try await Task.sleep(for: every)
            }
        }
    }
}

/// The dead-man's switch: every `every`, if a poll was judged and committed since the last
/// request, requests the heartbeat URL. A worker that cannot poll or cannot commit stays quiet,
/// and the service expecting the heartbeat says so. The URL is a secret: never logged.
struct HeartbeatService: Service, CustomStringConvertible {
    let engine: any AlertJudge
    let url: Secret
    let every: Duration
    let http: CurlHTTPClient
    let logger: Logger
    /// On PostgreSQL: whether this worker's turn it is (no other sent one within `every`).
    var takeTurn: (@Sendable () async -> Bool)?
    var description: String { "heartbeat" }

    func run() async {
        try? await cancelWhenGracefulShutdown {
            var lastSent: Date?
            while true {
                // The first as soon as the first poll is in; then at most one each `every`.
                try await Task.sleep(for: lastSent == nil ? .milliseconds(200) : every)
                guard let good = await engine.lastGoodPoll, lastSent.map({ good > $0 }) ?? true else { continue }
                // Several workers: one of them sends it per `every` (the first to claim the turn).
                if let takeTurn, !(await takeTurn()) {
                    lastSent = Date()
                    continue
                }
                do {
                    let response = try await http.send(
                        HTTPRequestSpec(url: url.exposedValue, connectTimeout: .seconds(10), totalTimeout: .seconds(15))
                    )
                    if (200..<300).contains(response.status) {
                        lastSent = Date()
                        logger.debug("heartbeat sent")
                    } else {
                        logger.warning("the heartbeat URL answered HTTP \(response.status)")
                    }
                } catch let error as CurlHTTPError {
                    logger.warning("cannot send the heartbeat: \(url.scrub("\(error.kind.rawValue): \(error.detail)"))")
                } catch {
                    return  // cancelled: stopping
                }
            }
        }
    }
}
