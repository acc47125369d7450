// swift-tools-version: 6.1
// IPsecLab: a toolkit for analysing the IPsec data plane. Layers (bottom up) are described in docs/architecture.md;
// a lower layer never imports a higher one, and C types never appear in a public API.
import PackageDescription

let package = Package(
    name: "IPsecLab",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "IPsecWire", targets: ["IPsecWire"]),
        .library(name: "IPsecCapture", targets: ["IPsecCapture"]),
        .library(name: "IPsecCrypto", targets: ["IPsecCrypto"]),
        .library(name: "IPsecCore", targets: ["IPsecCore"]),
        .library(name: "IPsecPipeline", targets: ["IPsecPipeline"]),
        .library(name: "IPsecConfig", targets: ["IPsecConfig"]),
        .library(name: "IPsecAnalysis", targets: ["IPsecAnalysis"]),
        .library(name: "IPsecVectors", targets: ["IPsecVectors"]),
        .library(name: "IPsecFuzz", targets: ["IPsecFuzz"]),
        .library(name: "IPsecDiff", targets: ["IPsecDiff"]),
        .library(name: "IPsecKernelOracle", targets: ["IPsecKernelOracle"]),
        .executable(name: "ipsec-lab", targets: ["ipsec-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // A second crypto backend (BoringSSL) for the differential tests only; the data plane stays on OpenSSL.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // Bytes only: checked views and validated values for every header IPsecLab touches. No dependencies.
        .target(name: "IPsecWire"),

        // System libraries, found through pkg-config; the providers name the Debian packages.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Intel's IPsec Multi-Buffer library, optional: SwiftPM has no optional system libraries, so this is a C shim
        // compiled against <intel-ipsec-mb.h> when the header is there (libipsec-mb-dev) and to stubs otherwise; it
        // opens libIPSec_MB.so.1 with dlopen() at run time, so nothing links against it (docs/ipsec-mb.md).
        .target(name: "CIPsecMB", linkerSettings: [.linkedLibrary("dl")]),

        // pcap and pcapng through libpcap, streamed.
        .target(name: "IPsecCapture", dependencies: ["CPcap", "IPsecWire"]),

        // Transforms: every ESP/AH algorithm on OpenSSL's EVP API, IV sources, constant-time comparison.
        .target(name: "IPsecCrypto", dependencies: ["COpenSSL", "CIPsecMB"]),

        // The data plane: SAs, ESP and AH processing, modes, typed drop reasons.
        .target(name: "IPsecCore", dependencies: ["IPsecWire", "IPsecCrypto", "CZlib"]),

        // SA files: native JSON, `ip xfrm state` commands and listings, detected from the content.
        .target(name: "IPsecConfig", dependencies: ["IPsecCore", "IPsecWire", "IPsecCrypto"]),

        // Capture-level jobs: encap, decap and decrypting inspection of whole captures.
        .target(name: "IPsecPipeline", dependencies: ["IPsecCapture", "IPsecCore", "IPsecConfig", "IPsecWire"]),

        // Counts heap allocations per thread by interposing malloc & co. (Linux/glibc), for the benchmarks.
        .target(name: "CAllocationCounter"),

        // Overhead model and measurement, the mode-matrix self-check, the report (Markdown, CSV, JSON, HTML + SVG),
        // benchmarks against the crypto limit, timing side-channel (leakage) tests.
        .target(name: "IPsecAnalysis", dependencies: ["IPsecCore", "IPsecCrypto", "IPsecWire", "CAllocationCounter"]),

        // Conformance vectors: the documented JSON format (docs/vectors.md), generation, verification and export.
        .target(name: "IPsecVectors",
                dependencies: ["IPsecCore", "IPsecConfig", "IPsecCrypto", "IPsecWire", "IPsecCapture"]),

        // Fuzzing: targets for every parser and inbound mode, structure-aware mutation with re-sealing, oracles,
        // a supervised worker, corpus and crash management (docs/fuzzing.md). Fuzz/ holds the libFuzzer entry points.
        .target(name: "IPsecFuzz",
                dependencies: ["IPsecCore", "IPsecCapture", "IPsecConfig", "IPsecWire", "IPsecCrypto"]),

        // Differential testing against independent implementations (scapy, tshark, a swift-crypto backend, Linux):
        // campaigns, oracles, minimisation and the shared summary (docs/differential.md).
        .target(name: "IPsecDiff",
                dependencies: ["IPsecCore", "IPsecCrypto", "IPsecWire", "IPsecConfig", "IPsecCapture", "IPsecVectors",
                               "IPsecAnalysis",
                               .product(name: "Crypto", package: "swift-crypto"),
                               .product(name: "CryptoExtras", package: "swift-crypto")]),

        // The Linux kernel's XFRM as a differential oracle, in a throwaway qemu VM built from Debian's cloud kernel
        // (docs/linux-oracle.md; the guest's agent and init are in scripts/linux-oracle/).
        .target(name: "IPsecKernelOracle",
                dependencies: ["IPsecDiff", "IPsecCore", "IPsecConfig", "IPsecCrypto", "IPsecWire"]),

        // The command-line tool: thin, each subcommand calls one library entry point.
        .executableTarget(
            name: "ipsec-lab",
            dependencies: [
                "IPsecWire", "IPsecCapture", "IPsecCrypto", "IPsecCore", "IPsecConfig", "IPsecPipeline", "IPsecAnalysis",
                "IPsecVectors", "IPsecFuzz", "IPsecDiff", "IPsecKernelOracle", "COpenSSL", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "IPsecWireTests", dependencies: ["IPsecWire"]),
        .testTarget(name: "IPsecCaptureTests", dependencies: ["IPsecCapture", "IPsecWire"]),
        .testTarget(name: "IPsecCryptoTests", dependencies: ["IPsecCrypto"]),
        .testTarget(name: "IPsecCoreTests", dependencies: ["IPsecCore", "IPsecCrypto", "IPsecWire"]),
        .testTarget(name: "IPsecConfigTests", dependencies: ["IPsecConfig", "IPsecCore", "IPsecCrypto", "IPsecWire"]),
        .testTarget(name: "IPsecAnalysisTests", dependencies: ["IPsecAnalysis", "IPsecCore", "IPsecCrypto", "IPsecWire"]),
        .testTarget(name: "IPsecVectorsTests", dependencies: ["IPsecVectors", "IPsecCore", "IPsecCrypto", "IPsecWire"]),
        .testTarget(name: "IPsecFuzzTests", dependencies: ["IPsecFuzz", "IPsecCore", "IPsecWire"]),
        .testTarget(name: "IPsecDiffTests",
                    dependencies: ["IPsecDiff", "IPsecVectors", "IPsecCore", "IPsecCrypto", "IPsecWire"]),
        .testTarget(name: "IPsecKernelOracleTests",
                    dependencies: ["IPsecKernelOracle", "IPsecDiff", "IPsecCore", "IPsecCrypto", "IPsecWire"]),
        // Golden/ holds the expected printer outputs, read by path (IPSECLAB_UPDATE_GOLDEN=1 rewrites them).
        .testTarget(name: "CLITests", dependencies: ["IPsecWire", "IPsecCapture", "IPsecCore", "IPsecCrypto"],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
