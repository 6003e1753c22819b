import DeviceWatchCore
import Foundation
import PostgresNIO

/// Several workers on one database: who polls which workspace (leases with an epoch that fences
/// every commit), who is alive (a row per worker), and the outbox claims and shared rate limits
/// that let any worker deliver (see ../shared/HA.md's model, and the README's guarantee).
///
/// Every expiry is on the database's clock (`clock_timestamp()`), never a worker's, so skewed
/// hosts never steal or keep a lease they should not. No session state: each call is one
/// transaction, so it works through PgBouncer in transaction mode.
extension PostgresStateStore {
    /// The database's clock, in seconds since 1970, as each statement reads it.
    static let now = "extract(epoch from clock_timestamp())"

    /// A worker of the cluster, as its own heartbeat row says.
    public struct ClusterWorker: Sendable, Equatable {
        public var id: String
        /// When it started, on the database's clock.
        public var startedAt: Date
        /// Seconds since its last heartbeat.
        public var seenAgo: Double
    }

    /// Who holds a workspace, at which epoch, for how much longer unless renewed.
    public struct WorkspaceLease: Sendable, Equatable {
        public var workspace: String
        public var owner: String
        public var epoch: Int64
        /// Negative once it ran out (anyone may take it).
        public var secondsLeft: Double
    }

    /// What one round of ``arrangeLeases(owner:ttl:keep:take:limit:)`` leaves this worker with.
    public struct LeaseRound: Sendable, Equatable {
        /// Every workspace this worker holds now, with its epoch.
        public var held: [String: Int64]
        /// Those just taken, with the owner they were taken from ("" when nobody held them).
        public var taken: [String: String]
    }

    /// Records that `worker` is alive (started now if new) and returns the live workers: those
    /// seen within `ttl`. Rows of workers gone for ten TTLs are deleted.
    /// Within half the TTL: a worker that cannot say it is alive in time must know it soon.
    public func heartbeat(worker: String, ttl: Duration) async throws(StateStoreError) -> [ClusterWorker] {
        try await transaction(timeout: min(.seconds(10), ttl / 2)) { db in
            try await db.query(
                """
                INSERT INTO workers (id, started_at, last_seen)
                VALUES (\(worker), \(unescaped: Self.now), \(unescaped: Self.now))
                ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen
                """, logger: self.logger)
            try await db.query(
                "DELETE FROM workers WHERE last_seen < \(unescaped: Self.now) - \((ttl * 10).timeInterval)",
                logger: self.logger)
            return try await Self.workers(db, within: ttl, logger: self.logger)
        }
    }

    /// The workers seen within `ttl`, oldest first.
    public func liveWorkers(ttl: Duration) async throws(StateStoreError) -> [ClusterWorker] {
        try await connection { db in try await Self.workers(db, within: ttl, logger: self.logger) }
    }

    static func workers(_ db: PostgresConnection, within ttl: Duration, logger: Logger) async throws -> [ClusterWorker]
    {
        var workers: [ClusterWorker] = []
        for try await (id, started, ago) in try await db.query(
            """
            SELECT id, started_at, \(unescaped: now) - last_seen FROM workers
            WHERE last_seen >= \(unescaped: now) - \(ttl.timeInterval) ORDER BY started_at, id
            """, logger: logger
        ).decode((String, Double, Double).self) {
            workers.append(ClusterWorker(id: id, startedAt: Date(timeIntervalSince1970: started), seenAgo: max(0, ago)))
        }
        return workers
    }

    /// One round of lease keeping, in one transaction: renews the leases in `keep` that this
    /// worker still holds at the epoch it knows (one another worker took over is not renewed:
    /// it is gone), then takes at most `limit` of the workspaces in `take` whose lease ran out
    /// or that nobody ever held, each at its epoch plus one.
    public func arrangeLeases(owner: String, ttl: Duration, keep: [String: Int64], take: [String], limit: Int)
        async throws(StateStoreError) -> LeaseRound
    {
        let kept = keep.sorted { $0.key < $1.key }
        return try await transaction(timeout: min(.seconds(10), ttl / 2)) { db in
            var held: [String: Int64] = [:]
            if !kept.isEmpty {
                for try await (workspace, epoch) in try await db.query(
                    """
                    UPDATE workspace_leases AS l SET expires_at = \(unescaped: Self.now) + \(ttl.timeInterval)
                    FROM UNNEST(\(kept.map(\.key))::text[], \(kept.map(\.value))::int8[]) AS k(workspace, epoch)
                    WHERE l.workspace = k.workspace AND l.owner = \(owner) AND l.epoch = k.epoch
                    RETURNING l.workspace, l.epoch
                    """, logger: self.logger
                ).decode((String, Int64).self) {
                    held[workspace] = epoch
                }
            }
            var taken: [String: String] = [:]
            let wanted = take.filter { held[$0] == nil }.sorted()
            if limit > 0, !wanted.isEmpty {
                try await db.query(
                    """
                    INSERT INTO workspace_leases (workspace, owner, epoch, expires_at)
                    SELECT w, '', 0, 0 FROM UNNEST(\(wanted)::text[]) AS w ON CONFLICT DO NOTHING
                    """, logger: self.logger)
                for try await (workspace, epoch, previous) in try await db.query(
                    """
                    WITH free AS (
                      SELECT workspace, owner FROM workspace_leases
                      WHERE workspace = ANY(\(wanted)::text[]) AND expires_at < \(unescaped: Self.now)
                      ORDER BY workspace LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                    UPDATE workspace_leases AS l
                    SET owner = \(owner), epoch = l.epoch + 1, expires_at = \(unescaped: Self.now) + \(ttl.timeInterval)
                    FROM free WHERE l.workspace = free.workspace
                    RETURNING l.workspace, l.epoch, free.owner
                    """, logger: self.logger
                ).decode((String, Int64, String).self) {
                    held[workspace] = epoch
                    taken[workspace] = previous
                }
            }
            return LeaseRound(held: held, taken: taken)
        }
    }

    /// Whether this worker sends the dead-man's-switch heartbeat now: true for the first worker
    /// to ask once `every` has passed since the last one any worker sent (the database's clock).
    public func takeHeartbeatTurn(every: Duration) async throws(StateStoreError) -> Bool {
        try await connection { db in
            try await !db.query(
                """
                INSERT INTO heartbeat_turn AS h (id, sent_at) VALUES (1, \(unescaped: Self.now))
                ON CONFLICT (id) DO UPDATE SET sent_at = excluded.sent_at
                WHERE h.sent_at <= \(unescaped: Self.now) - \((every * 0.9).timeInterval)
                RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
        }
    }

    /// Gives workspaces up at once (a graceful shutdown, or more than this worker's share), so
    /// another worker takes them at its next round rather than after the TTL.
    public func releaseLeases(owner: String, workspaces: [String]) async throws(StateStoreError) {
        guard !workspaces.isEmpty else { return }
        try await connection { db in
            try await db.query(
                """
                UPDATE workspace_leases SET expires_at = 0
                WHERE owner = \(owner) AND workspace = ANY(\(workspaces.sorted())::text[])
                """, logger: self.logger)
        }
    }

    /// Every workspace lease, by workspace.
    public func leases() async throws(StateStoreError) -> [WorkspaceLease] {
        try await connection { db in
            var leases: [WorkspaceLease] = []
            for try await (workspace, owner, epoch, left) in try await db.query(
                """
                SELECT workspace, owner, epoch, expires_at - \(unescaped: Self.now) FROM workspace_leases
                ORDER BY workspace
                """, logger: self.logger
            ).decode((String, String, Int64, Double).self) {
                leases.append(WorkspaceLease(workspace: workspace, owner: owner, epoch: epoch, secondsLeft: left))
            }
            return leases
        }
    }

    /// Inside a commit's transaction, its first statement: renew the workspace's lease, or
    /// refuse the whole transaction because another worker took the workspace over.
    func fence(_ fence: WorkspaceFence, ttl: Duration, in db: PostgresConnection) async throws {
        let renewed = try await db.query(
            """
            UPDATE workspace_leases SET expires_at = \(unescaped: Self.now) + \(ttl.timeInterval)
            WHERE workspace = \(fence.workspace) AND owner = \(fence.owner) AND epoch = \(fence.epoch)
            RETURNING 1
            """, logger: logger
        ).collect()
        guard !renewed.isEmpty else {
            throw StateStoreError(
                kind: .heldByAnother, path: path,
                detail: "workspace \(fence.workspace) was taken over by another worker after epoch \(fence.epoch); "
                    + "this cycle is abandoned and nothing of it is written")
        }
    }
}

/// The lease a cycle was planned under: its commit is written only if the lease is still this
/// worker's at this epoch.
public struct WorkspaceFence: Sendable, Hashable {
    public var workspace: String
    public var owner: String
    public var epoch: Int64
    /// The lease's TTL: a fenced commit renews it for this long.
    public var ttl: Duration

    public init(workspace: String, owner: String, epoch: Int64, ttl: Duration) {
        self.workspace = workspace
        self.owner = owner
        self.epoch = epoch
        self.ttl = ttl
    }
}
