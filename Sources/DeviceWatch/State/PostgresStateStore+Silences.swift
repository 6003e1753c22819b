import DeviceWatchCore
import Foundation
import PostgresNIO

/// Silences and acknowledgements: each a table of id, end and JSON body.
extension PostgresStateStore: RecordTables {
    public func insert(_ record: some TimedRecord, into table: RecordTable) async throws(StateStoreError) {
        let body: String
        do { body = try encode(record) } catch { throw classify(error) }
        let endsAt = record.endsAt.timeIntervalSince1970
        try await connection { db in
            try await db.query(
                "INSERT INTO \(unescaped: table.rawValue) (id, ends_at, body) VALUES (\(record.id), \(endsAt), \(body))",
                logger: self.logger)
        }
    }

    public func records<T: TimedRecord>(_ type: T.Type, from table: RecordTable, includeExpired: Bool, at now: Date)
        async throws(StateStoreError) -> [T]
    {
        let at = includeExpired ? -Double.infinity : now.timeIntervalSince1970
        return try await connection { db in
            var found: [T] = []
            for try await body in try await db.query(
                "SELECT body FROM \(unescaped: table.rawValue) WHERE ends_at > \(at)", logger: self.logger
            ).decode(String.self) {
                found.append(try decode(T.self, body))
            }
            return found
        }
    }

    public func end<T: TimedRecord>(
        _ type: T.Type, _ id: String, in table: RecordTable, at now: Date,
        _ ending: @escaping @Sendable (inout T) -> Void
    ) async throws(StateStoreError) -> Bool {
        let at = now.timeIntervalSince1970
        return try await transaction { db in
            var found: String?
            for try await body in try await db.query(
                "SELECT body FROM \(unescaped: table.rawValue) WHERE id = \(id) AND ends_at > \(at) FOR UPDATE",
                logger: self.logger
            ).decode(String.self) {
                found = body
            }
            guard let found else { return false }
            var record = try decode(T.self, found)
            ending(&record)
            let body = try encode(record)
            try await db.query(
                "UPDATE \(unescaped: table.rawValue) SET ends_at = \(record.endsAt.timeIntervalSince1970), body = \(body) WHERE id = \(id)",
                logger: self.logger)
            return true
        }
    }
}
