import DeviceWatchCore
import Foundation

extension LoadedConfiguration {
    /// The state store only if it already exists (for read-only commands such as `eval`).
    public func existingStore() throws(StateStoreError) -> (any StateStore)? {
        guard case .sqlite(let path) = configuration.state, FileManager.default.fileExists(atPath: resolve(path)) else {
            return nil
        }
        return try openStore()
    }

    /// Opens the configured state store (created on first use).
    public func openStore() throws(StateStoreError) -> any StateStore {
        switch configuration.state {
        case .sqlite(let path):
            return try SQLiteStateStore(path: resolve(path))
        case .postgres(let variable):
            throw StateStoreError(
                kind: .unavailable, path: "postgres (\(variable))",
                detail: "the PostgreSQL store is not available in this version; use {\"sqlite\": PATH}")
        }
    }
}
