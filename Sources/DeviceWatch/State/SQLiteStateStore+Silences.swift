import DeviceWatchCore
import Foundation
import GRDB

/// Silences in SQLite.
extension SQLiteStateStore {

    public func addSilence(_ silence: Silence) async throws(StateStoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO silences (id, ends_at, body) VALUES (?, ?, ?)",
                arguments: [silence.id, silence.endsAt.timeIntervalSince1970, try encode(silence)])
        }
    }

    public func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence] {
        try await read { db in
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

    public func expireSilence(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await write { db in
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

    // MARK: Acknowledgements (the same shape: an id, when it ends, the JSON)

    public func addAcknowledgement(_ acknowledgement: Acknowledgement) async throws(StateStoreError) {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO acknowledgements (id, ends_at, body) VALUES (?, ?, ?)",
                arguments: [
                    acknowledgement.id, acknowledgement.endsAt.timeIntervalSince1970, try encode(acknowledgement),
                ])
        }
    }

    public func acknowledgements(includeExpired: Bool, at now: Date) async throws(StateStoreError)
        -> [Acknowledgement]
    {
        try await read { db in
            let at = includeExpired ? -Double.infinity : now.timeIntervalSince1970
            return try Row.fetchAll(db, sql: "SELECT body FROM acknowledgements WHERE ends_at > ?", arguments: [at])
                .map { try decode(Acknowledgement.self, $0["body"]) }.sorted {
                    ($0.createdAt, $0.id) < ($1.createdAt, $1.id)
                }
        }
    }

    public func expireAcknowledgement(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT body FROM acknowledgements WHERE id = ? AND ends_at > ?",
                    arguments: [id, now.timeIntervalSince1970])
            else { return false }
            var acknowledgement = try decode(Acknowledgement.self, row["body"])
            acknowledgement.endsAt = now
            try db.execute(
                sql: "UPDATE acknowledgements SET ends_at = ?, body = ? WHERE id = ?",
                arguments: [now.timeIntervalSince1970, try encode(acknowledgement), id])
            return true
        }
    }
}
