// swift-tools-version:6.1
// Benchmarks live in their own package so the main build stays lean.
import PackageDescription

/// A package-benchmark suite in Benchmarks/NAME, using these products of devicewatch.
func benchmark(_ name: String, uses products: [String], also: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: [.product(name: "Benchmark", package: "benchmark")]
            + products.map { .product(name: $0, package: "devicewatch") } + also,
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "devicewatch-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "devicewatch", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "FleetBody",
            dependencies: [
                .product(name: "DeviceWatchCore", package: "devicewatch"),
                .product(name: "DeviceAPISimulator", package: "devicewatch"),
            ],
            path: "Sources/FleetBody"
        ),
        // The dispatcher alone over an outbox backlog (Benchmarks/outbox-backlog drives it).
        .executableTarget(
            name: "OutboxBacklog",
            dependencies: [
                .product(name: "DeviceWatchCore", package: "devicewatch"),
                .product(name: "DeviceWatch", package: "devicewatch"),
                .product(name: "CurlHTTP", package: "devicewatch"),
            ],
            path: "Sources/OutboxBacklog"
        ),
        benchmark("DecodeBenchmarks", uses: ["DeviceWatchCore"]),
        benchmark("EvaluateBenchmarks", uses: ["DeviceWatchCore", "DeviceAPISimulator"]),
        benchmark("FleetBenchmarks", uses: ["DeviceWatchCore"]),
        benchmark("HistoryBenchmarks", uses: ["DeviceWatchCore", "DeviceWatch"]),
        benchmark(
            "LifecycleBenchmarks", uses: ["DeviceWatchCore", "DeviceWatch"],
            also: [.product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
