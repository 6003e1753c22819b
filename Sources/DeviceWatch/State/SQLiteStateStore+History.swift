import DeviceWatchCore
import Foundation
import GRDB

/// The history besides the status log in SQLite: device facts, coverage spans, alert episodes.
extension SQLiteStateStore {
    static let historySchema = """
        CREATE TABLE device_facts (
          workspace TEXT NOT NULL, device_id TEXT NOT NULL, name TEXT, type TEXT, platform TEXT,
          tags TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (workspace, device_id)) WITHOUT ROWID;
        CREATE TABLE coverage (
          workspace TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL NOT NULL,
          PRIMARY KEY (workspace, started_at)) WITHOUT ROWID;
        CREATE TABLE alert_history (
          workspace TEXT NOT NULL, rule_id TEXT NOT NULL, device_id TEXT NOT NULL, fired_at REAL NOT NULL,
          resolved_at REAL, resolve_reason TEXT, severity TEXT NOT NULL, subject TEXT, message TEXT,
          flapped INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (workspace, rule_id, device_id, fired_at));
        CREATE INDEX alert_history_fired ON alert_history (fired_at);
        """

    static func writeHistory(_ changes: StateChanges, at now: Date, to db: Database) throws {
        for facts in changes.upsertFacts {
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO device_facts (workspace, device_id, name, type, platform, tags, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                facts.workspace, facts.deviceID, facts.name, facts.type, facts.platform, try encode(facts.tags),
                now.timeIntervalSince1970,
            ])
        }
        for span in changes.upsertCoverage {
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO coverage (workspace, started_at, ended_at) VALUES (?, ?, ?)"
            ).execute(arguments: [span.workspace, span.start.timeIntervalSince1970, span.end.timeIntervalSince1970])
        }
        for episode in changes.upsertEpisodes {
            try db.cachedStatement(
                sql: """
                    INSERT INTO alert_history (workspace, rule_id, device_id, fired_at, resolved_at, resolve_reason,
                      severity, subject, message, flapped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (workspace, rule_id, device_id, fired_at) DO UPDATE SET
                      resolved_at = excluded.resolved_at, resolve_reason = excluded.resolve_reason,
                      severity = excluded.severity, subject = excluded.subject, message = excluded.message,
                      flapped = max(flapped, excluded.flapped)
                    """
            ).execute(arguments: [
                episode.key.workspace, episode.key.ruleID, episode.key.deviceID, episode.firedAt.timeIntervalSince1970,
                episode.resolvedAt?.timeIntervalSince1970, episode.resolveReason?.rawValue, episode.severity.rawValue,
                episode.subject, episode.message, episode.flapped ? 1 : 0,
            ])
        }
    }

    /// Every device's facts (what the next poll compares with) and each workspace's newest span.
    static func loadHistory(_ db: Database) throws -> (facts: [KnownDevice], coverage: [CoverageSpan]) {
        let facts = try Row.fetchAll(
            db, sql: "SELECT workspace, device_id, name, type, platform, tags FROM device_facts"
        ).map(Self.facts)
        let spans = try Row.fetchAll(
            db, sql: "SELECT workspace, max(started_at) AS started_at, ended_at FROM coverage GROUP BY workspace"
        ).map(Self.span)
        return (facts, spans)
    }

    private static func facts(_ row: Row) throws -> KnownDevice {
        KnownDevice(
            workspace: row["workspace"], deviceID: row["device_id"], name: row["name"], type: row["type"],
            platform: row["platform"], tags: try decode([String].self, row["tags"]))
    }

    private static func span(_ row: Row) -> CoverageSpan {
        CoverageSpan(
            workspace: row["workspace"], start: Date(timeIntervalSince1970: row["started_at"]),
            end: Date(timeIntervalSince1970: row["ended_at"]))
    }

    public func coverage(_ query: StatusLogQuery) async throws(StateStoreError) -> [CoverageSpan] {
        try await rows(
            """
            SELECT workspace, started_at, ended_at FROM coverage
            WHERE (:workspace IS NULL OR workspace = :workspace)
              AND (:since IS NULL OR ended_at >= :since) AND (:until IS NULL OR started_at < :until)
            ORDER BY workspace, started_at
            """,
            [
                "workspace": query.workspace, "since": query.since?.timeIntervalSince1970,
                "until": query.until?.timeIntervalSince1970,
            ], as: Self.span)
    }

    public func knownDevices(_ query: StatusLogQuery) async throws(StateStoreError) -> [KnownDevice] {
        try await rows(
            """
            SELECT workspace, device_id, name, type, platform, tags FROM device_facts
            WHERE (:workspace IS NULL OR workspace = :workspace) AND (:device IS NULL OR device_id = :device)
            ORDER BY workspace, device_id
            """,
            ["workspace": query.workspace, "device": query.deviceID], as: Self.facts)
    }

    public func alertHistory(_ query: AlertHistoryQuery) async throws(StateStoreError) -> [AlertEpisode] {
        try await rows(
            """
            SELECT * FROM alert_history
            WHERE (:workspace IS NULL OR workspace = :workspace) AND (:rule IS NULL OR rule_id = :rule)
              AND (:device IS NULL OR device_id = :device) AND (:until IS NULL OR fired_at < :until)
              AND (:since IS NULL OR resolved_at IS NULL OR resolved_at >= :since)
              AND (:resolved IS NULL OR (resolved_at IS NOT NULL) = :resolved)
            ORDER BY fired_at DESC, workspace, rule_id, device_id LIMIT :limit
            """,
            [
                "workspace": query.workspace, "rule": query.ruleID, "device": query.deviceID,
                "since": query.since?.timeIntervalSince1970, "until": query.until?.timeIntervalSince1970,
                "resolved": query.resolved, "limit": query.limit,
            ], as: Self.episode)
    }

    private static func episode(_ row: Row) -> AlertEpisode {
        AlertEpisode(
            key: AlertKey(workspace: row["workspace"], ruleID: row["rule_id"], deviceID: row["device_id"]),
            severity: Severity(rawValue: row["severity"]) ?? .warning,
            firedAt: Date(timeIntervalSince1970: row["fired_at"]),
            resolvedAt: (row["resolved_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            resolveReason: (row["resolve_reason"] as String?).map { ResolveReason(rawValue: $0) ?? .recovered },
            subject: row["subject"], message: row["message"], flapped: (row["flapped"] as Int) != 0)
    }

    /// The history older than `before`: coverage spans that ended before it, alert episodes
    /// resolved before it, acknowledgements that ended before it, and the facts of devices the
    /// status log no longer names.
    static func pruneFactsCoverageAndEpisodes(before cutoff: Double, in db: Database) throws -> Int {
        try db.execute(sql: "DELETE FROM coverage WHERE ended_at < ?", arguments: [cutoff])
        var count = db.changesCount
        try db.execute(sql: "DELETE FROM alert_history WHERE resolved_at < ?", arguments: [cutoff])
        count += db.changesCount
        try db.execute(sql: "DELETE FROM acknowledgements WHERE ends_at < ?", arguments: [cutoff])
        count += db.changesCount
        try db.execute(
            sql: """
                DELETE FROM device_facts WHERE NOT EXISTS (
                  SELECT 1 FROM device_status_log AS log
                  WHERE log.workspace = device_facts.workspace AND log.device_id = device_facts.device_id)
                """)
        return count + db.changesCount
    }
}
