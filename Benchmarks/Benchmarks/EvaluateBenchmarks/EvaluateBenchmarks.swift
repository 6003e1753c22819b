import Benchmark
import DeviceAPISimulator
import DeviceWatchCore
import Foundation

/// 100,000 devices of the simulator's generator against 20 rules of mixed conditions.
let now = Timestamp.parse("2026-11-28T12:00:00Z")!

let fleet: [Device] = FleetGenerator(
    count: 100_000, prefix: "gen",
    tagSets: [["production", "site-a"], ["production", "site-b"], ["staging"], ["lab-3", "retired"]],
    offlineFraction: 0.05, unknownFraction: 0.02, rfdmVersions: ["1.2.3", "1.4.0", "1.10.0", "nightly"]
).devices(start: now, seed: 1).map { $0.snapshot(at: now) }

let ruleText = """
    {"rules": [
      {"id": "r01", "where": {"tags": {"all_of": ["production"], "none_of": ["retired"]}}, "when": {"offline_for": "15m"}},
      {"id": "r02", "where": {"tags": {"all_of": ["staging"]}}, "when": {"offline_for": "1h"}},
      {"id": "r03", "where": {"tags": {"none_of": ["retired"]}}, "when": {"unknown_for": "30m"}},
      {"id": "r04", "when": {"rfdm_version_below": "1.0.0"}},
      {"id": "r05", "where": {"any": [{"type": "jetson"}, {"architecture": "aarch64"}], "not": {"tags": {"any_of": ["lab-*", "retired"]}}}, "when": {"offline_for": "30m"}},
      {"id": "r06", "where": {"tags": {"any_of": ["site-*"]}}, "when": {"status": ["offline", "unknown"], "offline_for": "2d"}},
      {"id": "r07", "where": {"name": "gen device 1????"}, "when": {"offline_for": "3d"}},
      {"id": "r08", "where": {"hostname": ["gen-host-99*", "gen-host-42"]}, "when": {"status": "offline"}},
      {"id": "r09", "where": {"type": "x86"}, "when": {"offline_for": "7d"}},
      {"id": "r10", "where": {"platform": "Linux"}, "when": {"all": [{"offline_for": "5d"}, {"rfdm_version_below": "1.4.0"}]}},
      {"id": "r11", "where": {"tags": {"all_of": ["production", "site-a"]}}, "when": {"offline_for": "4d"}},
      {"id": "r12", "where": {"tags": {"all_of": ["production", "site-b"]}}, "when": {"offline_for": "4d"}},
      {"id": "r13", "when": {"unknown_for": "90d"}},
      {"id": "r14", "where": {"architecture": "x86_64"}, "when": {"rfdm_version_below": "1.0.0"}},
      {"id": "r15", "where": {"not": {"tags": {"any_of": ["production", "staging"]}}}, "when": {"offline_for": "6d"}},
      {"id": "r16", "where": {"id": "gen-0000?"}, "when": {"status": "unknown"}},
      {"id": "r17", "when": {"any": [{"offline_for": "10d"}, {"unknown_for": "100d"}]}},
      {"id": "r18", "where": {"tags": {"any_of": ["lab-*"]}}, "when": {"offline_for": "8d"}},
      {"id": "r19", "where": {"type": ["raspberry-pi"]}, "when": {"offline_for": "9d"}},
      {"id": "r20", "where": {"tags": {"all_of": ["staging"]}}, "when": {"rfdm_version_below": "0.1"}}
    ]}
    """

let ruleSet: RuleSet = {
    let (rules, diagnostics) = RuleParser.parse(ruleText, file: "bench.json")
    precondition(diagnostics.isEmpty && rules.count == 20, "\(diagnostics)")
    return RuleSet(rules)
}()

let benchmarks: @Sendable () -> Void = {
    let devices = fleet
    let rules = ruleSet
    let findings = rules.evaluate(workspace: "bench", devices: devices, at: now).findings.count
    Benchmark(
        "evaluate 100k devices x 20 rules (\(findings) findings)",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .mallocCountTotal], timeUnits: .milliseconds, maxDuration: .seconds(20),
            maxIterations: 30)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(rules.evaluate(workspace: "bench", devices: devices, at: now).findings.count)
        }
    }
}
