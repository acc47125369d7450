// swift-tools-version: 6.1
// IPsecLab's allocation guard: package-benchmark (ordo-one/benchmark) benchmarks of the per-packet data plane, with
// committed thresholds on heap allocations per packet (Benchmarks/README.md). A package of its own, so that the main
// package and `make test` never build the benchmark framework.
//
// It depends on IPsecCore, IPsecCrypto and IPsecWire only — not on IPsecAnalysis, whose CAllocationCounter defines
// malloc in the executable and would hide every allocation from package-benchmark's LD_PRELOADed interposer.
import PackageDescription

let package = Package(
    name: "IPsecLabBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "IPsecLab", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DataPlane",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "IPsecCore", package: "IPsecLab"),
                .product(name: "IPsecCrypto", package: "IPsecLab"),
                .product(name: "IPsecWire", package: "IPsecLab"),
            ],
            path: "Benchmarks/DataPlane",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
