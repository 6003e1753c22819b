import DeviceWatchCore
import Foundation
import GRDB

/// Silences and acknowledgements in SQLite: each a table of id, end and JSON body.
extension SQLiteStateStore {

    public func addSilence(_ silence: Silence) async throws(StateStoreError) {
        try await insert(silence, into: "silences")
    }

    public func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence] {
        try await records(Silence.self, from: "silences", includeExpired: includeExpired, at: now).sorted {
            ($0.startsAt, $0.id) < ($1.startsAt, $1.id)
        }
    }

    public func expireSilence(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await end(Silence.self, id, in: "silences", at: now) { $0.endsAt = max(now, $0.startsAt) }
    }

    public func addAcknowledgement(_ acknowledgement: Acknowledgement) async throws(StateStoreError) {
        try await insert(acknowledgement, into: "acknowledgements")
    }

    public func acknowledgements(includeExpired: Bool, at now: Date) async throws(StateStoreError)
        -> [Acknowledgement]
    {
        try await records(Acknowledgement.self, from: "acknowledgements", includeExpired: includeExpired, at: now)
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func expireAcknowledgement(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await end(Acknowledgement.self, id, in: "acknowledgements", at: now) { $0.endsAt = now }
    }

    // The table names below are this file's constants, never input.

    private func insert(_ record: some TimedRecord, into table: String) async throws(StateStoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO \(table) (id, ends_at, body) VALUES (?, ?, ?)",
                arguments: [record.id, record.endsAt.timeIntervalSince1970, try encode(record)])
        }
    }

    private func records<T: TimedRecord>(_ type: T.Type, from table: String, includeExpired: Bool, at now: Date)
        async throws(StateStoreError) -> [T]
    {
        try await read { db in
            let at = includeExpired ? -Double.infinity : now.timeIntervalSince1970
            return try Row.fetchAll(db, sql: "SELECT body FROM \(table) WHERE ends_at > ?", arguments: [at])
                .map { try decode(T.self, $0["body"]) }
        }
    }

    /// Ends the record `id` still in force at `now`, as `ending` says; false when there is none.
    private func end<T: TimedRecord>(
        _ type: T.Type, _ id: String, in table: String, at now: Date, _ ending: @escaping @Sendable (inout T) -> Void
    ) async throws(StateStoreError) -> Bool {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT body FROM \(table) WHERE id = ? AND ends_at > ?",
                    arguments: [id, now.timeIntervalSince1970])
            else { return false }
            var record = try decode(T.self, row["body"])
            ending(&record)
            try db.execute(
                sql: "UPDATE \(table) SET ends_at = ?, body = ? WHERE id = ?",
                arguments: [record.endsAt.timeIntervalSince1970, try encode(record), id])
            return true
        }
    }
}
