import DeviceWatchCore
import Foundation
import GRDB

/// The device status log in SQLite: a row per change, read by window, pruned by age.
extension SQLiteStateStore {
    /// Each listed device's newest status, per workspace (a device whose newest row is `gone` is
    /// not listed): what the next poll compares with.
    static func latestStatuses(_ db: Database) throws -> [String: [String: DeviceStatus]] {
        var statuses: [String: [String: DeviceStatus]] = [:]
        // SQLite's bare columns with max(): the status of the row holding each device's newest time.
        for row in try Row.fetchAll(
            db,
            sql: "SELECT workspace, device_id, status, max(at) FROM device_status_log GROUP BY workspace, device_id")
        {
            let status: String = row["status"]
            guard status != StatusChange.gone else { continue }
            statuses[row["workspace"], default: [:]][row["device_id"]] = DeviceStatus(rawValue: status)
        }
        return statuses
    }

    public func statusLog(_ query: StatusLogQuery) async throws(StateStoreError) -> StatusHistory {
        try await read { db in
            let scope = "(:workspace IS NULL OR workspace = :workspace) AND (:device IS NULL OR device_id = :device)"
            let arguments: StatementArguments = [
                "workspace": query.workspace, "device": query.deviceID,
                "since": query.since?.timeIntervalSince1970, "until": query.until?.timeIntervalSince1970,
            ]
            var history = StatusHistory()
            if query.since != nil {
                history.atStart = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT workspace, device_id, status, max(at) AS at FROM device_status_log
                        WHERE \(scope) AND at < :since GROUP BY workspace, device_id ORDER BY workspace, device_id
                        """, arguments: arguments
                ).map(Self.statusChange).filter { $0.status != nil }
            }
            // A cursor reuses one row, read by column index: a month of a large fleet is a million rows.
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT workspace, device_id, status, at FROM device_status_log
                    WHERE \(scope) AND (:since IS NULL OR at >= :since) AND (:until IS NULL OR at < :until)
                    ORDER BY \(query.byDevice ? "workspace, device_id, at" : "at, workspace, device_id")
                    """, arguments: arguments)
            var statuses: [String: DeviceStatus?] = [:]
            while let row = try rows.next() {
                let text: String = row[2]
                let status =
                    statuses[text]
                    ?? {
                        let parsed = text == StatusChange.gone ? nil : DeviceStatus(rawValue: text)
                        statuses[text] = .some(parsed)
                        return parsed
                    }()
                history.changes.append(
                    StatusChange(
                        workspace: row[0], deviceID: row[1], status: status, at: Date(timeIntervalSince1970: row[3])))
            }
            return history
        }
    }

    private static func statusChange(_ row: Row) -> StatusChange {
        StatusChange(
            workspace: row["workspace"], deviceID: row["device_id"], statusText: row["status"],
            at: Date(timeIntervalSince1970: row["at"]))
    }

    public func pruneHistory(before cutoff: Date) async throws(StateStoreError) -> Int {
        try await write { db in
            // A row before the cutoff goes when a later row is also before it (the later one says
            // the status at the cutoff), and a `gone` row goes once it is before the cutoff.
            try db.execute(
                sql: """
                    DELETE FROM device_status_log
                    WHERE at < :cutoff AND (status = 'gone' OR EXISTS (
                      SELECT 1 FROM device_status_log AS later
                      WHERE later.workspace = device_status_log.workspace
                        AND later.device_id = device_status_log.device_id
                        AND later.at > device_status_log.at AND later.at < :cutoff))
                    """, arguments: ["cutoff": cutoff.timeIntervalSince1970])
            let statusRows = db.changesCount
            return statusRows + (try Self.pruneFactsCoverageAndEpisodes(before: cutoff.timeIntervalSince1970, in: db))
        }
    }
}
