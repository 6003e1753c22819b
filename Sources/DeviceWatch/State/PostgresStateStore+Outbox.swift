import DeviceWatchCore
import Foundation
import PostgresNIO

/// The notification outbox and silences in PostgreSQL.
extension PostgresStateStore {
    static let entryColumns = "state, attempts, next_attempt_at, last_error, created_at, updated_at, payload"

    static func entries(_ rows: PostgresRowSequence) async throws -> [OutboxEntry] {
        var entries: [OutboxEntry] = []
        for try await (state, attempts, next, lastError, created, updated, payload) in rows.decode(
            (String, Int, Double, String?, Double, Double, String).self)
        {
            entries.append(
                try OutboxEntry(
                    payload: payload, state: state, attempts: attempts, nextAttemptAt: next, lastError: lastError,
                    createdAt: created, updatedAt: updated))
        }
        return entries
    }

    public func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        async throws(StateStoreError) -> [OutboxEntry]
    {
        let excluded = excludingGroups.sorted()
        let at = now.timeIntervalSince1970
        // A worker that holds no live lease (it lost the database to another) finds nothing due.
        let owner = lease.withLock { $0?.owner }
        return try await connection { db in
            // The oldest pending notification of each group: a group waiting for a retry never
            // holds up another, and a group's resolve never overtakes its firing.
            try await Self.entries(
                try await db.query(
                    """
                    SELECT \(unescaped: Self.entryColumns) FROM outbox AS o
                    WHERE o.receiver = \(receiver) AND o.state = 'pending' AND o.next_attempt_at <= \(at)
                      AND NOT (o.group_key = ANY(\(excluded)::text[]))
                      AND NOT EXISTS (SELECT 1 FROM outbox AS p WHERE p.receiver = o.receiver
                                      AND p.group_key = o.group_key AND p.state = 'pending' AND p.seq < o.seq)
                      AND (\(owner)::text IS NULL OR EXISTS (
                        SELECT 1 FROM worker_lease WHERE id = 1 AND owner = \(owner)
                          AND expires_at > \(unescaped: Self.now)))
                    ORDER BY o.seq LIMIT \(limit)
                    """, logger: self.logger))
        }
    }

    public func pendingReceivers() async throws(StateStoreError) -> Set<String> {
        try await connection { db in
            var names: Set<String> = []
            for try await name in try await db.query(
                "SELECT DISTINCT receiver FROM outbox WHERE state = 'pending'", logger: self.logger
            ).decode(String.self) {
                names.insert(name)
            }
            return names
        }
    }

    public func notifications(state: OutboxEntry.State?, limit: Int) async throws(StateStoreError) -> [OutboxEntry] {
        try await connection { db in
            if let state {
                return try await Self.entries(
                    try await db.query(
                        """
                        SELECT \(unescaped: Self.entryColumns) FROM outbox WHERE state = \(state.rawValue)
                        ORDER BY created_at DESC, id LIMIT \(limit)
                        """, logger: self.logger))
            }
            return try await Self.entries(
                try await db.query(
                    "SELECT \(unescaped: Self.entryColumns) FROM outbox ORDER BY created_at DESC, id LIMIT \(limit)",
                    logger: self.logger))
        }
    }

    public func outboxCounts() async throws(StateStoreError) -> [OutboxEntry.State: Int] {
        try await connection { db in
            var counts: [OutboxEntry.State: Int] = [.pending: 0, .dead: 0]
            for try await (state, count) in try await db.query(
                "SELECT state, COUNT(*) FROM outbox WHERE state IN ('pending', 'dead') GROUP BY state",
                logger: self.logger
            ).decode((String, Int).self) {
                if let state = OutboxEntry.State(rawValue: state) { counts[state] = count }
            }
            return counts
        }
    }

    public func prune(sentBefore: Date, deadBefore: Date) async throws(StateStoreError) -> Int {
        let sent = sentBefore.timeIntervalSince1970
        let dead = deadBefore.timeIntervalSince1970
        return try await connection { db in
            var count = 0
            for try await _ in try await db.query(
                """
                DELETE FROM outbox WHERE (state = 'sent' AND updated_at < \(sent)) OR (state = 'dead' AND updated_at < \(dead))
                RETURNING 1
                """, logger: self.logger
            ).decode(Int.self) {
                count += 1
            }
            return count
        }
    }

    public func record(_ outcomes: [DeliveryRecord], at now: Date) async throws(StateStoreError) {
        guard !outcomes.isEmpty else { return }
        let at = now.timeIntervalSince1970
        try await transaction { db in
            for outcome in outcomes {
                switch outcome.kind {
                case .sent:
                    try await db.query(
                        """
                        UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at = \(at), last_error = NULL
                        WHERE id = \(outcome.id)
                        """, logger: self.logger)
                case .retry(let next, let error):
                    try await db.query(
                        """
                        UPDATE outbox SET attempts = attempts + 1, next_attempt_at = \(next.timeIntervalSince1970),
                          last_error = \(error), updated_at = \(at)
                        WHERE id = \(outcome.id)
                        """, logger: self.logger)
                case .dead(let error):
                    try await db.query(
                        """
                        UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = \(error), updated_at = \(at)
                        WHERE id = \(outcome.id)
                        """, logger: self.logger)
                }
            }
        }
    }

    // MARK: Silences

    public func addSilence(_ silence: Silence) async throws(StateStoreError) {
        let body: String
        do { body = try encode(silence) } catch { throw classify(error) }
        let endsAt = silence.endsAt.timeIntervalSince1970
        try await connection { db in
            try await db.query(
                "INSERT INTO silences (id, ends_at, body) VALUES (\(silence.id), \(endsAt), \(body))",
                logger: self.logger)
        }
    }

    public func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence] {
        let at = includeExpired ? -Double.infinity : now.timeIntervalSince1970
        return try await connection { db in
            var silences: [Silence] = []
            for try await body in try await db.query(
                "SELECT body FROM silences WHERE ends_at > \(at)", logger: self.logger
            ).decode(String.self) {
                silences.append(try decode(Silence.self, body))
            }
            return silences.sorted { ($0.startsAt, $0.id) < ($1.startsAt, $1.id) }
        }
    }

    public func expireSilence(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        let at = now.timeIntervalSince1970
        return try await transaction { db in
            var found: String?
            for try await body in try await db.query(
                "SELECT body FROM silences WHERE id = \(id) AND ends_at > \(at) FOR UPDATE", logger: self.logger
            ).decode(String.self) {
                found = body
            }
            guard let found else { return false }
            var silence = try decode(Silence.self, found)
            silence.endsAt = max(now, silence.startsAt)
            let body = try encode(silence)
            try await db.query(
                "UPDATE silences SET ends_at = \(silence.endsAt.timeIntervalSince1970), body = \(body) WHERE id = \(id)",
                logger: self.logger)
            return true
        }
    }
}
