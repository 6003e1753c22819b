import DeviceWatchCore
import Foundation
import GRDB

/// Opening the SQLite store: the connection settings, the schema by version, and the checks that
/// keep a damaged or foreign file from being taken for a new database.
extension SQLiteStateStore {
    static func configuration() -> GRDB.Configuration {
        var configuration = GRDB.Configuration()
        // Silence commands and the worker share the file: wait for each other instead of failing.
        configuration.busyMode = .timeout(10)
        // WAL with synchronous=NORMAL: every commit survives a crash of the process (kill -9);
        // only a power loss can take the last few, and fsync per delivery record would cap throughput.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 1 MB of page cache per connection rather than SQLite's 2 MB: the working set is the
            // outbox's due index and a cycle's rows, and the OS caches the file anyway.
            try db.execute(sql: "PRAGMA cache_size = -1024")
        }
        // The dispatcher, the engine's silence reads and the ops server: three readers suffice.
        configuration.maximumReaderCount = 3
        return configuration
    }

    /// Refuses an existing file that is not a sound devicewatch database, before anything writes to it.
    static func checkExisting(_ path: String) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else {
            throw StateStoreError(
                kind: .corrupt, path: path,
                detail:
                    "the file is empty; a devicewatch state database is never empty (if this is a new install, delete the empty file)"
            )
        }
        var readOnly = GRDB.Configuration()
        readOnly.readonly = true
        // The same wait as every other connection: the last connection of another store to close
        // holds the file for a moment while it cleans up the WAL, and reading then was
        // "database is locked" at once.
        readOnly.busyMode = configuration().busyMode
        let queue = try DatabaseQueue(path: path, configuration: readOnly)
        defer { try? queue.close() }
        try queue.read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            guard tables.contains("grdb_migrations"), tables.contains("outbox") else {
                throw StateStoreError(
                    kind: .corrupt, path: path,
                    detail: tables.isEmpty
                        ? "the file is an SQLite database with no tables, not a devicewatch state database"
                        : "the file is an SQLite database but not devicewatch's (its tables: \(tables.prefix(5).joined(separator: ", ")))"
                )
            }
            let problems = try String.fetchAll(db, sql: "PRAGMA quick_check(5)")
            guard problems == ["ok"] else {
                throw StateStoreError(
                    kind: .corrupt, path: path, detail: "quick_check found: " + problems.joined(separator: "; "))
            }
        }
    }

    /// A new database under a temporary name, migrated, then moved into place.
    static func create(_ path: String, configuration: GRDB.Configuration) throws {
        let temporary = path + ".new-\(getpid())"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
        do {
            let pool = try DatabasePool(path: temporary, configuration: configuration)
            try migrator.migrate(pool)
            try pool.close()
            guard rename(temporary, path) == 0 else {
                throw StateStoreError(
                    kind: .unavailable, path: path,
                    detail: "cannot move the new database into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
            throw error
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1-alerts-outbox-silences") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alerts (
                      workspace TEXT NOT NULL, rule_id TEXT NOT NULL, device_id TEXT NOT NULL,
                      fingerprint TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,
                      PRIMARY KEY (workspace, rule_id, device_id));
                    CREATE TABLE first_seen (
                      workspace TEXT NOT NULL, device_id TEXT NOT NULL, first_seen REAL NOT NULL,
                      PRIMARY KEY (workspace, device_id));
                    CREATE TABLE workspace_health (workspace TEXT PRIMARY KEY, body TEXT NOT NULL);
                    CREATE TABLE notification_groups (id TEXT PRIMARY KEY, body TEXT NOT NULL);
                    CREATE TABLE silences (id TEXT PRIMARY KEY, ends_at REAL NOT NULL, body TEXT NOT NULL);
                    CREATE TABLE outbox (
                      id TEXT PRIMARY KEY, receiver TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                      next_attempt_at REAL NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, last_error TEXT,
                      payload TEXT NOT NULL);
                    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
                    """)
        }
        migrator.registerMigration("2-outbox-group-order") { db in
            // Delivery order is per (receiver, group): only the oldest pending notification of a group may go.
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
                    CREATE INDEX outbox_group_order ON outbox (receiver, group_key, state);
                    """)
        }
        migrator.registerMigration("3-outbox-created-order") { db in
            // Newest first (status page, notifications list, the API) without sorting the whole outbox.
            try db.execute(sql: "CREATE INDEX outbox_created ON outbox (created_at)")
        }
        migrator.registerMigration("4-outbox-state-order") { db in
            // Due notifications are read oldest first: an index on state alone hands pending rows
            // out in row order, so a pass reads its batch and stops (with 100,000 pending, 1 ms
            // instead of sorting them all, 60 ms, for every batch). It also serves the counts.
            try db.execute(
                sql: """
                    DROP INDEX outbox_due;
                    CREATE INDEX outbox_state ON outbox (state);
                    """)
        }
        migrator.registerMigration("5-outbox-receiver-order") { db in
            // Each receiver's lane reads its own due notifications, in row order: equality on
            // (receiver, state) walks this index in rowid order, so a receiver with a long backlog
            // never makes another's read sort or scan it.
            try db.execute(sql: "CREATE INDEX outbox_receiver_state ON outbox (receiver, state)")
        }
        migrator.registerMigration("6-clock-offsets") { db in
            // The API's clock against the local one, so silences added from outside the worker
            // are placed on the engine's clock.
            try db.execute(
                sql:
                    "CREATE TABLE clock_offsets (workspace TEXT PRIMARY KEY, seconds REAL NOT NULL, measured_at REAL NOT NULL)"
            )
        }
        migrator.registerMigration("7-device-status-log") { db in
            // A row per change of a device's status (never per poll), on the API's clock. Keyed
            // per device (each device's history and newest row are a range of the key); the index
            // on time serves windows of a workspace and pruning.
            try db.execute(
                sql: """
                    CREATE TABLE device_status_log (
                      workspace TEXT NOT NULL, device_id TEXT NOT NULL, at REAL NOT NULL, status TEXT NOT NULL,
                      PRIMARY KEY (workspace, device_id, at)) WITHOUT ROWID;
                    CREATE INDEX device_status_log_at ON device_status_log (workspace, at);
                    """)
        }
        migrator.registerMigration("8-history") { db in
            // What history reports and the status page read besides the status log: each
            // device's facts as last seen (for grouping), when devicewatch saw each workspace
            // (outside: blind spots), and each time an alert fired (the alert history).
            try db.execute(sql: Self.historySchema)
        }
        migrator.registerMigration("9-acknowledgements") { db in
            try db.execute(
                sql: "CREATE TABLE acknowledgements (id TEXT PRIMARY KEY, ends_at REAL NOT NULL, body TEXT NOT NULL)")
        }
        return migrator
    }

}
