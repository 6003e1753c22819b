import DeviceWatchCore
import Foundation
import GRDB

/// The notification outbox in SQLite: due rows per receiver in row order, outcomes, pruning.
extension SQLiteStateStore {

    /// The oldest pending notification of each (receiver, group), where it is due at `now`, over
    /// every receiver; oldest first. (The dispatcher reads per receiver; this is for inspection.)
    public func dueNotifications(at now: Date, limit: Int) async throws(StateStoreError) -> [OutboxEntry] {
        try await read { db in
            // The oldest pending notification of each group, when it is due: a group waiting for a
            // retry never holds up another, and a group's resolve never overtakes its firing.
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox AS o WHERE o.state = 'pending' AND o.next_attempt_at <= ?
                      AND NOT EXISTS (SELECT 1 FROM outbox AS p WHERE p.state = 'pending' AND p.receiver = o.receiver
                                      AND p.group_key = o.group_key AND p.rowid < o.rowid)
                    ORDER BY o.rowid LIMIT ?
                    """,
                arguments: [now.timeIntervalSince1970, limit]
            ).map(entry)
        }
    }

    public func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        async throws(StateStoreError)
        -> [OutboxEntry]
    {
        try await read { db in
            let excluded = excludingGroups.sorted()
            let placeholders =
                excluded.isEmpty
                ? ""
                : " AND o.group_key NOT IN (" + Array(repeating: "?", count: excluded.count).joined(separator: ", ")
                    + ")"
            var arguments: [any DatabaseValueConvertible] = [receiver, now.timeIntervalSince1970]
            arguments += excluded
            arguments.append(limit)
            // Compiled once per connection and number of groups left out.
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM outbox AS o INDEXED BY outbox_receiver_state
                        WHERE o.receiver = ? AND o.state = 'pending' AND o.next_attempt_at <= ?\(placeholders)
                          AND NOT EXISTS (SELECT 1 FROM outbox AS p WHERE p.state = 'pending' AND p.receiver = o.receiver
                                          AND p.group_key = o.group_key AND p.rowid < o.rowid)
                        ORDER BY o.rowid LIMIT ?
                        """),
                arguments: StatementArguments(arguments)
            ).map(entry)
        }
    }

    public func pendingReceivers() async throws(StateStoreError) -> Set<String> {
        try await read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT receiver FROM outbox WHERE state = 'pending'"))
        }
    }

    public func notifications(state: OutboxEntry.State?, limit: Int) async throws(StateStoreError) -> [OutboxEntry] {
        try await read { db in
            if let state {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM outbox WHERE state = ? ORDER BY created_at DESC, id LIMIT ?",
                    arguments: [state.rawValue, limit]
                ).map(entry)
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM outbox ORDER BY created_at DESC, id LIMIT ?", arguments: [limit]
            ).map(entry)
        }
    }

    public func outboxCounts() async throws(StateStoreError) -> [OutboxEntry.State: Int] {
        try await read { db in
            // Index ranges: cheap on every scrape, however many sent notifications are kept.
            var counts: [OutboxEntry.State: Int] = [:]
            for state in [OutboxEntry.State.pending, .dead] {
                counts[state] =
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM outbox WHERE state = ?", arguments: [state.rawValue]) ?? 0
            }
            return counts
        }
    }

    public func prune(sentBefore: Date, deadBefore: Date) async throws(StateStoreError) -> Int {
        try await write { db in
            try db.execute(
                sql:
                    "DELETE FROM outbox WHERE (state = 'sent' AND updated_at < ?) OR (state = 'dead' AND updated_at < ?)",
                arguments: [sentBefore.timeIntervalSince1970, deadBefore.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func record(_ outcomes: [DeliveryRecord], at now: Date) async throws(StateStoreError) {
        guard !outcomes.isEmpty else { return }
        try await write { db in
            // Compiled once per connection (a storm records thousands).
            let sent = try db.cachedStatement(
                sql:
                    "UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at = ?, last_error = NULL WHERE id = ?"
            )
            let retry = try db.cachedStatement(
                sql:
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?"
            )
            let dead = try db.cachedStatement(
                sql:
                    "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?"
            )
            for outcome in outcomes {
                switch outcome.kind {
                case .sent:
                    try sent.execute(arguments: [now.timeIntervalSince1970, outcome.id])
                case .retry(let at, let error):
                    try retry.execute(arguments: [
                        at.timeIntervalSince1970, error, now.timeIntervalSince1970, outcome.id,
                    ])
                case .dead(let error):
                    try dead.execute(arguments: [error, now.timeIntervalSince1970, outcome.id])
                }
            }
        }
    }

    func entry(_ row: Row) throws -> OutboxEntry {
        try OutboxEntry(
            payload: row["payload"], state: row["state"], attempts: row["attempts"],
            nextAttemptAt: row["next_attempt_at"], lastError: row["last_error"], createdAt: row["created_at"],
            updatedAt: row["updated_at"])
    }
}
