// swift-tools-version: 6.1
// libFuzzer entry points for IPsecLab's fuzz targets, kept apart from the main package so that it never sees
// sanitizer flags. One executable serves every target: it picks the target from the name it is run under (build.sh
// copies it to $OUT/<target>), or from IPSECLAB_FUZZ_TARGET. Build:
//
//     swift build -c release --sanitize fuzzer -Xswiftc -parse-as-library
//
// or run ./build.sh, which follows the OSS-Fuzz / ClusterFuzzLite conventions. See ../docs/fuzzing.md.
import PackageDescription

let package = Package(
    name: "IPsecLabFuzz",
    dependencies: [
        .package(name: "IPsecLab", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "ipsec-lab-fuzzer",
            dependencies: [.product(name: "IPsecFuzz", package: "IPsecLab")],
            path: "Sources/IPsecLabFuzzer"
        ),
    ],
    swiftLanguageModes: [.v6]
)
