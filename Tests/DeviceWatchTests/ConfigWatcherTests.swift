import DeviceWatchCore
import Foundation
import Synchronization
import Testing

@testable import DeviceWatch

/// The config watcher on real files: edits, symlink swaps (as Kubernetes updates a ConfigMap),
/// new rule files, bad edits.
@Suite("ConfigWatcher")
struct ConfigWatcherTests {
    final class Applied: Sendable {
        let rules = Mutex<[[String]]>([])
        var last: [String]? { rules.withLock { $0.last } }
        var count: Int { rules.withLock { $0.count } }
    }

    static func rules(_ ids: [String]) -> String {
        #"{"rules": ["# + ids.map { #"{"id": "\#($0)", "when": {"offline_for": "15m"}}"# }.joined(separator: ",") + "]}"
    }

    /// A folder with `devicewatch.json` and `rules/` (a symlink to `v1/`, as a ConfigMap mounts it).
    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-watch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/v1", withIntermediateDirectories: true)
        try #"{"workspaces": [{"id": "acme"}], "rule_files": ["rules/*.json"]}"#.write(
            toFile: dir + "/devicewatch.json", atomically: true, encoding: .utf8)
        try rules(["a"]).write(toFile: dir + "/v1/fleet.json", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/rules", withDestinationPath: "v1")
        return dir
    }

    static func watcher(_ dir: String, applied: Applied, fail: Bool = false) throws -> ConfigWatcher {
        let loaded = try ConfigurationLoader.load(configPath: dir + "/devicewatch.json")
        return ConfigWatcher(loaded: loaded, logger: .init(label: "test")) { reloaded in
            if fail { throw ReceiverSetupError(receiver: "x", problem: "cannot be built") }
            applied.rules.withLock { $0.append(reloaded.rules.rules.map(\.id)) }
        }
    }

    @Test func nothingChangedMeansNoReload() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let applied = Applied()
        let watcher = try Self.watcher(dir, applied: applied)
        await watcher.check()
        #expect(applied.count == 0)
    }

    @Test func aSymlinkSwapOfTheRulesFolderIsNoticed() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let applied = Applied()
        let watcher = try Self.watcher(dir, applied: applied)
        try FileManager.default.createDirectory(atPath: dir + "/v2", withIntermediateDirectories: true)
        try Self.rules(["a", "b"]).write(toFile: dir + "/v2/fleet.json", atomically: true, encoding: .utf8)
        // Atomic swap, as the kubelet does: a new link renamed over the old one.
        try FileManager.default.createSymbolicLink(atPath: dir + "/rules.new", withDestinationPath: "v2")
        #expect(rename(dir + "/rules.new", dir + "/rules") == 0)
        await watcher.check()
        #expect(applied.last == ["a", "b"])
        #expect(await watcher.status.succeeded)
    }

    @Test func aConfigFileThatIsASymlinkIsFollowed() async throws {
        // A ConfigMap mount: devicewatch.json -> ..data/devicewatch.json, ..data -> ..v1; an update swaps ..data.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dw-watch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (version, ids) in [("..v1", ["a"]), ("..v2", ["a", "z"])] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(version)", withIntermediateDirectories: true)
            try Self.rules(ids).write(toFile: "\(dir)/\(version)/rules.json", atomically: true, encoding: .utf8)
        }
        try #"{"workspaces": [{"id": "acme"}], "rule_files": ["rules.json"]}"#.write(
            toFile: dir + "/..v1/devicewatch.json", atomically: true, encoding: .utf8)
        try #"{"workspaces": [{"id": "acme"}], "rule_files": ["rules.json"]}"#.write(
            toFile: dir + "/..v2/devicewatch.json", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/..data", withDestinationPath: "..v1")
        try FileManager.default.createSymbolicLink(
            atPath: dir + "/devicewatch.json", withDestinationPath: "..data/devicewatch.json")
        try FileManager.default.createSymbolicLink(
            atPath: dir + "/rules.json", withDestinationPath: "..data/rules.json")
        let applied = Applied()
        let watcher = try Self.watcher(dir, applied: applied)
        try FileManager.default.createSymbolicLink(atPath: dir + "/..data.new", withDestinationPath: "..v2")
        #expect(rename(dir + "/..data.new", dir + "/..data") == 0)
        await watcher.check()
        #expect(applied.last == ["a", "z"])
    }

    @Test func aNewRuleFileBesideTheOthersIsNoticed() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let applied = Applied()
        let watcher = try Self.watcher(dir, applied: applied)
        try Self.rules(["c"]).write(toFile: dir + "/v1/more.json", atomically: true, encoding: .utf8)
        await watcher.check()
        #expect(applied.last.map(Set.init) == ["a", "c"])
    }

    @Test func aBadEditIsReportedWithEveryProblemAndNotApplied() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let applied = Applied()
        let watcher = try Self.watcher(dir, applied: applied)
        try #"{"rules": [{"id": "a", "when": {"ofline_for": "15m"}}]}"#.write(
            toFile: dir + "/v1/fleet.json", atomically: true, encoding: .utf8)
        await watcher.check()
        #expect(applied.count == 0)
        let status = await watcher.status
        #expect(!status.succeeded)
        #expect(status.problems.count == 1)
        #expect(status.problems.first?.contains("did you mean \"offline_for\"") == true)
    }

    @Test func aConfigurationThatCannotBePutToWorkCountsAsAFailedReload() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let watcher = try Self.watcher(dir, applied: Applied(), fail: true)
        await watcher.check(force: true)
        let status = await watcher.status
        #expect(!status.succeeded)
        #expect(status.problems.first?.contains("cannot be built") == true)
    }
}
