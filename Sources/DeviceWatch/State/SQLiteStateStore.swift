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
    public func integrityCheck(limit: Int = 20) async throws(StateStoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(\(limit))") }
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

    /// Runs `body` in a write transaction on GRDB's writer queue, suspending the caller meanwhile.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws(StateStoreError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    /// Runs `body` on a reader connection (a snapshot of the last commit), suspending the caller meanwhile.
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws(StateStoreError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.classify(error, path: path)
        }
    }

    /// The rows of one read-only query, each made into a value by `make`.
    func rows<T: Sendable>(
        _ sql: String, _ arguments: StatementArguments = [], as make: @escaping @Sendable (Row) throws -> T
    ) async throws(StateStoreError) -> [T] {
        try await read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(make) }
    }

    // MARK: State

    public func load() async throws(StateStoreError) -> PersistedState {
        try await read { db in
            var firstSeen: [String: [String: Date]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT workspace, device_id, first_seen FROM first_seen") {
                firstSeen[row["workspace"], default: [:]][row["device_id"]] = Date(
                    timeIntervalSince1970: row["first_seen"])
            }
            var health: [String: WorkspaceHealth] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT workspace, body FROM workspace_health") {
                health[row["workspace"]] = try decode(WorkspaceHealth.self, row["body"])
            }
            let history = try Self.loadHistory(db)
            let book = AlertBook(
                alerts: try Row.fetchAll(db, sql: "SELECT body FROM alerts").map {
                    try decode(AlertInstance.self, $0["body"])
                }, firstSeen: firstSeen, health: health, statuses: try Self.latestStatuses(db), facts: history.facts,
                coverage: history.coverage)
            let routing = RoutingState(
                groups: try Row.fetchAll(db, sql: "SELECT body FROM notification_groups").map {
                    try decode(NotificationGroup.self, $0["body"])
                })
            let silences = try Row.fetchAll(db, sql: "SELECT body FROM silences ORDER BY id").map {
                try decode(Silence.self, $0["body"])
            }
            return PersistedState(
                book: book, routing: routing, silences: silences, clockOffsets: try Self.clockOffsets(db))
        }
    }

    public func commit(_ changes: StateChanges, at now: Date) async throws(StateStoreError) {
        // Most cycles (a tick every second, a poll with no news) write nothing and take no lock.
        guard !changes.isEmpty else { return }
        try await write { db in try Self.write(changes, at: now, to: db) }
    }

    /// Statements are compiled once per connection and reused (GRDB's cache): a large cycle writes
    /// tens of thousands of rows.
    static func write(_ changes: StateChanges, at now: Date, to db: Database) throws {
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
            .execute(arguments: [offset.workspace, offset.offset.timeInterval, offset.measuredAt.timeIntervalSince1970])
        }
        for change in changes.statusChanges {
            try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO device_status_log (workspace, device_id, at, status) VALUES (?, ?, ?, ?)"
            )
            .execute(arguments: [change.workspace, change.deviceID, change.at.timeIntervalSince1970, change.statusText])
        }
        try writeHistory(changes, at: now, to: db)
        for intent in changes.intents { try enqueue(intent, at: now, to: db) }
    }

    private static func clockOffsets(_ db: Database) throws -> [ClockOffset] {
        try Row.fetchAll(db, sql: "SELECT workspace, seconds, measured_at FROM clock_offsets ORDER BY workspace").map {
            row in
            ClockOffset(
                workspace: row["workspace"], offset: .seconds(row["seconds"] as Double),
                measuredAt: Date(timeIntervalSince1970: row["measured_at"]))
        }
    }

    public func clockOffsets() async throws(StateStoreError) -> [ClockOffset] {
        try await read { db in try Self.clockOffsets(db) }
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
}

let stateJSONEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
}()

func encode(_ value: some Encodable) throws -> String {
    String(decoding: try stateJSONEncoder.encode(value), as: UTF8.self)
}

func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(text.utf8))
}
