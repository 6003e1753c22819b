import Benchmark
import DeviceWatchCore
import Foundation

/// The simulator's 100,000-device list body, written by `swift run -c release FleetBody` (`make bench` does).
let fleetBody: Data = {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/fleet-100k.json")
    guard let body = try? Data(contentsOf: path) else {
        fatalError("\(path.path) is missing: run `swift run -c release FleetBody` in Benchmarks/ (make bench does)")
    }
    return body
}()

/// The baseline: the same body into plain `String?` fields with synthesized decoding:
/// no date parsing, no tolerance. The names are the API's keys, so no CodingKeys stand in between.
// swift-format-ignore: AlwaysUseLowerCamelCase
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

// swift-format-ignore: AlwaysUseLowerCamelCase
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
