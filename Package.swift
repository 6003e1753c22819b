// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "devicewatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "devicewatch", targets: ["devicewatch"]),
        .library(name: "DeviceWatchCore", targets: ["DeviceWatchCore"]),
        .library(name: "DeviceWatch", targets: ["DeviceWatch"]),
        .library(name: "DeviceAPISimulator", targets: ["DeviceAPISimulator"]),
        .library(name: "CurlHTTP", targets: ["CurlHTTP"]),
        .library(name: "RuleTesting", targets: ["RuleTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // libcurl, found by pkg-config, with typed non-variadic setopt wrappers (shim.h).
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // glibc's mallopt, for the worker's one-arena setting (devicewatch/MallocTuning.swift).
        .systemLibrary(name: "CMalloc"),
        // The one HTTP client: libcurl's multi interface driven by one thread.
        .target(name: "CurlHTTP", dependencies: ["CCurl"]),
        // Pure domain: devices, rules, evaluation. No clocks, files, network or logging.
        .target(
            name: "DeviceWatchCore",
            dependencies: [
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The shell: Devices API client, services, stores, receivers.
        .target(
            name: "DeviceWatch",
            dependencies: [
                "CurlHTTP",
                "DeviceWatchCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // The PostgreSQL state store, for several workers on one database.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // The ops server: health, metrics, the alerts/silences API and the status page.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // A faithful stand-in for the Deployment Manager Devices API.
        .target(
            name: "DeviceAPISimulator",
            dependencies: [
                "DeviceWatchCore",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `devicewatch test`: rule test files, run through the worker's own cycle. Devices are
        // described in the simulator's scenario form, so the worker library needs no simulator.
        .target(name: "RuleTesting", dependencies: ["DeviceWatch", "DeviceWatchCore", "DeviceAPISimulator"]),
        .executableTarget(
            name: "devicewatch",
            dependencies: [
                "CMalloc",
                "RuleTesting",
                "DeviceWatch",
                "DeviceWatchCore",
                "DeviceAPISimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "CurlHTTPTests",
            dependencies: [
                "CurlHTTP",
                "DeviceAPISimulator",
                "TestSupport",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "DeviceWatchCoreTests",
            dependencies: ["DeviceWatchCore", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")]
        ),
        // Test helpers: the throwaway PostgreSQL cluster (initdb and pg_ctl on a free loopback port)
        // and loopback sockets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "DeviceWatchTests",
            dependencies: [
                "DeviceWatch", "DeviceAPISimulator", "CurlHTTP", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                // A second connection to the state file, holding its write lock.
                .product(name: "GRDB", package: "GRDB.swift"),
                // The contract suite's PostgreSQL database, reached from outside the store.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Golden payloads are read by path (#filePath), not bundled.
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "DeviceAPISimulatorTests", dependencies: ["DeviceAPISimulator", "DeviceWatchCore", "CurlHTTP"]),
        .testTarget(
            name: "devicewatchTests",
            dependencies: [
                "DeviceAPISimulator", "CurlHTTP", "DeviceWatch", "DeviceWatchCore", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
