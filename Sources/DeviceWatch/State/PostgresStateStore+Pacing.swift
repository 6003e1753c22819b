import DeviceWatchCore
import Foundation
import PostgresNIO

/// Receivers' rate limits and `Retry-After` pauses shared by every worker: a token bucket per
/// receiver in a row, on the database's clock.
extension PostgresStateStore {

    /// Takes up to `count` tokens of `receiver`'s rate limit for the whole cluster (a bucket row
    /// on the database's clock): how many it got (at least one), or, when none is there, the
    /// seconds until one will be.
    public func takeTokens(receiver: String, limit: Configuration.RateLimit, count: Int)
        async throws(StateStoreError) -> TokenGrant
    {
        let burst = Double(max(1, limit.burst))
        let rate = limit.perSecond
        let wanted = Double(max(1, count))
        let now = "extract(epoch from statement_timestamp())"
        // The bucket refilled to now; tokens handed out only while no pause holds the receiver.
        let refilled = "least(\(burst), p.tokens + greatest(0, \(now) - p.updated_at) * \(rate))"
        return try await connection { db in
            var grant = TokenGrant.wait(seconds: 1 / rate)
            for try await (granted, tokens, paused) in try await db.query(
                """
                INSERT INTO receiver_pacing AS p (receiver, tokens, updated_at, paused_until, granted)
                VALUES (\(receiver), \(burst) - least(\(wanted), \(burst)), \(unescaped: now), 0, least(\(wanted), \(burst)))
                ON CONFLICT (receiver) DO UPDATE SET
                  granted = CASE WHEN p.paused_until <= \(unescaped: now)
                    THEN least(\(wanted), floor(\(unescaped: refilled))) ELSE 0 END,
                  tokens = \(unescaped: refilled) - CASE WHEN p.paused_until <= \(unescaped: now)
                    THEN least(\(wanted), floor(\(unescaped: refilled))) ELSE 0 END,
                  updated_at = \(unescaped: now)
                RETURNING granted, tokens, paused_until - \(unescaped: now)
                """, logger: self.logger
            ).decode((Double, Double, Double).self) {
                grant =
                    granted >= 1
                    ? .granted(Int(granted)) : .wait(seconds: paused > 0 ? paused : max(0.001, (1 - tokens) / rate))
            }
            return grant
        }
    }

    /// Holds every worker's requests to `receiver` for `seconds` (its 429 `Retry-After`).
    public func pause(receiver: String, seconds: Double) async throws(StateStoreError) {
        let now = "extract(epoch from statement_timestamp())"
        try await connection { db in
            try await db.query(
                """
                INSERT INTO receiver_pacing AS p (receiver, tokens, updated_at, paused_until)
                VALUES (\(receiver), 0, \(unescaped: now), \(unescaped: now) + \(seconds))
                ON CONFLICT (receiver) DO UPDATE SET paused_until = greatest(p.paused_until, excluded.paused_until)
                """, logger: self.logger)
        }
    }
}
