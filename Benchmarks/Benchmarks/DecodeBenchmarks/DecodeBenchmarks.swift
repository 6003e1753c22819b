import Benchmark
import DeviceAPISimulator
import DeviceWatchCore
import Foundation

/// The 100,000-device list body, as the simulator serves it.
let fleetBody: Data = {
    let start = Timestamp.parse("2026-11-28T12:00:00Z")!
    let generator = FleetGenerator(
        count: 100_000, prefix: "gen", tagSets: [["production", "site-a"], ["production", "site-b"], ["staging"]],
        offlineFraction: 0.05, unknownFraction: 0.02, rfdmVersions: ["1.2.3", "1.4.0", "1.10.0"])
    let devices = generator.devices(start: start, seed: 1).map { $0.snapshot(at: start) }
    struct Body: Encodable { var data: [Device] }
    return try! JSONEncoder().encode(Body(data: devices))
}()

/// The baseline: the same body into plain `String?` fields with synthesized decoding:
/// no date parsing, no tolerance.
struct PlainDevice: Decodable {
    var id: String?
    var name: String?
    var status: String?
    var last_heartbeat: String?
    var platform: String?
    var platform_release: String?
    var platform_version: String?
    var architecture: String?
    var hostname: String?
    var rfdm_version: String?
    var type: String?
    var hardware: PlainHardware?
    var tags: [String]?
    var created_at: String?
}

struct PlainHardware: Decodable {
    var processor: String?
    var gpu: String?
    var total_memory_mb: Double?
    var total_disk_space_mb: Double?
}

struct PlainList: Decodable {
    var data: [PlainDevice]
}

let benchmarks: @Sendable () -> Void = {
    let body = fleetBody
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 15)

    Benchmark("decode 100k devices: plain String? struct (baseline)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try JSONDecoder().decode(PlainList.self, from: body).data.count)
        }
    }

    Benchmark("decode 100k devices: Device model (tolerant, dates parsed)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try DeviceListDecoder.decodeList(body).devices.count)
        }
    }

    Benchmark("parse 100k timestamps (fixed-format scanner)", configuration: configuration) { benchmark in
        let texts = (0..<100_000).map { Timestamp.format(Date(timeIntervalSince1970: 1_795_867_200 - Double($0) * 37)) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var sum = 0.0
            for text in texts { sum += Timestamp.parse(text)?.timeIntervalSince1970 ?? 0 }
            blackHole(sum)
        }
    }
}
