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

    /// Who claims due rows, and for how long a claim holds when its worker goes silent.
    struct Claimant: Sendable {
        let owner: String
        let claimFor: Duration
    }

    /// From now on, due rows are claimed for `owner` (``dueNotifications(at:receiver:excludingGroups:limit:)``)
    /// for `length` at a time, and outcomes are recorded only for rows `owner` still holds: the
    /// workers of a cluster share the outbox without sending a row twice.
    public func claimOutbox(as owner: String, for length: Duration) {
        claimant.withLock { $0 = Claimant(owner: owner, claimFor: length) }
    }

    public func dueNotifications(at now: Date, receiver: String, excludingGroups: Set<String>, limit: Int)
        async throws(StateStoreError) -> [OutboxEntry]
    {
        let excluded = excludingGroups.sorted()
        let at = now.timeIntervalSince1970
        guard let claimant = claimant.withLock({ $0 }) else {
            return try await connection { db in
                // The oldest pending notification of each group: a group waiting for a retry never
                // holds up another, and a group's resolve never overtakes its firing.
                try await Self.entries(
                    try await db.query(
                        """
                        SELECT \(unescaped: Self.entryColumns) FROM outbox AS o
                        WHERE o.receiver = \(receiver) AND o.state = 'pending' AND o.next_attempt_at <= \(at)
                          AND NOT (o.group_key = ANY(\(excluded)::text[]))
                          AND o.seq = (SELECT min(p.seq) FROM outbox AS p WHERE p.receiver = o.receiver
                                       AND p.group_key = o.group_key AND p.state = 'pending')
                        ORDER BY o.receiver, o.seq LIMIT \(limit)
                        """, logger: self.logger))
            }
        }
        // Claimed in one statement (ordered as the pending-rows index is, so it is read in order
        // rather than every delivered row scanned; the head of each group is a correlated
        // `min(seq)`, an index lookup whatever the planner's statistics say of a table just
        // filled): rows another worker holds (a live claim) are passed over,
        // rows locked by a concurrent claim are skipped, and only the oldest pending row of a
        // group is claimable, so order holds across workers too.
        let started = ContinuousClock.now
        return try await connection { db in
            var claimed: [(Int64, OutboxEntry)] = []
            for try await (seq, state, attempts, next, lastError, created, updated, payload) in try await db.query(
                """
                UPDATE outbox SET claimed_by = \(claimant.owner), claim_until = \(unescaped: Self.now) + \(claimant.claimFor.timeInterval)
                WHERE id IN (
                  SELECT o.id FROM outbox AS o
                  WHERE o.receiver = \(receiver) AND o.state = 'pending' AND o.next_attempt_at <= \(at)
                    AND NOT (o.group_key = ANY(\(excluded)::text[]))
                    AND (o.claim_until IS NULL OR o.claim_until < \(unescaped: Self.now)
                         OR o.claimed_by = \(claimant.owner))
                    AND o.seq = (SELECT min(p.seq) FROM outbox AS p WHERE p.receiver = o.receiver
                                 AND p.group_key = o.group_key AND p.state = 'pending')
                  ORDER BY o.receiver, o.seq LIMIT \(limit) FOR UPDATE OF o SKIP LOCKED)
                RETURNING seq, \(unescaped: Self.entryColumns)
                """, logger: self.logger
            ).decode((Int64, String, Int, Double, String?, Double, Double, String).self) {
                claimed.append(
                    (
                        seq,
                        try OutboxEntry(
                            payload: payload, state: state, attempts: attempts, nextAttemptAt: next,
                            lastError: lastError, createdAt: created, updatedAt: updated)
                    ))
            }
            // Before the statement ran: the claim runs at least claimFor from this instant.
            self.claimTimes.withLock { times in for (_, entry) in claimed { times[entry.intent.id] = started } }
            let report = self.claimEvents.withLock { $0 }
            if !claimed.isEmpty { report?(claimed.count, 0) }
            return claimed.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Just before a send: true while the row is still this worker's (renewing the claim), false
    /// when another worker claimed it meanwhile (this one was paused past its claim): it is not
    /// sent again from here.
    ///
    /// A claim taken less than half its length ago (on the continuous clock, which counts a
    /// pause or a suspended VM as time passed) is surely still this worker's: no round trip.
    public func confirmClaim(_ id: String) async throws(StateStoreError) -> Bool {
        guard let claimant = claimant.withLock({ $0 }) else { return true }
        let now = ContinuousClock.now
        if let at = claimTimes.withLock({ $0[id] }), at.duration(to: now) < claimant.claimFor / 2 {
            return true
        }
        let confirmed = try await connection { db in
            try await !db.query(
                """
                UPDATE outbox SET claim_until = \(unescaped: Self.now) + \(claimant.claimFor.timeInterval)
                WHERE id = \(id) AND claimed_by = \(claimant.owner) AND state = 'pending' RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
        }
        claimTimes.withLock { $0[id] = confirmed ? now : nil }
        return confirmed
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

    /// The newest notification's place in the outbox's order (0 when it is empty): what another
    /// worker's commit changes, read by ``OutboxWatchService`` (an index lookup; LISTEN would keep
    /// session state, which PgBouncer's transaction mode does not allow).
    public func newestNotification() async throws(StateStoreError) -> Int64 {
        // A short timeout: it is asked five times a second, and must not hold a connection long.
        try await connection(timeout: .seconds(2)) { db in
            for try await seq in try await db.query("SELECT coalesce(max(seq), 0) FROM outbox", logger: self.logger)
                .decode(Int64.self)
            {
                return seq
            }
            return 0
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
        // With claims: only rows this worker still holds (a claim another worker took over is
        // theirs now). A retry gives its claim up, so any worker takes it when it falls due.
        let owner = claimant.withLock { $0?.owner }
        var sent: [String] = []
        var retried: (ids: [String], next: [Double], errors: [String]) = ([], [], [])
        var dead: (ids: [String], errors: [String]) = ([], [])
        // The last outcome of a row counts (a row updated twice by one statement keeps only one
        // of the updates, so the lists below must not share an id).
        var seen: Set<String> = []
        for outcome in outcomes.reversed() where seen.insert(outcome.id).inserted {
            switch outcome.kind {
            case .sent: sent.append(outcome.id)
            case .retry(let next, let error):
                retried.ids.append(outcome.id)
                retried.next.append(next.timeIntervalSince1970)
                retried.errors.append(error)
            case .dead(let error):
                dead.ids.append(outcome.id)
                dead.errors.append(error)
            }
        }
        // One statement, whatever the number and kinds of outcomes: its three updates are one
        // implicit transaction (atomic like BEGIN ... COMMIT, without those two round trips).
        let (sentIDs, retries, deaths) = (sent, retried, dead)
        let recorded = try await connection { db in
            var recorded: Set<String> = []
            for try await id in try await db.query(
                """
                WITH s AS (
                  UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at = \(at), last_error = NULL
                  WHERE id = ANY(\(sentIDs)::text[]) AND (\(owner)::text IS NULL OR claimed_by = \(owner)) RETURNING id),
                r AS (
                  UPDATE outbox AS o SET attempts = o.attempts + 1, next_attempt_at = r.next, last_error = r.error,
                    updated_at = \(at), claimed_by = NULL, claim_until = NULL
                  FROM UNNEST(\(retries.ids)::text[], \(retries.next)::float8[], \(retries.errors)::text[])
                    AS r(id, next, error)
                  WHERE o.id = r.id AND (\(owner)::text IS NULL OR o.claimed_by = \(owner)) RETURNING o.id),
                d AS (
                  UPDATE outbox AS o SET state = 'dead', attempts = o.attempts + 1, last_error = d.error, updated_at = \(at)
                  FROM UNNEST(\(deaths.ids)::text[], \(deaths.errors)::text[]) AS d(id, error)
                  WHERE o.id = d.id AND (\(owner)::text IS NULL OR o.claimed_by = \(owner)) RETURNING o.id)
                SELECT id FROM s UNION ALL SELECT id FROM r UNION ALL SELECT id FROM d
                """, logger: self.logger
            ).decode(String.self) {
                recorded.insert(id)
            }
            return recorded
        }
        claimTimes.withLock { times in for outcome in outcomes { times[outcome.id] = nil } }
        // Without claims every row is recorded; an id the outbox does not have is no one's loss.
        guard owner != nil else { return }
        let lost = outcomes.map(\.id).filter { !recorded.contains($0) }
        if !lost.isEmpty {
            lostClaims.add(lost.count, ordering: .relaxed)
            claimEvents.withLock { $0 }?(0, lost.count)
            logger.warning(
                "another worker claimed \(lost.count) notification(s) before this one recorded its outcome; they may have been sent twice (with the same idempotency key)",
                metadata: ["notifications": "\(lost.prefix(5).joined(separator: ","))"])
        }
    }
}
