import DeviceWatchCore
import Foundation
import Logging
import PostgresNIO

/// The device status log in PostgreSQL: a row per change, read by window, pruned by age.
extension PostgresStateStore {
    /// Each listed device's newest status, per workspace (nil: every workspace); a device whose
    /// newest row is `gone` is not listed.
    static func latestStatuses(_ db: PostgresConnection, workspace: String?, logger: Logger) async throws
        -> [String: [String: DeviceStatus]]
    {
        var statuses: [String: [String: DeviceStatus]] = [:]
        for try await (workspace, device, status) in try await db.query(
            """
            SELECT DISTINCT ON (workspace, device_id) workspace, device_id, status FROM device_status_log
            WHERE \(workspace)::text IS NULL OR workspace = \(workspace)
            ORDER BY workspace, device_id, at DESC
            """, logger: logger
        ).decode((String, String, String).self) where status != StatusChange.gone {
            statuses[workspace, default: [:]][device] = DeviceStatus(rawValue: status)
        }
        return statuses
    }

    public func statusLog(_ query: StatusLogQuery) async throws(StateStoreError) -> StatusHistory {
        let workspace = query.workspace, device = query.deviceID
        let since = query.since?.timeIntervalSince1970, until = query.until?.timeIntervalSince1970
        let order = query.byDevice ? "workspace, device_id, at" : "at, workspace, device_id"
        return try await connection { db in
            var history = StatusHistory()
            if let since {
                for try await row in try await db.query(
                    """
                    SELECT DISTINCT ON (workspace, device_id) workspace, device_id, status, at FROM device_status_log
                    WHERE (\(workspace)::text IS NULL OR workspace = \(workspace))
                      AND (\(device)::text IS NULL OR device_id = \(device)) AND at < \(since)
                    ORDER BY workspace, device_id, at DESC
                    """, logger: self.logger
                ).decode((String, String, String, Double).self) where row.2 != StatusChange.gone {
                    history.atStart.append(Self.statusChange(row))
                }
            }
            for try await row in try await db.query(
                """
                SELECT workspace, device_id, status, at FROM device_status_log
                WHERE (\(workspace)::text IS NULL OR workspace = \(workspace))
                  AND (\(device)::text IS NULL OR device_id = \(device))
                  AND (\(since)::float8 IS NULL OR at >= \(since)) AND (\(until)::float8 IS NULL OR at < \(until))
                ORDER BY \(unescaped: order)
                """, logger: self.logger
            ).decode((String, String, String, Double).self) {
                history.changes.append(Self.statusChange(row))
            }
            return history
        }
    }

    private static func statusChange(_ row: (String, String, String, Double)) -> StatusChange {
        StatusChange(workspace: row.0, deviceID: row.1, statusText: row.2, at: Date(timeIntervalSince1970: row.3))
    }

    public func pruneHistory(before cutoff: Date) async throws(StateStoreError) -> Int {
        let cutoff = cutoff.timeIntervalSince1970
        return try await transaction { db in
            // As in SQLite: a row before the cutoff goes when a later one is also before it, and
            // a `gone` row once it is before the cutoff.
            let rows = try await db.query(
                """
                WITH gone AS (
                  DELETE FROM device_status_log AS old
                  WHERE at < \(cutoff) AND (status = 'gone' OR EXISTS (
                    SELECT 1 FROM device_status_log AS later
                    WHERE later.workspace = old.workspace AND later.device_id = old.device_id
                      AND later.at > old.at AND later.at < \(cutoff)))
                  RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: self.logger
            ).collect()
            // After the status log: a device whose rows all went loses its facts in this statement.
            let others = try await Self.pruneFactsCoverageAndEpisodes(before: cutoff, in: db, logger: self.logger)
            return (try rows.first?.decode(Int.self) ?? 0) + others
        }
    }
}
