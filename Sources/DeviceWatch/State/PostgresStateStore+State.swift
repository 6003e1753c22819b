import DeviceWatchCore
import Foundation
import Logging
import PostgresNIO

/// The alert state in PostgreSQL: loaded whole or one workspace at a time, committed a cycle at a
/// time (under a workspace's lease when several workers share the database).
extension PostgresStateStore {

    public func load() async throws(StateStoreError) -> PersistedState {
        try await load(workspace: nil)
    }

    /// The state of one workspace (its alerts, groups, first sightings, health and clock), with
    /// every silence: what the worker that takes the workspace over starts from. Nil: everything.
    public func load(workspace: String?) async throws(StateStoreError) -> PersistedState {
        try await transaction { db in
            // Every query of one workspace or of all: `$1 IS NULL OR workspace = $1`.
            let only = workspace
            var alerts: [AlertInstance] = []
            for try await body in try await db.query(
                "SELECT body FROM alerts WHERE \(only)::text IS NULL OR workspace = \(only)", logger: self.logger
            ).decode(String.self) {
                alerts.append(try decode(AlertInstance.self, body))
            }
            var firstSeen: [String: [String: Date]] = [:]
            for try await (workspace, device, at) in try await db.query(
                """
                SELECT workspace, device_id, first_seen FROM first_seen WHERE \(only)::text IS NULL OR workspace = \(only)
                """, logger: self.logger
            ).decode((String, String, Double).self) {
                firstSeen[workspace, default: [:]][device] = Date(timeIntervalSince1970: at)
            }
            var health: [String: WorkspaceHealth] = [:]
            for try await (workspace, body) in try await db.query(
                "SELECT workspace, body FROM workspace_health WHERE \(only)::text IS NULL OR workspace = \(only)",
                logger: self.logger
            ).decode((String, String).self) {
                health[workspace] = try decode(WorkspaceHealth.self, body)
            }
            var groups: [NotificationGroup] = []
            for try await body in try await db.query(
                "SELECT body FROM notification_groups WHERE \(only)::text IS NULL OR workspace = \(only)",
                logger: self.logger
            ).decode(String.self) {
                groups.append(try decode(NotificationGroup.self, body))
            }
            var silences: [Silence] = []
            for try await body in try await db.query("SELECT body FROM silences ORDER BY id", logger: self.logger)
                .decode(String.self)
            {
                silences.append(try decode(Silence.self, body))
            }
            let offsets = try await Self.clockOffsets(db, logger: self.logger)
            let statuses = try await Self.latestStatuses(db, workspace: only, logger: self.logger)
            let history = try await Self.loadHistory(db, workspace: only, logger: self.logger)
            return PersistedState(
                book: AlertBook(
                    alerts: alerts, firstSeen: firstSeen, health: health, statuses: statuses, facts: history.facts,
                    coverage: history.coverage),
                routing: RoutingState(groups: groups), silences: silences,
                clockOffsets: only.map { only in offsets.filter { $0.workspace == only } } ?? offsets)
        }
    }

    public func commit(_ changes: StateChanges, at now: Date) async throws(StateStoreError) {
        try await commit(changes, at: now, fence: nil)
    }

    /// Commits a cycle planned under `fence`: the lease is renewed first, in the same
    /// transaction, and if another worker has taken the workspace over nothing is written
    /// (``StateStoreError/Kind/heldByAnother``). Its rows are encoded before the transaction
    /// opens, so the transaction lasts only as long as the database's own work.
    public func commit(_ changes: StateChanges, at now: Date, fence: WorkspaceFence?) async throws(StateStoreError) {
        guard !changes.isEmpty else { return }
        let statements: [PostgresQuery]
        do {
            statements = try Self.statements(changes, at: now)
        } catch {
            throw classify(error)
        }
        try await transaction { db in
            if let fence { try await self.fence(fence, ttl: fence.ttl, in: db) }
            for statement in statements { try await db.query(statement, logger: self.logger) }
        }
    }

    /// Writes `changes` within a transaction the caller holds (`state migrate`).
    func write(_ changes: StateChanges, at now: Date, to db: PostgresConnection) async throws {
        for statement in try Self.statements(changes, at: now) { try await db.query(statement, logger: logger) }
    }

    /// The statements that write a cycle's changes, in order, their rows bound as arrays
    /// (UNNEST): a 10,000-alert cycle is a few round trips, not 10,000. (Encoding the three
    /// parts in parallel tasks was measured slower on 2 cores: 400 ms against 341.)
    static func statements(_ changes: StateChanges, at now: Date) throws -> [PostgresQuery] {
        try stateStatements(changes) + historyStatements(changes, at: now) + outboxStatements(changes, at: now)
    }

    private static func stateStatements(_ changes: StateChanges) throws -> [PostgresQuery] {
        var statements: [PostgresQuery] = []
        if !changes.upsertAlerts.isEmpty {
            let alerts = Array(changes.upsertAlerts)
            statements.append(
                """
                INSERT INTO alerts (workspace, rule_id, device_id, fingerprint, state, body)
                SELECT * FROM UNNEST(\(alerts.map(\.key.workspace))::text[], \(alerts.map(\.key.ruleID))::text[],
                  \(alerts.map(\.key.deviceID))::text[], \(alerts.map(\.fingerprint))::text[],
                  \(alerts.map(\.state.rawValue))::text[],
                  \(alerts.map { String(decoding: $0.jsonData, as: UTF8.self) })::text[])
                ON CONFLICT (workspace, rule_id, device_id) DO UPDATE
                  SET fingerprint = excluded.fingerprint, state = excluded.state, body = excluded.body
                """)
        }
        if !changes.deleteAlerts.isEmpty {
            let keys = changes.deleteAlerts
            statements.append(
                """
                DELETE FROM alerts WHERE (workspace, rule_id, device_id) IN (
                  SELECT * FROM UNNEST(\(keys.map(\.workspace))::text[], \(keys.map(\.ruleID))::text[],
                    \(keys.map(\.deviceID))::text[]))
                """)
        }
        if !changes.upsertGroups.isEmpty {
            let groups = Array(changes.upsertGroups)
            statements.append(
                """
                INSERT INTO notification_groups (id, workspace, body)
                SELECT id, NULLIF(workspace, ''), body
                FROM UNNEST(\(groups.map(\.id))::text[], \(groups.map { $0.labels["workspace"] ?? "" })::text[],
                  \(try groups.map(encode))::text[]) AS t(id, workspace, body)
                ON CONFLICT (id) DO UPDATE SET workspace = excluded.workspace, body = excluded.body
                """)
        }
        if !changes.deleteGroups.isEmpty {
            statements.append(
                "DELETE FROM notification_groups WHERE id = ANY(\(changes.deleteGroups)::text[])")
        }
        if !changes.addFirstSeen.isEmpty {
            let seen = changes.addFirstSeen
            statements.append(
                """
                INSERT INTO first_seen (workspace, device_id, first_seen)
                SELECT * FROM UNNEST(\(seen.map(\.workspace))::text[], \(seen.map(\.deviceID))::text[],
                  \(seen.map { $0.at.timeIntervalSince1970 })::float8[])
                ON CONFLICT DO NOTHING
                """)
        }
        if !changes.statusChanges.isEmpty {
            let rows = changes.statusChanges
            statements.append(
                """
                INSERT INTO device_status_log (workspace, device_id, at, status)
                SELECT * FROM UNNEST(\(rows.map(\.workspace))::text[], \(rows.map(\.deviceID))::text[],
                  \(rows.map { $0.at.timeIntervalSince1970 })::float8[], \(rows.map(\.statusText))::text[])
                ON CONFLICT DO NOTHING
                """)
        }
        if !changes.deleteFirstSeen.isEmpty {
            let gone = changes.deleteFirstSeen
            statements.append(
                """
                DELETE FROM first_seen WHERE (workspace, device_id) IN (
                  SELECT * FROM UNNEST(\(gone.map(\.workspace))::text[], \(gone.map(\.deviceID))::text[]))
                """)
        }
        for entry in changes.upsertHealth {
            let body = try encode(entry.health)
            statements.append(
                """
                INSERT INTO workspace_health (workspace, body) VALUES (\(entry.workspace), \(body))
                ON CONFLICT (workspace) DO UPDATE SET body = excluded.body
                """)
        }
        for offset in changes.upsertClockOffsets {
            statements.append(
                """
                INSERT INTO clock_offsets (workspace, seconds, measured_at)
                VALUES (\(offset.workspace), \(offset.offset.timeInterval), \(offset.measuredAt.timeIntervalSince1970))
                ON CONFLICT (workspace) DO UPDATE SET seconds = excluded.seconds, measured_at = excluded.measured_at
                """)
        }
        return statements
    }

    private static func outboxStatements(_ changes: StateChanges, at now: Date) -> [PostgresQuery] {
        var statements: [PostgresQuery] = []
        if !changes.intents.isEmpty {
            let intents = changes.intents
            let at = now.timeIntervalSince1970
            // In the cycle's order (seq), and never twice: an intent id is stable across replays.
            statements.append(
                """
                INSERT INTO outbox (id, receiver, group_key, state, attempts, next_attempt_at, created_at, updated_at, payload)
                SELECT id, receiver, group_key, 'pending', 0, \(at), \(at), \(at), payload
                FROM UNNEST(\(intents.map(\.id))::text[], \(intents.map(\.receiver))::text[],
                  \(intents.map(\.groupKey))::text[],
                  \(intents.map { String(decoding: $0.jsonData, as: UTF8.self) })::text[])
                  WITH ORDINALITY AS t(id, receiver, group_key, payload, position)
                ORDER BY position
                ON CONFLICT (id) DO NOTHING
                """)
        }
        return statements
    }

    /// Every alert and every workspace's poll health: what any worker's status page shows.
    /// Within two seconds: `/readyz` must answer at once that the database is away.
    public func alertsAndHealth() async throws(StateStoreError) -> (
        alerts: [AlertInstance], health: [String: WorkspaceHealth]
    ) {
        try await transaction(timeout: .seconds(2)) { db in
            var alerts: [AlertInstance] = []
            for try await body in try await db.query("SELECT body FROM alerts", logger: self.logger).decode(String.self)
            {
                alerts.append(try decode(AlertInstance.self, body))
            }
            var health: [String: WorkspaceHealth] = [:]
            for try await (workspace, body) in try await db.query(
                "SELECT workspace, body FROM workspace_health", logger: self.logger
            ).decode((String, String).self) {
                health[workspace] = try decode(WorkspaceHealth.self, body)
            }
            return (alerts, health)
        }
    }

    static func clockOffsets(_ db: PostgresConnection, logger: Logger) async throws -> [ClockOffset] {
        var offsets: [ClockOffset] = []
        for try await (workspace, seconds, measuredAt) in try await db.query(
            "SELECT workspace, seconds, measured_at FROM clock_offsets ORDER BY workspace", logger: logger
        ).decode((String, Double, Double).self) {
            offsets.append(
                ClockOffset(
                    workspace: workspace, offset: .seconds(seconds), measuredAt: Date(timeIntervalSince1970: measuredAt)
                )
            )
        }
        return offsets
    }

    public func clockOffsets() async throws(StateStoreError) -> [ClockOffset] {
        try await connection { db in try await Self.clockOffsets(db, logger: self.logger) }
    }
}
