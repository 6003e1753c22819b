import DeviceWatchCore
import Foundation
import GRDB

/// Silences and acknowledgements in SQLite: each a table of id, end and JSON body.
extension SQLiteStateStore: RecordTables {
    public func insert(_ record: some TimedRecord, into table: RecordTable) async throws(StateStoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO \(table.rawValue) (id, ends_at, body) VALUES (?, ?, ?)",
                arguments: [record.id, record.endsAt.timeIntervalSince1970, try encode(record)])
        }
    }

    public func records<T: TimedRecord>(_ type: T.Type, from table: RecordTable, includeExpired: Bool, at now: Date)
        async throws(StateStoreError) -> [T]
    {
        try await read { db in
            let at = includeExpired ? -Double.infinity : now.timeIntervalSince1970
            return try Row.fetchAll(db, sql: "SELECT body FROM \(table.rawValue) WHERE ends_at > ?", arguments: [at])
                .map { try decode(T.self, $0["body"]) }
        }
    }

    public func end<T: TimedRecord>(
        _ type: T.Type, _ id: String, in table: RecordTable, at now: Date,
        _ ending: @escaping @Sendable (inout T) -> Void
    ) async throws(StateStoreError) -> Bool {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT body FROM \(table.rawValue) WHERE id = ? AND ends_at > ?",
                    arguments: [id, now.timeIntervalSince1970])
            else { return false }
            var record = try decode(T.self, row["body"])
            ending(&record)
            try db.execute(
                sql: "UPDATE \(table.rawValue) SET ends_at = ?, body = ? WHERE id = ?",
                arguments: [record.endsAt.timeIntervalSince1970, try encode(record), id])
            return true
        }
    }
}
