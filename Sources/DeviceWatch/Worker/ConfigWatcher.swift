import DeviceWatchCore
import Foundation
import Logging

/// Watches the configuration, rule and template files (every few seconds, and on SIGHUP) and
/// applies a changed configuration only once it validates in full; a bad edit keeps the last good
/// one and logs every problem.
public actor ConfigWatcher {
    private let path: String
    private var stamps: [String: Date]
    private let logger: Logger
    private let apply: @Sendable (LoadedConfiguration) async throws -> Void
    /// The latest load's outcome, for `/readyz` and metrics.
    public private(set) var status: ReloadStatus

    /// - Parameter apply: puts a validated configuration to work; if it throws, the reload counts as failed.
    public init(loaded: LoadedConfiguration, logger: Logger, apply: @escaping @Sendable (LoadedConfiguration) async throws -> Void) {
        path = loaded.file
        stamps = Self.stamps(of: loaded)
        self.logger = logger
        self.apply = apply
        status = ReloadStatus(succeeded: true, at: Date())
    }

    static func stamps(of loaded: LoadedConfiguration) -> [String: Date] {
        var files = [loaded.file] + loaded.ruleFiles
        files += loaded.configuration.receivers.values.compactMap(\.template).map(loaded.resolve)
        var result: [String: Date] = [:]
        for file in files {
            result[file] = (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? .distantPast
        }
        return result
    }

    /// Reloads when a watched file changed (or when `force`, for SIGHUP).
    public func check(force: Bool = false) async {
        let current = stamps.keys.reduce(into: [String: Date]()) { result, file in
            result[file] = (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? .distantPast
        }
        guard force || current != stamps else { return }
        stamps = current
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(configPath: path)
        } catch {
            status = ReloadStatus(succeeded: false, at: Date(), problems: error.diagnostics.map(\.description))
            logger.error("the new configuration has \(error.diagnostics.count) problem(s); still running on the last good one")
            for diagnostic in error.diagnostics { logger.error("\(diagnostic)") }
            return
        }
        stamps = Self.stamps(of: loaded)
        do {
            try await apply(loaded)
        } catch {
            status = ReloadStatus(succeeded: false, at: Date(), problems: ["\(error)"])
            logger.error("the new configuration cannot be put to work; still running on the last good one: \(error)")
            return
        }
        status = ReloadStatus(succeeded: true, at: Date())
        logger.info("configuration reloaded", metadata: ["rules": "\(loaded.rules.rules.count)"])
    }
}
