import ArgumentParser
import IPsecAnalysis
import IPsecWire
#if canImport(Glibc)
import Glibc
#endif

struct Timing: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test the verification paths for timing side channels (dudect-style leakage tests).",
        discussion: """
            Each target times one operation on a fixed input and on fresh random inputs, interleaved in random \
            order, and compares the classes with Welch's t-test (raw, cropped at dudect's percentiles, second \
            order). |t| above 10 is a leak, above 4.5 suspicious. The control (an early-exit comparison) must come \
            out as a leak: it shows the method can see one on this machine. Without --target every default target \
            runs. Build in release (-c release) for numbers about production code. See docs/timing.md.
            """
    )

    @Option(name: .customLong("target"), parsing: .upToNextOption,
            help: "Targets to run (default: all; see --list), e.g. decap/aes128gcm16 esp-open/chacha20poly1305.")
    var targets: [String] = []

    @Option(help: "Timed measurements per target, after a discarded warm-up.")
    var measurements = TimingCampaign.defaultMeasurements

    @Option(help: "Seed for the class order and the random inputs.")
    var seed: UInt64 = 1

    @Flag(help: "List the targets and their input classes.")
    var list = false

    @Flag(help: "Print one JSON object per target (JSON Lines).")
    var json = false

    /// The data plane's crypto for the `decap` and `decap-padding` targets (their SAs); `esp-open` always times
    /// `ESPTransform`, the OpenSSL reference.
    @OptionGroup var backendOption: BackendOption

    func run() throws {
        try runReportingErrors {
            try backendOption.apply()
            let out = StandardOutput()
            defer { out.flush() }
            if list {
                for u in TimingTargets.usage {
                    out.write(json ? JSONValue.object([JSONMember("target", .string(u.name)),
                                                       JSONMember("summary", .string(u.summary))]).text
                                   : "\(u.name)\n  \(u.summary)")
                }
                if !json {
                    out.write("default transforms: ESP " + TimingTargets.defaultESPAlgorithms.joined(separator: " ")
                              + "; AH " + TimingTargets.defaultAHAlgorithms.joined(separator: " "))
                }
                return
            }
            let selected = try targets.isEmpty ? TimingTargets.all : targets.map { name throws(AnalysisError) in
                try TimingTargets.named(name)
            }
            let onTerminal = isatty(2) == 1
            let results = try TimingCampaign.run(selected, measurements: measurements, seed: seed) { i, target in
                if onTerminal {
                    writeAll(2, Array("\r\u{1b}[K[\(i + 1)/\(selected.count)] \(target.name)".utf8))
                }
            }
            if onTerminal { writeAll(2, Array("\r\u{1b}[K".utf8)) }
            if json {
                for r in results { out.write(r.json.text) }
            } else {
                out.write(TimingCampaign.table(results).markdown)
                let missed = results.filter { !$0.meetsExpectation }
                out.write(missed.isEmpty ? "every target as expected (controls flagged, no real path leaks)"
                          : "not as expected: " + missed.map(\.target.name).joined(separator: ", "))
            }
        }
    }
}
