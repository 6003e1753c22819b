import DeviceWatchCore
import Foundation
import Logging

/// Watches the configuration, rule and template files (every few seconds, and on SIGHUP) and
/// applies a changed configuration only once it validates in full; a bad edit keeps the last good
/// one and logs every problem.
public actor ConfigWatcher {
    private let path: String
    private var stamps: [String: FileStamp]
    private let logger: Logger
    private let apply: @Sendable (LoadedConfiguration) async throws -> Void
    /// The latest load's outcome, for `/readyz` and metrics.
    public private(set) var status: ReloadStatus

    /// - Parameter apply: puts a validated configuration to work; if it throws, the reload counts as failed.
    public init(
        loaded: LoadedConfiguration, logger: Logger,
        apply: @escaping @Sendable (LoadedConfiguration) async throws -> Void
    ) {
        path = loaded.file
        stamps = Self.stamps(of: loaded)
        self.logger = logger
        self.apply = apply
        status = ReloadStatus(succeeded: true, at: Date())
    }

    /// What identifies each watched file's version. The folders holding rule files are watched
    /// too, so a rule file added beside the others (or a Kubernetes ConfigMap's symlink swap) is noticed.
    static func stamps(of loaded: LoadedConfiguration) -> [String: FileStamp] {
        var files = [loaded.file] + loaded.ruleFiles
        files += loaded.configuration.receivers.values.compactMap(\.template).map(loaded.resolve)
        files += Set(loaded.ruleFiles.map { ($0 as NSString).deletingLastPathComponent }).sorted()
        return Dictionary(files.map { ($0, FileStamp(path: $0)) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reloads when a watched file changed (or when `force`, for SIGHUP).
    public func check(force: Bool = false) async {
        let current = stamps.keys.reduce(into: [String: FileStamp]()) { result, file in
            result[file] = FileStamp(path: file)
        }
        guard force || current != stamps else { return }
        stamps = current
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(configPath: path)
        } catch {
            status = ReloadStatus(succeeded: false, at: Date(), problems: error.diagnostics.map(\.description))
            logger.error(
                "the new configuration has \(error.diagnostics.count) problem(s); still running on the last good one")
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

/// A file's version as `stat` sees it through symlinks: modification time, inode and size, so an
/// edit within the same second, an atomic rename and a symlink swap all count as changes.
struct FileStamp: Equatable, Sendable {
    var seconds: Int
    var nanoseconds: Int
    var inode: UInt64
    var size: Int64

    /// A missing file has the stamp of zeroes: its appearance is a change too.
    init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            (seconds, nanoseconds, inode, size) = (0, 0, 0, 0)
            return
        }
        seconds = Int(info.st_mtim.tv_sec)
        nanoseconds = Int(info.st_mtim.tv_nsec)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
    }
}
