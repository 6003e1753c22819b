import DeviceWatchCore
import Foundation
import PostgresNIO

/// The PostgreSQL schema, by version. Each version is applied once, in one transaction, under a
/// transaction-level advisory lock: workers starting together migrate once.
extension PostgresStateStore {
    static let migrations: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE alerts (
                  workspace TEXT NOT NULL, rule_id TEXT NOT NULL, device_id TEXT NOT NULL,
                  fingerprint TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,
                  PRIMARY KEY (workspace, rule_id, device_id))
                """,
                """
                CREATE TABLE first_seen (
                  workspace TEXT NOT NULL, device_id TEXT NOT NULL, first_seen DOUBLE PRECISION NOT NULL,
                  PRIMARY KEY (workspace, device_id))
                """,
                "CREATE TABLE workspace_health (workspace TEXT PRIMARY KEY, body TEXT NOT NULL)",
                "CREATE TABLE notification_groups (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
                "CREATE TABLE silences (id TEXT PRIMARY KEY, ends_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL)",
                """
                CREATE TABLE clock_offsets (
                  workspace TEXT PRIMARY KEY, seconds DOUBLE PRECISION NOT NULL, measured_at DOUBLE PRECISION NOT NULL)
                """,
                // seq: the order notifications were planned in (SQLite's rowid).
                """
                CREATE TABLE outbox (
                  seq BIGSERIAL NOT NULL UNIQUE, id TEXT PRIMARY KEY, receiver TEXT NOT NULL, group_key TEXT NOT NULL,
                  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at DOUBLE PRECISION NOT NULL,
                  created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, last_error TEXT,
                  payload TEXT NOT NULL)
                """,
                "CREATE INDEX outbox_receiver_state ON outbox (receiver, state, seq)",
                "CREATE INDEX outbox_group_order ON outbox (receiver, group_key, state, seq)",
                "CREATE INDEX outbox_created ON outbox (created_at)",
                "CREATE INDEX outbox_state ON outbox (state)",
            ]
        ),
        (
            2,
            [
                "CREATE TABLE worker_lease (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)"
            ]
        ),
        // Several active workers: a lease per workspace instead of one for the database, a row
        // per live worker, claimed outbox rows, shared rate limits, and groups by workspace (the
        // worker that takes a workspace over loads its groups).
        (
            3,
            [
                "DROP TABLE worker_lease",
                """
                CREATE TABLE workspace_leases (
                  workspace TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL,
                  expires_at DOUBLE PRECISION NOT NULL)
                """,
                """
                CREATE TABLE workers (
                  id TEXT PRIMARY KEY, started_at DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL)
                """,
                """
                CREATE TABLE receiver_pacing (
                  receiver TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
                  paused_until DOUBLE PRECISION NOT NULL DEFAULT 0, granted DOUBLE PRECISION NOT NULL DEFAULT 0)
                """,
                "ALTER TABLE outbox ADD COLUMN claimed_by TEXT, ADD COLUMN claim_until DOUBLE PRECISION",
                // When any worker last sent the dead-man's-switch heartbeat.
                "CREATE TABLE heartbeat_turn (id INTEGER PRIMARY KEY, sent_at DOUBLE PRECISION NOT NULL)",
                "ALTER TABLE notification_groups ADD COLUMN workspace TEXT",
                "UPDATE notification_groups SET workspace = (body::jsonb) -> 'labels' ->> 'workspace'",
                "CREATE INDEX notification_groups_workspace ON notification_groups (workspace)",
                // What a claim reads: pending rows only, so delivered ones (millions, over a week)
                // cost a claim nothing.
                "CREATE INDEX outbox_pending_order ON outbox (receiver, seq) WHERE state = 'pending'",
                "CREATE INDEX outbox_pending_group ON outbox (receiver, group_key, seq) WHERE state = 'pending'",
                // Replaced by the two above: every index is written again when a row is sent.
                "DROP INDEX outbox_receiver_state",
                "DROP INDEX outbox_group_order",
                // Room on each page for a row's next version: a claim (no indexed column changes)
                // is then a heap-only update that touches no index.
                "ALTER TABLE outbox SET (fillfactor = 70)",
            ]
        ),
        // The device status log: a row per change of a device's status, on the API's clock.
        (
            4,
            [
                """
                CREATE TABLE device_status_log (
                  workspace TEXT NOT NULL, device_id TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                  status TEXT NOT NULL, PRIMARY KEY (workspace, device_id, at))
                """,
                "CREATE INDEX device_status_log_at ON device_status_log (workspace, at)",
            ]
        ),
        // What history reports and the status page read besides the status log: device facts
        // as last seen, when devicewatch saw each workspace, and each time an alert fired.
        (
            5,
            [
                """
                CREATE TABLE device_facts (
                  workspace TEXT NOT NULL, device_id TEXT NOT NULL, name TEXT, type TEXT, platform TEXT,
                  tags TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (workspace, device_id))
                """,
                """
                CREATE TABLE coverage (
                  workspace TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION NOT NULL,
                  PRIMARY KEY (workspace, started_at))
                """,
                """
                CREATE TABLE alert_history (
                  workspace TEXT NOT NULL, rule_id TEXT NOT NULL, device_id TEXT NOT NULL,
                  fired_at DOUBLE PRECISION NOT NULL, resolved_at DOUBLE PRECISION, resolve_reason TEXT,
                  severity TEXT NOT NULL, subject TEXT, message TEXT, flapped INTEGER NOT NULL DEFAULT 0,
                  PRIMARY KEY (workspace, rule_id, device_id, fired_at))
                """,
                "CREATE INDEX alert_history_fired ON alert_history (fired_at)",
            ]
        ),
        // Acknowledgements: who is on an alert or a group, until when.
        (
            6,
            [
                """
                CREATE TABLE acknowledgements (
                  id TEXT PRIMARY KEY, ends_at DOUBLE PRECISION NOT NULL, body TEXT NOT NULL)
                """
            ]
        ),
    ]

    /// An arbitrary constant: the key of the migration lock.
    static let migrationLock: Int64 = 0x6465_7669_6365_7761

    func migrate() async throws(StateStoreError) {
        let path = path
        try await transaction { db in
            try await db.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await db.query(
                """
                CREATE TABLE IF NOT EXISTS devicewatch_schema (
                  version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: self.logger)
            var applied: Set<Int> = []
            for try await version in try await db.query("SELECT version FROM devicewatch_schema", logger: self.logger)
                .decode(Int.self)
            {
                applied.insert(version)
            }
            let known = Set(Self.migrations.map(\.version))
            let unknown = applied.subtracting(known)
            guard unknown.isEmpty else {
                throw StateStoreError(
                    kind: .tooNew, path: path,
                    detail: "it has schema versions this one does not know: "
                        + unknown.sorted().map(String.init).joined(separator: ", "))
            }
            for migration in Self.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await db.query(
                    "INSERT INTO devicewatch_schema (version) VALUES (\(migration.version))", logger: self.logger)
            }
        }
    }

    /// The schema as this version would leave it, without writing: refused when it is missing,
    /// older (the worker migrates it at its next start) or newer.
    func checkSchema() async throws(StateStoreError) {
        let path = path
        try await connection { db in
            var applied: Set<Int> = []
            let exists = try await db.query(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'devicewatch_schema'", logger: self.logger
            ).collect()
            if !exists.isEmpty {
                for try await version in try await db.query(
                    "SELECT version FROM devicewatch_schema", logger: self.logger
                ).decode(Int.self) {
                    applied.insert(version)
                }
            }
            let known = Set(Self.migrations.map(\.version))
            if applied.isEmpty {
                throw StateStoreError(
                    kind: .unavailable, path: path,
                    detail: "it has no devicewatch schema yet (the worker creates it at its first start)")
            }
            if !applied.subtracting(known).isEmpty {
                throw StateStoreError(
                    kind: .tooNew, path: path,
                    detail: "it has schema versions this one does not know: "
                        + applied.subtracting(known).sorted().map(String.init).joined(separator: ", "))
            }
            if !known.subtracting(applied).isEmpty {
                throw StateStoreError(
                    kind: .other, path: path,
                    detail: "its schema is older than this devicewatch's (the worker migrates it at its next start)")
            }
        }
    }
}
