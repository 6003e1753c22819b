// swift-tools-version:6.1
// Benchmarks live in their own package so the main build stays lean.
import PackageDescription

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
        .executableTarget(
            name: "DecodeBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DeviceWatchCore", package: "devicewatch"),
            ],
            path: "Benchmarks/DecodeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EvaluateBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DeviceWatchCore", package: "devicewatch"),
                .product(name: "DeviceAPISimulator", package: "devicewatch"),
            ],
            path: "Benchmarks/EvaluateBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "LifecycleBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DeviceWatchCore", package: "devicewatch"),
                .product(name: "DeviceWatch", package: "devicewatch"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/LifecycleBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
