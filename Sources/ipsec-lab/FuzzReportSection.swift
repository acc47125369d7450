import Foundation
import IPsecAnalysis
import IPsecFuzz
import IPsecWire

/// The report's fuzzing section: a short supervised campaign of every listed target (every parser, the dissector,
/// the capture reader, each SA file format, the inbound path of every mode and the encap-decap round trip), seed 1
/// (the regressions under corpora/regressions are replayed by the test suite, not here). It lives
/// in the command line, not in IPsecAnalysis, because the analysis layer does not depend on the fuzzer, and because
/// the supervised worker is this binary re-executed. A crash fails the section and names its reproducer, saved
/// (minimised) under `crashDirectory` — `fuzz-crashes/` in the working directory, as `ipsec-lab fuzz` does.
struct FuzzReportSection: ReportSection {
    let id = "fuzzing"
    let title = "Fuzzing"
    var isDeterministic: Bool { false }
    /// Where reproducers go if a campaign finds a crash.
    let crashDirectory: String

    static func runs(_ depth: AnalysisDepth) -> Int {
        switch depth {
        case .quick: 300
        case .standard: 3_000
        case .full: 50_000
        }
    }

    func run(_ context: ReportContext) throws -> ReportSectionOutput {
        let runs = Self.runs(context.depth)
        var reports: [FuzzReport] = []
        var failures: [String] = []
        for target in FuzzTargets.listed {
            context.progress("fuzzing: \(target.name)")
            var options = FuzzOptions()
            options.seed = 1
            options.runs = runs
            options.crashDirectory = crashDirectory
            options.timeoutSeconds = 10
            let executor = SupervisedExecutor(target: target, executable: Fuzz.executablePath(), options: options)
            defer { executor.close() }
            do {
                reports.append(try FuzzCampaign(target: target, options: options, executor: executor).run())
            } catch {
                failures.append("\(target.name): \(error)")
            }
        }
        let table = DataTable(
            columns: [DataTable.Column("target"), DataTable.Column("executions"),
                      DataTable.Column("executions_per_second", title: "executions/s"),
                      DataTable.Column("corpus_size", title: "corpus"), DataTable.Column("features"),
                      DataTable.Column("crashes")],
            rows: reports.map { r in
                [.text(r.target), .int(r.executions), .decimal(r.executionsPerSecond, places: 0), .int(r.corpusSize),
                 .int(r.features), .int(r.crashes.count)]
            })
        let crashes = reports.flatMap { r in r.crashes.map { (r.target, $0) } }
        let total = reports.reduce(0) { $0 + $1.executions }
        let summary = "\(reports.count) targets, \(total) executions, \(crashes.count) crashes"
            + (failures.isEmpty ? "" : ", \(failures.count) campaigns did not run")
        var blocks: [ReportBlock] = [
            .callout(summary + ".", kind: crashes.isEmpty && failures.isEmpty ? .pass : .fail),
            .paragraph("A supervised campaign of \(runs) mutants per target after its seed corpus, seed 1 "
                + "(docs/fuzzing.md): structure-aware and byte-level mutation; the inbound targets open each packet "
                + "with the SA's keys, mutate what is inside and seal it again, so that the padding, next-header and "
                + "inner-packet checks behind the ICV are reached. Oracles: no trap, hang or memory blow-up; parse → "
                + "serialise → parse is stable; what is accepted once is refused as a replay; encap then decap gives "
                + "the input back. Longer campaigns: `ipsec-lab fuzz --target NAME --seconds S`; libFuzzer: `Fuzz/`."),
            .table(table, data: "data/fuzzing.csv"),
        ]
        if !crashes.isEmpty {
            blocks.append(.heading("Crashes", level: 3))
            blocks.append(.list(crashes.map { "\($0.0): \($0.1.kind) — \($0.1.signature) — reproducer `\($0.1.reproducer)`" }))
        }
        if !failures.isEmpty {
            blocks.append(.callout("Did not run: " + failures.joined(separator: "; "), kind: .fail))
        }
        let status: ReportStatus = crashes.isEmpty && failures.isEmpty && !reports.isEmpty
            ? .passed(summary) : .failed(summary)
        let json = JSONValue.array(reports.map(\.json)).text + "\n"
        return ReportSectionOutput(blocks: blocks,
                                   files: [ReportFile(path: "data/fuzzing.csv", contents: table.csv),
                                           ReportFile(path: "data/fuzzing.json", contents: json)],
                                   status: status)
    }
}
