import DeviceWatchCore
import Foundation
import PostgresNIO

/// Silences and acknowledgements: each a table of id, end and JSON body.
extension PostgresStateStore {
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
        let body: String
        do { body = try encode(record) } catch { throw classify(error) }
        let endsAt = record.endsAt.timeIntervalSince1970
        try await connection { db in
            try await db.query(
                "INSERT INTO \(unescaped: table) (id, ends_at, body) VALUES (\(record.id), \(endsAt), \(body))",
                logger: self.logger)
        }
    }

    private func records<T: TimedRecord>(_ type: T.Type, from table: String, includeExpired: Bool, at now: Date)
        async throws(StateStoreError) -> [T]
    {
        let at = includeExpired ? -Double.infinity : now.timeIntervalSince1970
        return try await connection { db in
            var found: [T] = []
            for try await body in try await db.query(
                "SELECT body FROM \(unescaped: table) WHERE ends_at > \(at)", logger: self.logger
            ).decode(String.self) {
                found.append(try decode(T.self, body))
            }
            return found
        }
    }

    /// Ends the record `id` still in force at `now`, as `ending` says; false when there is none.
    private func end<T: TimedRecord>(
        _ type: T.Type, _ id: String, in table: String, at now: Date, _ ending: @escaping @Sendable (inout T) -> Void
    ) async throws(StateStoreError) -> Bool {
        let at = now.timeIntervalSince1970
        return try await transaction { db in
            var found: String?
            for try await body in try await db.query(
                "SELECT body FROM \(unescaped: table) WHERE id = \(id) AND ends_at > \(at) FOR UPDATE",
                logger: self.logger
            ).decode(String.self) {
                found = body
            }
            guard let found else { return false }
            var record = try decode(T.self, found)
            ending(&record)
            let body = try encode(record)
            try await db.query(
                "UPDATE \(unescaped: table) SET ends_at = \(record.endsAt.timeIntervalSince1970), body = \(body) WHERE id = \(id)",
                logger: self.logger)
            return true
        }
    }
}
