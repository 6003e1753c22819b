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
        .target(name: "DeviceWatchCore", dependencies: [.mustache, .crypto]),
        // The shell: Devices API client, services, stores, receivers.
        .target(
            name: "DeviceWatch",
            dependencies: [
                "CurlHTTP", "DeviceWatchCore", .logging, .mustache, .grdb, .crypto, .serviceLifecycle, .unixSignals,
                // The PostgreSQL state store, for several workers on one database.
                .postgresNIO, .nioSSL,
                // The ops server: health, metrics, the alerts/silences API and the status page.
                .hummingbird, .metrics, .prometheus,
            ]
        ),
        // A faithful stand-in for the Deployment Manager Devices API.
        .target(
            name: "DeviceAPISimulator",
            dependencies: ["DeviceWatchCore", .hummingbirdCore, .nioCore, .nioPosix, .serviceLifecycle, .logging]),
        // `devicewatch test`: rule test files, run through the worker's own cycle. Devices are
        // described in the simulator's scenario form, so the worker library needs no simulator.
        .target(name: "RuleTesting", dependencies: ["DeviceWatch", "DeviceWatchCore", "DeviceAPISimulator"]),
        .executableTarget(
            name: "devicewatch",
            dependencies: [
                "CMalloc", "RuleTesting", "DeviceWatch", "DeviceWatchCore", "DeviceAPISimulator",
                .argumentParser, .logging, .serviceLifecycle,
            ]),
        .testTarget(
            name: "CurlHTTPTests",
            dependencies: ["CurlHTTP", "DeviceAPISimulator", "TestSupport", .hummingbirdCore, .nioCore]),
        .testTarget(
            name: "DeviceWatchCoreTests", dependencies: ["DeviceWatchCore", .propertyBased],
            resources: [.copy("Fixtures")]),
        // Test helpers: the throwaway PostgreSQL cluster (initdb and pg_ctl on a free loopback port)
        // and loopback sockets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "DeviceWatchTests",
            dependencies: [
                "DeviceWatch", "DeviceAPISimulator", "CurlHTTP", "TestSupport", .crypto, .hummingbirdCore, .logging,
                // A second connection to the state file, holding its write lock.
                .grdb,
                // The contract suite's PostgreSQL database, reached from outside the store.
                .postgresNIO,
            ],
            // Golden payloads are read by path (#filePath), not bundled.
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "DeviceAPISimulatorTests", dependencies: ["DeviceAPISimulator", "DeviceWatchCore", "CurlHTTP"]),
        .testTarget(
            name: "devicewatchTests",
            dependencies: [
                "DeviceAPISimulator", "CurlHTTP", "DeviceWatch", "DeviceWatchCore", "TestSupport", .crypto,
                .hummingbirdCore, .nioCore,
            ]),
    ],
    swiftLanguageModes: [.v6]
)

/// The library products the targets use, each named once.
extension Target.Dependency {
    static let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
    static let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
    static let hummingbirdCore: Target.Dependency = .product(name: "HummingbirdCore", package: "hummingbird")
    static let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
    static let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
    static let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
    static let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
    static let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
    static let mustache: Target.Dependency = .product(name: "Mustache", package: "swift-mustache")
    static let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
    static let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
    static let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
    static let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
    static let propertyBased: Target.Dependency = .product(name: "PropertyBased", package: "swift-property-based")
    static let serviceLifecycle: Target.Dependency = .product(
        name: "ServiceLifecycle", package: "swift-service-lifecycle")
    static let unixSignals: Target.Dependency = .product(name: "UnixSignals", package: "swift-service-lifecycle")
}
