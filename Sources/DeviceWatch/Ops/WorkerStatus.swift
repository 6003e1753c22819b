import DeviceWatchCore
import Foundation

/// The outcome of the latest configuration reload.
public struct ReloadStatus: Sendable, Equatable {
    /// Whether the running configuration is the latest one on disk.
    public var succeeded: Bool
    /// When the configuration was last loaded or a reload last attempted.
    public var at: Date
    /// Every problem with the rejected configuration; empty when it succeeded.
    public var problems: [String] = []
}

/// Whether the worker is doing its job: the configuration loaded and every workspace visible.
public struct Readiness: Sendable, Equatable {
    public var ready: Bool
    /// Workspaces devicewatch has not been able to see for `stale_after` or longer (or at once on 401/403).
    public var blind: [String]
    /// Why it is not ready, one line each.
    public var problems: [String]

    /// Decides readiness from each workspace's poll health.
    /// - Parameters:
    ///   - startedAt: when the worker started; a workspace never polled successfully is blind once
    ///     `staleAfter` has passed since.
    ///   - store: the state store's health; a store that keeps failing makes the worker unready.
    public static func evaluate(
        workspaces: [String], health: [String: WorkspaceHealth], staleAfter: Duration, startedAt: Date, now: Date,
        store: StoreHealth.Snapshot = .init(), lease: DatabaseLease? = nil, localNow: Date = Date()
    ) -> Readiness {
        var blind: [String] = []
        var problems: [String] = []
        if let lease, localNow.duration(since: lease.renewedAt) > lease.ttl {
            problems.append(
                lease.renewedAt == .distantPast
                    ? "the database has not confirmed this worker's workspace leases yet"
                    : "the database last confirmed this worker's leases \(DurationText.format(seconds: localNow.timeIntervalSince(lease.renewedAt))) "
                        + "ago, longer than their \(DurationText.format(lease.ttl)): other workers take its workspaces over"
            )
        }
        if let since = store.failingSince {
            problems.append(
                "the state store has been failing for \(DurationText.format(seconds: max(0, localNow.timeIntervalSince(since)))): "
                    + (store.lastError ?? "unknown error"))
        }
        for workspace in workspaces.sorted() {
            let health = health[workspace] ?? WorkspaceHealth()
            let failingSince = health.failingSince ?? (health.lastSuccess == nil ? startedAt : nil)
            guard let failingSince else { continue }
            let blindFor = now.duration(since: failingSince)
            guard health.authFailure || blindFor >= staleAfter else { continue }
            blind.append(workspace)
            let why = health.failure ?? "no successful poll yet"
            problems.append(
                "workspace \(workspace) not seen for \(DurationText.format(max(.zero, blindFor))): \(why)")
        }
        return Readiness(ready: problems.isEmpty, blind: blind, problems: problems)
    }
}

/// This worker's part in a cluster on a PostgreSQL database, as `/readyz` and the status page
/// show it.
public struct DatabaseLease: Sendable, Equatable {
    /// `postgres://HOST:PORT/DB`, without credentials.
    public var database: String
    /// This worker's id (host, pid and a random part).
    public var owner: String
    public var ttl: Duration
    /// When the database last confirmed this worker's leases (the local clock).
    public var renewedAt: Date
    /// The workspaces this worker holds, with their lease epochs.
    public var held: [String: Int64]
    /// The live workers, oldest first.
    public var workers: [String]
    /// Every workspace's lease, as the latest round read them.
    public var leases: [PostgresStateStore.WorkspaceLease]

    public init(
        database: String, owner: String, ttl: Duration, renewedAt: Date, held: [String: Int64] = [:],
        workers: [String] = [], leases: [PostgresStateStore.WorkspaceLease] = []
    ) {
        self.database = database
        self.owner = owner
        self.ttl = ttl
        self.renewedAt = renewedAt
        self.held = held
        self.workers = workers
        self.leases = leases
    }
}

/// One consistent look at the running worker, for metrics, `/readyz`, the API and the status page.
public struct WorkerStatus: Sendable {
    public var now: Date
    public var startedAt: Date
    public var workspaces: [String]
    public var fleet: [String: FleetCounts]
    public var alerts: [AlertInstance]
    public var health: [String: WorkspaceHealth]
    /// Pending, sent and dead notifications; nil when the store could not be read.
    public var outbox: [OutboxEntry.State: Int]?
    public var reload: ReloadStatus
    public var readiness: Readiness
    public var rules: RuleSet
    /// The state store's health.
    public var store: StoreHealth.Snapshot = .init()
    /// On PostgreSQL: this worker's lease on the database.
    public var lease: DatabaseLease?

    public var blindWorkspaces: Set<String> { Set(readiness.blind) }
}
