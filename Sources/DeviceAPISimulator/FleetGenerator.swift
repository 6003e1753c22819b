import DeviceWatchCore
import Foundation

/// Deterministic fleets for scale tests and benchmarks: the scenario's `generate` object.
public struct FleetGenerator: Sendable, Equatable {
    public var count: Int
    public var prefix: String
    public var tagSets: [[String]]
    public var offlineFraction: Double
    public var unknownFraction: Double
    public var rfdmVersions: [String]

    public init(
        count: Int, prefix: String = "gen", tagSets: [[String]] = [["production"]], offlineFraction: Double = 0.05,
        unknownFraction: Double = 0.02, rfdmVersions: [String] = ["1.2.3", "1.4.0"]
    ) {
        self.count = count
        self.prefix = prefix
        self.tagSets = tagSets
        self.offlineFraction = offlineFraction
        self.unknownFraction = unknownFraction
        self.rfdmVersions = rfdmVersions
    }

    static let keys: Set<String> = [
        "count", "prefix", "tag_sets", "offline_fraction", "unknown_fraction", "rfdm_versions",
    ]

    init(_ cursor: JSONCursor) throws {
        let fields = try cursor.object(allowing: Self.keys)
        guard let count = fields["count"] else { throw cursor.fail("\"generate\" needs a \"count\"") }
        self.init(
            count: try count.integer(in: 0...5_000_000), prefix: try fields["prefix"]?.string() ?? "gen",
            tagSets: try fields["tag_sets"]?.array().map { try $0.strings() } ?? [["production"]],
            offlineFraction: try fields["offline_fraction"]?.fraction() ?? 0.05,
            unknownFraction: try fields["unknown_fraction"]?.fraction() ?? 0.02,
            rfdmVersions: try fields["rfdm_versions"]?.strings() ?? ["1.2.3", "1.4.0"])
        if offlineFraction + unknownFraction > 1 {
            throw cursor.fail("offline_fraction plus unknown_fraction is more than 1")
        }
    }

    /// The generated devices; the same seed and start always give the same fleet.
    public func devices(start: Date, seed: UInt64) -> [SimulatedDevice] {
        var random = SeededRandom(seed: seed ^ 0xD1CE_F1EE7)
        let width = max(5, String(count).count)
        let types = ["jetson", "jetson", "raspberry-pi", "x86"]
        return (0..<count).map { index in
            let number = String(index + 1)
            let id = "\(prefix)-" + String(repeating: "0", count: width - number.count) + number
            let draw = random.unit()
            let created = start.addingTimeInterval(-86_400 * (1 + 60 * random.unit()))
            let phase = 30 * random.unit()
            let online: [SimulatedDevice.OnlineInterval]
            if draw < unknownFraction {
                online = []
            } else if draw < unknownFraction + offlineFraction {
                // Went offline between 10 minutes and 2 days ago.
                let wentOffline = start.addingTimeInterval(-(600 + 172_800 * random.unit()))
                online = [.init(from: created.addingTimeInterval(phase), until: wentOffline)]
            } else {
                online = [.init(from: created.addingTimeInterval(phase), until: nil)]
            }
            let type = types[Int(random.next() % UInt64(types.count))]
            return SimulatedDevice(
                id: id, name: "\(prefix) device \(index + 1)", type: type,
                tags: tagSets.isEmpty ? [] : tagSets[index % tagSets.count],
                rfdmVersion: rfdmVersions.isEmpty ? nil : rfdmVersions[Int(random.next() % UInt64(rfdmVersions.count))],
                hostname: "\(prefix)-host-\(index + 1)", platform: "Linux", platformRelease: "5.15.0",
                platformVersion: "#1 SMP", architecture: type == "x86" ? "x86_64" : "aarch64",
                hardware: Hardware(
                    processor: type == "x86" ? "x86_64" : "ARMv8", gpu: type == "jetson" ? "Orin" : nil,
                    totalMemoryMB: type == "jetson" ? 7982 : 4096, totalDiskSpaceMB: 57_000),
                createdAt: created, heartbeatEvery: 30, online: online)
        }
    }
}
