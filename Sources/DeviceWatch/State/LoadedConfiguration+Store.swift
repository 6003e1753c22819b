import DeviceWatchCore
import Foundation

extension LoadedConfiguration {
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
