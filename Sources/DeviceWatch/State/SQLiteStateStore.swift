import DeviceWatchCore
import Foundation
import GRDB

/// The state store in one SQLite file (WAL), migrated by version on open.
public final class SQLiteStateStore: StateStore {
    public let path: String
    private let pool: DatabasePool

    /// Opens and migrates the database, or creates it where no file is.
    ///
    /// A file that is there is never taken for a new database: an empty file, a file that is not
    /// an SQLite database, an SQLite database that is not devicewatch's, and one that fails
    /// SQLite's `quick_check` are all refused (``StateStoreError/Kind/corrupt``), and nothing is
    /// written to them. A new database is made under a temporary name, migrated, and then moved
    /// into place, so a crash while creating it leaves no half-made file behind to be refused later.
    /// - Throws: ``StateStoreError`` if the file is not a usable devicewatch database; never replaces it.
    public init(path: String) throws(StateStoreError) {
        self.path = path
        let configuration = Self.configuration()
        do {
            if FileManager.default.fileExists(atPath: path) {
                try Self.checkExisting(path)
            } else {
                try Self.create(path, configuration: configuration)
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            // Migrations this version does not know: a newer devicewatch wrote the file.
            if try pool.read({ try Self.migrator.hasBeenSuperseded($0) }) {
                let applied = try pool.read { try Self.migrator.appliedIdentifiers($0) }
                let known = Set(Self.migrator.migrations)
                throw StateStoreError(
                    kind: .tooNew, path: path,
                    detail: "it has schema versions this one does not know: "
                        + applied.subtracting(known).sorted().joined(separator: ", "))
            }
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    /// SQLite's `integrity_check` (every page and index, slower than the `quick_check` at open):
    /// "ok" or the problems found, at most `limit`.
    public func integrityCheck(limit: Int = 20) throws(StateStoreError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(\(limit))") }
    }

    static func classify(_ error: any Error, path: String) -> StateStoreError {
        if let error = error as? StateStoreError { return error }
        if let database = error as? DatabaseError {
            switch database.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return StateStoreError(kind: .corrupt, path: path, detail: database.message ?? "\(database.resultCode)")
            case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_FULL, .SQLITE_IOERR:
                return StateStoreError(
                    kind: .unavailable, path: path, detail: database.message ?? "\(database.resultCode)")
            default:
                if database.message?.contains("unknown migration") == true
                    || database.message?.contains("newer") == true
                {
                    return StateStoreError(kind: .tooNew, path: path, detail: database.message ?? "")
                }
                return StateStoreError(kind: .other, path: path, detail: database.message ?? "\(database.resultCode)")
            }
        }
        return StateStoreError(kind: .other, path: path, detail: "\(error)")
    }

    private func write<T>(_ body: (Database) throws -> T) throws(StateStoreError) -> T {
        do {
            return try pool.write(body)
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(StateStoreError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    // MARK: State

    public func load() throws(StateStoreError) -> PersistedState {
        try read { db in
            var book = AlertBook(
                alerts: try Row.fetchAll(db, sql: "SELECT body FROM alerts").map {
                    try decode(AlertInstance.self, $0["body"])
                })
            for row in try Row.fetchAll(db, sql: "SELECT workspace, device_id, first_seen FROM first_seen") {
                book.firstSeen[row["workspace"], default: [:]][row["device_id"]] = Date(
                    timeIntervalSince1970: row["first_seen"])
            }
            for row in try Row.fetchAll(db, sql: "SELECT workspace, body FROM workspace_health") {
                book.health[row["workspace"]] = try decode(WorkspaceHealth.self, row["body"])
            }
            var routing = RoutingState()
            for row in try Row.fetchAll(db, sql: "SELECT body FROM notification_groups") {
                let group = try decode(NotificationGroup.self, row["body"])
                routing.groups[group.id] = group
            }
            let silences = try Row.fetchAll(db, sql: "SELECT body FROM silences ORDER BY id").map {
                try decode(Silence.self, $0["body"])
            }
            return PersistedState(
                book: book, routing: routing, silences: silences, clockOffsets: try Self.clockOffsets(db))
        }
    }

    public func commitCycle(
        at now: Date, _ cycle: (_ enqueue: (NotificationIntent) throws -> Void) throws -> StateChanges
    )
        throws(StateStoreError)
    {
        // The transaction begins with the first write: most cycles (a tick every second, a poll
        // with no news) write nothing and take no lock.
        do {
            try pool.writeWithoutTransaction { db in
                var began = false
                func begin() throws {
                    guard !began else { return }
                    try db.beginTransaction(.immediate)
                    began = true
                }
                do {
                    let changes = try cycle { intent in
                        try begin()
                        try Self.enqueue(intent, at: now, to: db)
                    }
                    if !changes.isEmpty {
                        try begin()
                        try Self.write(changes, at: now, to: db)
                    }
                    if began { try db.commit() }
                } catch {
                    if began { try? db.rollback() }
                    throw error
                }
            }
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    /// Statements are compiled once per connection and reused (GRDB's cache): a large cycle writes
    /// tens of thousands of rows.
    private static func write(_ changes: StateChanges, at now: Date, to db: Database) throws {
        if !changes.upsertAlerts.isEmpty {
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO alerts (workspace, rule_id, device_id, fingerprint, state, body) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (workspace, rule_id, device_id) DO UPDATE SET fingerprint = excluded.fingerprint,
                      state = excluded.state, body = excluded.body
                    """)
            for alert in changes.upsertAlerts {
                try upsert.execute(arguments: [
                    alert.key.workspace, alert.key.ruleID, alert.key.deviceID, alert.fingerprint, alert.state.rawValue,
                    String(decoding: alert.jsonData, as: UTF8.self),
                ])
            }
        }
        for key in changes.deleteAlerts {
            try db.cachedStatement(sql: "DELETE FROM alerts WHERE workspace = ? AND rule_id = ? AND device_id = ?")
                .execute(arguments: [key.workspace, key.ruleID, key.deviceID])
        }
        for group in changes.upsertGroups {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO notification_groups (id, body) VALUES (?, ?)")
                .execute(arguments: [group.id, try encode(group)])
        }
        for id in changes.deleteGroups {
            try db.cachedStatement(sql: "DELETE FROM notification_groups WHERE id = ?").execute(arguments: [id])
        }
        for entry in changes.addFirstSeen {
            try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO first_seen (workspace, device_id, first_seen) VALUES (?, ?, ?)"
            )
            .execute(arguments: [entry.workspace, entry.deviceID, entry.at.timeIntervalSince1970])
        }
        for entry in changes.deleteFirstSeen {
            try db.cachedStatement(sql: "DELETE FROM first_seen WHERE workspace = ? AND device_id = ?")
                .execute(arguments: [entry.workspace, entry.deviceID])
        }
        for entry in changes.upsertHealth {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO workspace_health (workspace, body) VALUES (?, ?)")
                .execute(arguments: [entry.workspace, try encode(entry.health)])
        }
        for offset in changes.upsertClockOffsets {
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO clock_offsets (workspace, seconds, measured_at) VALUES (?, ?, ?)"
            )
            .execute(arguments: [offset.workspace, offset.seconds, offset.measuredAt.timeIntervalSince1970])
        }
        for intent in changes.intents { try enqueue(intent, at: now, to: db) }
    }

    private static func clockOffsets(_ db: Database) throws -> [ClockOffset] {
        try Row.fetchAll(db, sql: "SELECT workspace, seconds, measured_at FROM clock_offsets ORDER BY workspace").map {
            row in
            ClockOffset(
                workspace: row["workspace"], seconds: row["seconds"],
                measuredAt: Date(timeIntervalSince1970: row["measured_at"]))
        }
    }

    public func clockOffsets() throws(StateStoreError) -> [ClockOffset] {
        try read { db in try Self.clockOffsets(db) }
    }

    private static func enqueue(_ intent: NotificationIntent, at now: Date, to db: Database) throws {
        // OR IGNORE: an intent id is stable, so a replayed cycle never enqueues it twice.
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO outbox (id, receiver, group_key, state, attempts, next_attempt_at, created_at, updated_at, payload)
                VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            intent.id, intent.receiver, intent.groupKey, now.timeIntervalSince1970, now.timeIntervalSince1970,
            now.timeIntervalSince1970,
            String(decoding: intent.jsonData, as: UTF8.self),
        ])
    }

    // MARK: Outbox

    /// The oldest pending notification of each (receiver, group), where it is due at `now`, over
    /// every receiver; oldest first. (The dispatcher reads per receiver; this is for inspection.)
    public func dueNotifications(at now: Date, limit: Int) throws(StateStoreError) -> [OutboxEntry] {
        try read { db in
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
        throws(StateStoreError)
        -> [OutboxEntry]
    {
        try read { db in
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

    public func pendingReceivers() throws(StateStoreError) -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT receiver FROM outbox WHERE state = 'pending'"))
        }
    }

    public func notifications(state: OutboxEntry.State?, limit: Int) throws(StateStoreError) -> [OutboxEntry] {
        try read { db in
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

    public func outboxCounts() throws(StateStoreError) -> [OutboxEntry.State: Int] {
        try read { db in
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

    public func prune(sentBefore: Date, deadBefore: Date) throws(StateStoreError) -> Int {
        try write { db in
            try db.execute(
                sql:
                    "DELETE FROM outbox WHERE (state = 'sent' AND updated_at < ?) OR (state = 'dead' AND updated_at < ?)",
                arguments: [sentBefore.timeIntervalSince1970, deadBefore.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func record(_ outcomes: [DeliveryRecord], at now: Date) throws(StateStoreError) {
        guard !outcomes.isEmpty else { return }
        try write { db in
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

    private func entry(_ row: Row) throws -> OutboxEntry {
        let payload: String = row["payload"]
        // The core's pull reader first (what JSONWriter wrote); JSONDecoder for anything else.
        let intent =
            try (try? NotificationIntent(outboxJSON: Array(payload.utf8))) ?? decode(NotificationIntent.self, payload)
        return OutboxEntry(
            intent: intent, state: OutboxEntry.State(rawValue: row["state"]) ?? .pending,
            attempts: row["attempts"], nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]),
            lastError: row["last_error"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    // MARK: Silences

    public func addSilence(_ silence: Silence) throws(StateStoreError) {
        try write { db in
            try db.execute(
                sql: "INSERT INTO silences (id, ends_at, body) VALUES (?, ?, ?)",
                arguments: [silence.id, silence.endsAt.timeIntervalSince1970, try encode(silence)])
        }
    }

    public func silences(includeExpired: Bool, at now: Date) throws(StateStoreError) -> [Silence] {
        try read { db in
            let rows =
                includeExpired
                ? try Row.fetchAll(db, sql: "SELECT body FROM silences")
                : try Row.fetchAll(
                    db, sql: "SELECT body FROM silences WHERE ends_at > ?", arguments: [now.timeIntervalSince1970])
            return try rows.map { try decode(Silence.self, $0["body"]) }.sorted {
                ($0.startsAt, $0.id) < ($1.startsAt, $1.id)
            }
        }
    }

    public func expireSilence(_ id: String, at now: Date) throws(StateStoreError) -> Bool {
        try write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT body FROM silences WHERE id = ? AND ends_at > ?",
                    arguments: [id, now.timeIntervalSince1970])
            else { return false }
            var silence = try decode(Silence.self, row["body"])
            silence.endsAt = max(now, silence.startsAt)
            try db.execute(
                sql: "UPDATE silences SET ends_at = ?, body = ? WHERE id = ?",
                arguments: [silence.endsAt.timeIntervalSince1970, try encode(silence), id])
            return true
        }
    }
}

private let jsonEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
}()

private func encode(_ value: some Encodable) throws -> String {
    String(decoding: try jsonEncoder.encode(value), as: UTF8.self)
}

private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(text.utf8))
}
