import DeviceWatchCore
import Foundation

extension LoadedConfiguration {
    /// The state store only if it already exists (for read-only commands such as `eval`): a
    /// SQLite file that is there, or the PostgreSQL database.
    public func existingStore() async throws(StateStoreError) -> (any StateStore)? {
        if case .sqlite(let path) = configuration.state, !FileManager.default.fileExists(atPath: resolve(path)) {
            return nil
        }
        return try await openStore()
    }

    /// Opens the configured state store (created and migrated on first use).
    public func openStore() async throws(StateStoreError) -> any StateStore {
        switch configuration.state {
        case .sqlite(let path):
            return try SQLiteStateStore(path: resolve(path))
        case .postgres(let reference, _):
            let url: Secret
            do {
                url = try secret(reference)
            } catch {
                throw StateStoreError(
                    kind: .unavailable, path: "postgres",
                    detail: "the connection URL cannot be read from the \(reference): \(error)")
            }
            return try await PostgresStateStore(url: url)
        }
    }
}
