// swift-tools-version:6.0
// Switchyard: a Swift node daemon that meshes the pods of a Kubernetes node.
// The module map and who may import whom are in docs/architecture.md.
import PackageDescription

let package = Package(
    name: "Switchyard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchyard", targets: ["switchyard"]),
        .library(name: "SwitchyardModel", targets: ["SwitchyardModel"]),
        .library(name: "SwitchyardRouting", targets: ["SwitchyardRouting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
    ],
    targets: [
        // System libraries from Debian's -dev packages, each with a C shim for macros.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CNGHTTP2", pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(
            name: "CLibcap", pkgConfig: "libcap",
            providers: [.apt(["libcap-dev"])]),

        // Kubernetes-shaped types, YAML decoding and validation -> MeshSnapshot. No NIO, no I/O but reading manifests.
        .target(
            name: "SwitchyardModel",
            dependencies: [.product(name: "Yams", package: "Yams")]),
        // Compiled route tables and Gateway API precedence. Pure.
        .target(name: "SwitchyardRouting", dependencies: ["SwitchyardModel"]),
        // Mutual TLS on the system OpenSSL: contexts, the NIO handler, credentials and rotation, the dev PKI.
        .target(
            name: "SwitchyardTLS",
            dependencies: [
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Metrics registry and Prometheus text, the admin HTTP server (/live, /ready, /metrics), sd_notify.
        .target(
            name: "SwitchyardAdmin",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]),
        // Child processes with posix_spawn and waitpid, none of our descriptors inherited (iptables tools, tests).
        .target(name: "SwitchyardSubprocess"),
        // HTTP/2 codec for NIO on nghttp2: one session per connection, stream events and commands.
        .target(
            name: "SwitchyardHTTP2",
            dependencies: [
                "CNGHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Original destination of redirected connections, iptables rule plans, capabilities.
        .target(name: "SwitchyardInterception", dependencies: ["CLibcap", "SwitchyardSubprocess"]),
        // Listeners, protocol detection, HTTP/1 and HTTP/2, opaque TCP, pools, balancing.
        .target(
            name: "SwitchyardProxy",
            dependencies: [
                "SwitchyardModel", "SwitchyardRouting", "SwitchyardTLS", "SwitchyardInterception", "SwitchyardAdmin",
                "SwitchyardHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .executableTarget(
            name: "switchyard",
            dependencies: [
                "SwitchyardModel", "SwitchyardRouting", "SwitchyardTLS", "SwitchyardInterception",
                "SwitchyardAdmin", "SwitchyardProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // `make bench-router`: route decisions per second on the tutorial table (release build).
        .executableTarget(
            name: "SwitchyardRouterBench",
            dependencies: ["SwitchyardModel", "SwitchyardRouting"],
            path: "bench/router"),

        // `make alloc-budget`: heap allocations per proxied HTTP/1.1 request through an in-process
        // daemon, counted by a malloc interposer (release build; exits 1 over budget; docs/performance.md).
        .target(name: "CAllocCounter", path: "bench/alloc/CAllocCounter"),
        .executableTarget(
            name: "SwitchyardAllocBench",
            dependencies: [
                "CAllocCounter", "SwitchyardProxy", "SwitchyardModel", "SwitchyardTLS", "SwitchyardAdmin",
                "SwitchyardInterception",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/alloc/SwitchyardAllocBench"),
        // Shared by the test targets: `.dedicatedThread` for tests that block.
        .target(name: "SwitchyardTestSupport", path: "Tests/Support"),
        .testTarget(name: "SwitchyardModelTests", dependencies: ["SwitchyardModel"]),
        .testTarget(name: "SwitchyardRoutingTests", dependencies: ["SwitchyardModel", "SwitchyardRouting"]),
        .testTarget(name: "SystemLibrariesTests", dependencies: ["COpenSSL", "CNGHTTP2", "CLibcap"]),
        .testTarget(name: "SwitchyardInterceptionTests", dependencies: ["SwitchyardInterception", "SwitchyardSubprocess", "SwitchyardTestSupport"]),
        .testTarget(
            name: "SwitchyardAdminTests",
            dependencies: [
                "SwitchyardAdmin", "SwitchyardSubprocess", "SwitchyardTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SwitchyardProxyTests",
            dependencies: [
                "SwitchyardProxy", "SwitchyardModel", "SwitchyardRouting", "SwitchyardInterception",
                "SwitchyardTLS", "SwitchyardAdmin", "SwitchyardHTTP2", "SwitchyardSubprocess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Two `switchyard run` daemons on loopback as two nodes, with real apps, curl and PKI.
        .testTarget(name: "IntegrationTests", dependencies: ["switchyard", "SwitchyardSubprocess", "SwitchyardTestSupport"]),
        .testTarget(
            name: "SwitchyardTLSTests",
            dependencies: [
                "SwitchyardTLS", "COpenSSL", "SwitchyardSubprocess", "SwitchyardTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SwitchyardHTTP2Tests",
            dependencies: [
                "SwitchyardHTTP2", "SwitchyardSubprocess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        // Runs the built `switchyard` binary as a user would.
        .testTarget(name: "CommandTests", dependencies: ["switchyard", "SwitchyardSubprocess", "SwitchyardTestSupport"]),
        // `make conformance`: the upstream Gateway API HTTPRoute conformance cases through the loader and router.
        .executableTarget(
            name: "switchyard-conformance",
            dependencies: ["SwitchyardModel", "SwitchyardRouting", .product(name: "Yams", package: "Yams")],
            path: "conformance/runner"),
        // `make bench-tls`: full mTLS handshakes per second and bulk throughput through TLSHandler, one core (release build).
        .executableTarget(name: "SwitchyardTLSBench", dependencies: ["SwitchyardTLS", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")], path: "bench/tls"),
    ],
    swiftLanguageModes: [.v6]
)
