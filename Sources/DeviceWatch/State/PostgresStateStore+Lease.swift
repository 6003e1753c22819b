import DeviceWatchCore
import Foundation
import PostgresNIO
import Synchronization

/// One worker per database, enforced: the worker holds a lease row (owner, expiry on the
/// database's own clock, so hosts' clocks never matter), renews it every third of its TTL, and
/// every cycle's commit first renews it `WHERE owner = me` in the same transaction. A worker that
/// lost its lease (paused past it, partitioned away, while another took over) can therefore never
/// commit a decision: its commit is refused whole, and its renewal tells it to stop.
///
/// This is the single-lease form of the per-workspace leases several active workers need.
extension PostgresStateStore {
    struct Lease: Sendable {
        let owner: String
        let ttl: Double
    }

    static let now = "extract(epoch from clock_timestamp())"

    /// Takes the database for this worker, or says who holds it and for how long.
    public func takeWorkerLease(owner: String, ttl: Double) async throws(StateStoreError) {
        let path = path
        try await transaction { db in
            let taken = try await db.query(
                """
                INSERT INTO worker_lease (id, owner, expires_at) VALUES (1, \(owner), \(unescaped: Self.now) + \(ttl))
                ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE worker_lease.owner = excluded.owner OR worker_lease.expires_at < \(unescaped: Self.now)
                RETURNING owner
                """, logger: self.logger
            ).collect()
            guard taken.isEmpty else { return }
            var holder = "another worker"
            for try await (other, left) in try await db.query(
                "SELECT owner, expires_at - \(unescaped: Self.now) FROM worker_lease WHERE id = 1", logger: self.logger
            ).decode((String, Double).self) {
                holder = "\(other), whose lease runs \(Int(left.rounded(.up)))s more unless it renews it"
            }
            throw StateStoreError(kind: .heldByAnother, path: path, detail: holder)
        }
        lease.withLock { $0 = Lease(owner: owner, ttl: ttl) }
    }

    /// Renews this worker's lease; throws `heldByAnother` when another worker has taken it over.
    public func renewWorkerLease() async throws(StateStoreError) {
        guard let held = lease.withLock({ $0 }) else { return }
        try await transaction { db in try await self.renew(held, in: db) }
    }

    /// Inside a transaction: renew, or refuse the whole transaction.
    func renew(_ held: Lease, in db: PostgresConnection) async throws {
        let renewed = try await db.query(
            """
            UPDATE worker_lease SET expires_at = \(unescaped: Self.now) + \(held.ttl)
            WHERE id = 1 AND owner = \(held.owner) RETURNING 1
            """, logger: logger
        ).collect()
        guard !renewed.isEmpty else {
            throw StateStoreError(
                kind: .heldByAnother, path: path,
                detail: "it took the database over after this worker's lease ran out; this worker commits nothing more")
        }
    }

    /// Gives the database up (a graceful shutdown), so another worker can start at once.
    public func releaseWorkerLease() async {
        guard let held = lease.withLock({ $0 }) else { return }
        lease.withLock { $0 = nil }
        _ = try? await connection { db in
            try await db.query(
                "DELETE FROM worker_lease WHERE id = 1 AND owner = \(held.owner)", logger: self.logger)
        }
    }

    /// Who holds the database, and for how many seconds more unless renewed; nil when nobody does.
    public func leaseHolder() async throws(StateStoreError) -> (owner: String, secondsLeft: Double)? {
        try await connection { db in
            var holder: (owner: String, secondsLeft: Double)?
            for try await (owner, left) in try await db.query(
                "SELECT owner, expires_at - \(unescaped: Self.now) FROM worker_lease WHERE id = 1", logger: self.logger
            ).decode((String, Double).self) where left > 0 {
                holder = (owner, left)
            }
            return holder
        }
    }
}
