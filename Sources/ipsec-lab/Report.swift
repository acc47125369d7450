import ArgumentParser
import IPsecAnalysis
import IPsecDiff
#if canImport(Glibc)
import Glibc
#endif

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Run the whole analysis and write a report anyone can open in a browser.",
        discussion: """
            Writes DIR/index.html (self-contained: inline SVG charts, no script, nothing fetched), DIR/report.md, \
            every chart as SVG under DIR/charts/ and the data behind every number under DIR/data/. Sections: the \
            mode-matrix self-check, the overhead of every mode, the compression verdict, the timing side-channel \
            tests (--quick: 2,000 measurements per test, default 20,000, --full 100,000), differential testing \
            against the swift-crypto backend, scapy and tshark (--quick: 1,000 + 200 + 200 cases, default 10,000 + \
            1,000 + 1,000, --full 100,000 + 10,000 + 10,000), a supervised fuzzing campaign of every target \
            (--quick: 300 mutants each, default 3,000, --full 50,000) and the benchmarks. \
            --deterministic-only writes just the \
            parts that depend on the model alone (what the project commits under analysis/). Progress goes to \
            stderr when stderr is a terminal.
            """
    )

    @Option(help: "Output directory (default: report, or analysis with --deterministic-only).")
    var out: String?

    @Flag(help: "A dozen packet sizes per cell in the self-check (seconds).")
    var quick = false

    @Flag(help: "Every packet size from a bare header to 1500 bytes in the self-check.")
    var full = false

    @Flag(help: "Write only the model-derived overhead tables and compression verdict (as committed under analysis/).")
    var deterministicOnly = false

    func run() throws {
        try runReportingErrors {
            guard !(quick && full) else { throw AnalysisError("--quick and --full exclude each other") }
            let depth: AnalysisDepth = quick ? .quick : full ? .full : .standard
            let onTerminal = isatty(2) == 1
            let context = ReportContext(depth: depth, progress: { message in
                if onTerminal { writeAll(2, Array(("\r\u{1b}[K" + message).utf8)) }
            })
            let directory = out ?? (deterministicOnly ? "analysis" : "report")
            let files = deterministicOnly ? try Report.deterministicFiles()
                : try Report.generate(context, generator: "ipsec-lab \(VersionInfo.text)",
                                      // The differential section lives above the analysis layer (IPsecDiff).
                                      sections: Report.sections.map { section -> any ReportSection in
                                          switch section.id {
                                          case "differential": DiffReportSection()
                                          // The fuzzer re-executes this binary as its worker.
                                          case "fuzzing": FuzzReportSection(crashDirectory: "fuzz-crashes")
                                          default: section
                                          }
                                      })
            if onTerminal { writeAll(2, Array("\r\u{1b}[K".utf8)) }
            try Report.write(files, to: directory)
            let stdout = StandardOutput()
            defer { stdout.flush() }
            if deterministicOnly {
                stdout.write("wrote \(files.count) files to \(directory)/")
            } else {
                stdout.write("wrote \(directory)/index.html, \(directory)/report.md and \(files.count - 2) chart and "
                             + "data files")
            }
        }
    }
}
