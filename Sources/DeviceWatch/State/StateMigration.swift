import DeviceWatchCore
import Foundation
import GRDB
import PostgresNIO

/// `devicewatch state migrate`: one SQLite state copied whole into an empty PostgreSQL database,
/// so growing from one worker on a file to a database re-pages nothing: alerts, groups (what
/// each receiver was told), first sightings, health, clock offsets, the device status log,
/// silences, device facts, coverage, the alert history, and the outbox
/// with every row's state, attempts and times, in planning order.
public enum StateMigration {
    public struct Copied: Sendable, CustomStringConvertible {
        public var alerts = 0
        public var groups = 0
        public var silences = 0
        public var notifications = 0
        public var statusChanges = 0

        public var description: String {
            "\(alerts) alerts, \(groups) notification groups, \(silences) silences, \(notifications) notifications, "
                + "\(statusChanges) device status changes"
        }
    }

    /// Copies `source` into `target`, in one transaction; refuses a target that holds anything.
    public static func copy(from source: SQLiteStateStore, to target: PostgresStateStore)
        async throws(StateStoreError) -> Copied
    {
        let state = try await source.load()
        let outbox = try await source.outboxInRowOrder()
        var changes = StateChanges()
        changes.upsertAlerts = Selection(state.book.alerts.keys.sorted(), from: state.book.alerts)
        changes.upsertGroups = Selection(state.routing.groups.keys.sorted(), from: state.routing.groups)
        for (workspace, devices) in state.book.firstSeen {
            for (device, at) in devices { changes.addFirstSeen.append((workspace, device, at)) }
        }
        changes.upsertHealth = state.book.health.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        changes.upsertClockOffsets = state.clockOffsets
        changes.statusChanges = try await source.statusLog(StatusLogQuery()).changes
        changes.upsertFacts = try await source.knownDevices(StatusLogQuery())
        changes.upsertCoverage = try await source.coverage(StatusLogQuery())
        changes.upsertEpisodes = try await source.alertHistory(AlertHistoryQuery(limit: Int.max))
        let silences = state.silences
        let acknowledgements = try await source.acknowledgements(includeExpired: false, at: Date())
        let copied = changes
        let logger = target.logger
        let path = target.path
        try await target.transaction { db in
            for table in ["alerts", "notification_groups", "silences", "acknowledgements", "outbox"] {
                let rows = try await db.query(
                    PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), logger: logger
                ).collect()
                guard rows.isEmpty else {
                    throw StateStoreError(
                        kind: .other, path: path,
                        detail: "it already holds devicewatch state (table \(table) is not empty); migrate only into "
                            + "a database no worker has used, or it would mix two histories")
                }
            }
            try await target.write(copied, at: Date(), to: db)
            for silence in silences {
                try await db.query(
                    """
                    INSERT INTO silences (id, ends_at, body)
                    VALUES (\(silence.id), \(silence.endsAt.timeIntervalSince1970), \(try encode(silence)))
                    """, logger: logger)
            }
            for acknowledgement in acknowledgements {
                try await db.query(
                    """
                    INSERT INTO acknowledgements (id, ends_at, body)
                    VALUES (\(acknowledgement.id), \(acknowledgement.endsAt.timeIntervalSince1970), \(try encode(acknowledgement)))
                    """, logger: logger)
            }
            if !outbox.isEmpty {
                try await db.query(
                    """
                    INSERT INTO outbox (id, receiver, group_key, state, attempts, next_attempt_at, created_at,
                      updated_at, last_error, payload)
                    SELECT id, receiver, group_key, state, attempts, next_attempt_at, created_at, updated_at,
                      NULLIF(last_error, ''), payload
                    FROM UNNEST(\(outbox.map(\.id))::text[], \(outbox.map(\.receiver))::text[],
                      \(outbox.map(\.groupKey))::text[], \(outbox.map(\.state))::text[], \(outbox.map(\.attempts))::int8[],
                      \(outbox.map(\.nextAttemptAt))::float8[], \(outbox.map(\.createdAt))::float8[],
                      \(outbox.map(\.updatedAt))::float8[], \(outbox.map { $0.lastError ?? "" })::text[],
                      \(outbox.map(\.payload))::text[])
                      WITH ORDINALITY AS t(id, receiver, group_key, state, attempts, next_attempt_at, created_at,
                        updated_at, last_error, payload, position)
                    ORDER BY position
                    """, logger: logger)
            }
        }
        return Copied(
            alerts: state.book.alerts.count, groups: state.routing.groups.count, silences: silences.count,
            notifications: outbox.count, statusChanges: copied.statusChanges.count)
    }
}

extension SQLiteStateStore {
    /// An outbox row as stored, for copying it elsewhere unchanged.
    struct RawOutboxRow: Sendable {
        var id, receiver, groupKey, state: String
        var attempts: Int
        var nextAttemptAt, createdAt, updatedAt: Double
        var lastError: String?
        var payload: String
    }

    /// Every outbox row in the order it was written (the delivery order within a group).
    func outboxInRowOrder() async throws(StateStoreError) -> [RawOutboxRow] {
        try await rows("SELECT * FROM outbox ORDER BY rowid") { row in
            RawOutboxRow(
                id: row["id"], receiver: row["receiver"], groupKey: row["group_key"], state: row["state"],
                attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], createdAt: row["created_at"],
                updatedAt: row["updated_at"], lastError: row["last_error"], payload: row["payload"])
        }
    }
}
