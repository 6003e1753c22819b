// Writes the simulator's 100,000-device list body to a file, so the decode benchmarks measure
// decoding alone (not the generation of their input) in time and in peak memory.
import DeviceAPISimulator
import DeviceWatchCore
import Foundation

let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ".build/fleet-100k.json"
let start = Timestamp.parse("2026-11-28T12:00:00Z")!
let generator = FleetGenerator(
    count: 100_000, prefix: "gen", tagSets: [["production", "site-a"], ["production", "site-b"], ["staging"]],
    offlineFraction: 0.05, unknownFraction: 0.02, rfdmVersions: ["1.2.3", "1.4.0", "1.10.0"])
struct Body: Encodable { var data: [Device] }
let body = try JSONEncoder().encode(Body(data: generator.devices(start: start, seed: 1).map { $0.snapshot(at: start) }))
try body.write(to: URL(fileURLWithPath: path))
print("wrote \(body.count) bytes (\(body.count / 1_000_000) MB) to \(path)")
