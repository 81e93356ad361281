// swift-tools-version:6.1
import PackageDescription

/// One set of settings for every target: Swift 6 language mode (strict concurrency) plus the
/// upcoming features the house style asks for.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Imports are internal unless a file says `public import`: a module re-exports only what its public API needs.
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "TradesKit",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TradesKit", targets: ["TradesKit"]),
        .library(name: "TradesKitTesting", targets: ["TradesKitTesting"]),
        .library(name: "StorageSQLite", targets: ["StorageSQLite"]),
        .library(name: "StoragePostgres", targets: ["StoragePostgres"]),
        .library(name: "ReferenceServer", targets: ["ReferenceServer"]),
        .executable(name: "trades", targets: ["DevCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // The reference server. Hummingbird's default traits (swift-configuration, full Foundation) are not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", exact: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "TradesKit",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // SHA-256 for stored token hashes, HMAC-SHA1 for TOTP (RFC 6238), AES-GCM to seal TOTP secrets at rest.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TradesKitTesting",
            dependencies: ["TradesKit"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StorageSQLite",
            dependencies: [
                "TradesKit",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StoragePostgres",
            dependencies: [
                "TradesKit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Only for ConnectionPoolError (a failed lease), to report an unreachable server as `unavailable`.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReferenceServer",
            dependencies: [
                "TradesKit",
                "StorageSQLite",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DevCLI",
            dependencies: [
                "TradesKit",
                "TradesKitTesting",
                "StorageSQLite",
                "StoragePostgres",
                "ReferenceServer",
                "ProcessSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // HKDF: `serve` derives the key that seals TOTP secrets from the token secret when none is given.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                // The load generator of `trades bench http`: HTTP/1.1 keep-alive connections on SwiftNIO.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Waiting for child processes (wrk, pgbench, the benchmark's server; `trades` in tests); not a product.
        .target(name: "ProcessSupport", swiftSettings: swiftSettings),
        // What several test targets share (running the built `trades` executable); not a product.
        .target(name: "TestSupport", dependencies: ["ProcessSupport", "TradesKit"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "TradesKitTests",
            dependencies: ["TradesKit", "TradesKitTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MarketplaceTests",
            // GRDB: the CLI tests write a raw ledger row into the database file the command then checks.
            dependencies: [
                "TradesKit", "TradesKitTesting", "StorageSQLite", "TestSupport", "ProcessSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReferenceServerTests",
            dependencies: [
                "ReferenceServer", "TradesKit", "TradesKitTesting", "StorageSQLite", "TestSupport", "ProcessSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Unit tests of the `trades` command's own logic (the benchmark's reports); its behaviour as a program is tested
        // by running it (TestSupport).
        .testTarget(
            name: "DevCLITests",
            dependencies: ["DevCLI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageSQLiteTests",
            dependencies: ["StorageSQLite", "TradesKitTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoragePostgresTests",
            dependencies: [
                "StoragePostgres", "TradesKitTesting", "TestSupport", "ProcessSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Waiting for the conformance suite in TradesKitTesting.
            swiftSettings: swiftSettings
        ),
    ]
)
