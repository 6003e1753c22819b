import DeviceWatchCore
import Foundation
import Logging
import PostgresNIO

/// The history besides the status log in PostgreSQL: device facts, coverage spans, alert episodes.
extension PostgresStateStore {
    /// One statement per table, rows bound as arrays, as for the rest of a cycle.
    static func historyStatements(_ changes: StateChanges, at now: Date) throws -> [PostgresQuery] {
        var statements: [PostgresQuery] = []
        if !changes.upsertFacts.isEmpty {
            let rows = changes.upsertFacts
            statements.append(
                """
                INSERT INTO device_facts (workspace, device_id, name, type, platform, tags, updated_at)
                SELECT workspace, device_id, NULLIF(name, ''), NULLIF(type, ''), NULLIF(platform, ''), tags,
                  \(now.timeIntervalSince1970)::float8
                FROM UNNEST(\(rows.map(\.workspace))::text[], \(rows.map(\.deviceID))::text[],
                  \(rows.map { $0.name ?? "" })::text[], \(rows.map { $0.type ?? "" })::text[],
                  \(rows.map { $0.platform ?? "" })::text[], \(try rows.map { try encode($0.tags) })::text[])
                  AS t(workspace, device_id, name, type, platform, tags)
                ON CONFLICT (workspace, device_id) DO UPDATE SET name = excluded.name, type = excluded.type,
                  platform = excluded.platform, tags = excluded.tags, updated_at = excluded.updated_at
                """)
        }
        for span in changes.upsertCoverage {
            statements.append(
                """
                INSERT INTO coverage (workspace, started_at, ended_at)
                VALUES (\(span.workspace), \(span.start.timeIntervalSince1970), \(span.end.timeIntervalSince1970))
                ON CONFLICT (workspace, started_at) DO UPDATE SET ended_at = excluded.ended_at
                """)
        }
        if !changes.upsertEpisodes.isEmpty {
            let rows = changes.upsertEpisodes
            statements.append(
                """
                INSERT INTO alert_history (workspace, rule_id, device_id, fired_at, resolved_at, resolve_reason,
                  severity, subject, message, flapped)
                SELECT workspace, rule_id, device_id, fired_at, NULLIF(resolved_at, -1), NULLIF(resolve_reason, ''),
                  severity, NULLIF(subject, ''), NULLIF(message, ''), flapped
                FROM UNNEST(\(rows.map(\.key.workspace))::text[], \(rows.map(\.key.ruleID))::text[],
                  \(rows.map(\.key.deviceID))::text[], \(rows.map { $0.firedAt.timeIntervalSince1970 })::float8[],
                  \(rows.map { $0.resolvedAt?.timeIntervalSince1970 ?? -1 })::float8[],
                  \(rows.map { $0.resolveReason?.rawValue ?? "" })::text[], \(rows.map(\.severity.rawValue))::text[],
                  \(rows.map { $0.subject ?? "" })::text[], \(rows.map { $0.message ?? "" })::text[],
                  \(rows.map { $0.flapped ? 1 : 0 })::int[])
                  AS t(workspace, rule_id, device_id, fired_at, resolved_at, resolve_reason, severity, subject, message,
                    flapped)
                ON CONFLICT (workspace, rule_id, device_id, fired_at) DO UPDATE SET
                  resolved_at = excluded.resolved_at, resolve_reason = excluded.resolve_reason,
                  severity = excluded.severity, subject = excluded.subject, message = excluded.message,
                  flapped = greatest(alert_history.flapped, excluded.flapped)
                """)
        }
        return statements
    }

    /// The facts of a workspace's devices (nil: every workspace's) and each workspace's newest span.
    static func loadHistory(_ db: PostgresConnection, workspace: String?, logger: Logger) async throws
        -> (facts: [KnownDevice], coverage: [CoverageSpan])
    {
        let facts = try await knownDevices(db, workspace: workspace, device: nil, logger: logger)
        var spans: [CoverageSpan] = []
        for try await row in try await db.query(
            """
            SELECT DISTINCT ON (workspace) workspace, started_at, ended_at FROM coverage
            WHERE \(workspace)::text IS NULL OR workspace = \(workspace) ORDER BY workspace, started_at DESC
            """, logger: logger
        ).decode((String, Double, Double).self) {
            spans.append(Self.span(row))
        }
        return (facts, spans)
    }

    private static func span(_ row: (String, Double, Double)) -> CoverageSpan {
        CoverageSpan(
            workspace: row.0, start: Date(timeIntervalSince1970: row.1), end: Date(timeIntervalSince1970: row.2))
    }

    private static func knownDevices(_ db: PostgresConnection, workspace: String?, device: String?, logger: Logger)
        async throws -> [KnownDevice]
    {
        var facts: [KnownDevice] = []
        for try await row in try await db.query(
            """
            SELECT workspace, device_id, name, type, platform, tags FROM device_facts
            WHERE (\(workspace)::text IS NULL OR workspace = \(workspace))
              AND (\(device)::text IS NULL OR device_id = \(device))
            ORDER BY workspace, device_id
            """, logger: logger
        ).decode((String, String, String?, String?, String?, String).self) {
            facts.append(
                KnownDevice(
                    workspace: row.0, deviceID: row.1, name: row.2, type: row.3, platform: row.4,
                    tags: try decode([String].self, row.5)))
        }
        return facts
    }

    public func coverage(_ query: StatusLogQuery) async throws(StateStoreError) -> [CoverageSpan] {
        let workspace = query.workspace
        let since = query.since?.timeIntervalSince1970, until = query.until?.timeIntervalSince1970
        return try await connection { db in
            var spans: [CoverageSpan] = []
            for try await row in try await db.query(
                """
                SELECT workspace, started_at, ended_at FROM coverage
                WHERE (\(workspace)::text IS NULL OR workspace = \(workspace))
                  AND (\(since)::float8 IS NULL OR ended_at >= \(since))
                  AND (\(until)::float8 IS NULL OR started_at < \(until))
                ORDER BY workspace, started_at
                """, logger: self.logger
            ).decode((String, Double, Double).self) {
                spans.append(Self.span(row))
            }
            return spans
        }
    }

    public func knownDevices(_ query: StatusLogQuery) async throws(StateStoreError) -> [KnownDevice] {
        try await connection { db in
            try await Self.knownDevices(db, workspace: query.workspace, device: query.deviceID, logger: self.logger)
        }
    }

    public func alertHistory(_ query: AlertHistoryQuery) async throws(StateStoreError) -> [AlertEpisode] {
        let workspace = query.workspace, rule = query.ruleID, device = query.deviceID, resolved = query.resolved
        let since = query.since?.timeIntervalSince1970, until = query.until?.timeIntervalSince1970
        let limit = query.limit
        return try await connection { db in
            var episodes: [AlertEpisode] = []
            for try await row in try await db.query(
                """
                SELECT workspace, rule_id, device_id, fired_at, resolved_at, resolve_reason, severity, subject,
                  message, flapped FROM alert_history
                WHERE (\(workspace)::text IS NULL OR workspace = \(workspace))
                  AND (\(rule)::text IS NULL OR rule_id = \(rule)) AND (\(device)::text IS NULL OR device_id = \(device))
                  AND (\(until)::float8 IS NULL OR fired_at < \(until))
                  AND (\(since)::float8 IS NULL OR resolved_at IS NULL OR resolved_at >= \(since))
                  AND (\(resolved)::bool IS NULL OR (resolved_at IS NOT NULL) = \(resolved))
                ORDER BY fired_at DESC, workspace, rule_id, device_id LIMIT \(limit)
                """, logger: self.logger
            ).decode((String, String, String, Double, Double?, String?, String, String?, String?, Int).self) {
                episodes.append(
                    AlertEpisode(
                        key: AlertKey(workspace: row.0, ruleID: row.1, deviceID: row.2),
                        severity: Severity(rawValue: row.6) ?? .warning, firedAt: Date(timeIntervalSince1970: row.3),
                        resolvedAt: row.4.map(Date.init(timeIntervalSince1970:)),
                        resolveReason: row.5.map { ResolveReason(rawValue: $0) ?? .recovered }, subject: row.7,
                        message: row.8, flapped: row.9 != 0))
            }
            return episodes
        }
    }

    /// As in SQLite: spans that ended before the cutoff, episodes resolved before it, and the
    /// facts of devices the status log no longer names.
    static func pruneFactsCoverageAndEpisodes(before cutoff: Double, in db: PostgresConnection, logger: Logger)
        async throws -> Int
    {
        let rows = try await db.query(
            """
            WITH spans AS (DELETE FROM coverage WHERE ended_at < \(cutoff) RETURNING 1),
              episodes AS (DELETE FROM alert_history WHERE resolved_at < \(cutoff) RETURNING 1),
              acknowledged AS (DELETE FROM acknowledgements WHERE ends_at < \(cutoff) RETURNING 1),
              facts AS (
                DELETE FROM device_facts AS f WHERE NOT EXISTS (
                  SELECT 1 FROM device_status_log AS log
                  WHERE log.workspace = f.workspace AND log.device_id = f.device_id) RETURNING 1)
            SELECT (SELECT count(*) FROM spans) + (SELECT count(*) FROM episodes) + (SELECT count(*) FROM facts)
              + (SELECT count(*) FROM acknowledged)
            """, logger: logger
        ).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }
}
