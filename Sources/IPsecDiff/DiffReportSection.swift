import IPsecAnalysis
import IPsecWire

/// The report's differential-testing section: short campaigns against the backend, scapy and tshark, with their
/// counts, the known oracle bugs they met and any disagreement with its repro line. It lives here, not in
/// IPsecAnalysis, because the analysis layer must not depend on the oracles; the command line puts it in place of
/// the report's "differential" placeholder. An oracle that is not installed is named as not run, and the section
/// fails only on a disagreement.
public struct DiffReportSection: ReportSection {
    public let id = "differential"
    public let title = "Differential testing"
    public var isDeterministic: Bool { false }

    public init() {}

    static func cases(_ oracle: DiffOracleKind, _ depth: AnalysisDepth) -> Int {
        switch (oracle, depth) {
        case (.backend, .quick): 1_000
        case (.backend, .standard): 10_000
        case (.backend, .full): 100_000
        case (_, .quick): 200
        case (_, .standard): 1_000
        case (_, .full): 10_000
        }
    }

    public func run(_ context: ReportContext) throws -> ReportSectionOutput {
        var summaries: [DiffSummary] = []
        var notRun: [String] = []
        for oracle in [DiffOracleKind.backend, .scapy, .tshark] {
            context.progress("differential testing: \(oracle.rawValue)")
            do {
                summaries.append(try DiffCampaign(oracle: oracle, seed: 1, cases: Self.cases(oracle, context.depth)).run())
            } catch {
                notRun.append("\(oracle.rawValue): \(error)")
            }
        }
        let table = DataTable(
            columns: [DataTable.Column("oracle"), DataTable.Column("cases"), DataTable.Column("agreements"),
                      DataTable.Column("disagreements"), DataTable.Column("oracle_bugs", title: "known oracle bugs"),
                      DataTable.Column("cases_per_second", title: "cases/s")],
            rows: summaries.map { s in
                [.text(s.oracle), .int(s.cases), .int(s.agreements), .int(s.disagreements.count),
                 .int(s.oracleBugs.count), s.casesPerSecond.map { .decimal($0, places: 0) } ?? .empty]
            })
        var blocks: [ReportBlock] = [
            .paragraph("Random SAs and packets through IPsecLab and an independent implementation, both ways and "
                + "mutated (docs/differential.md); seed 1, so every run of the report checks the same cases. A "
                + "known oracle bug is counted apart, never as an agreement."),
            .table(table, data: "data/differential.csv"),
        ]
        let ran = summaries.filter { !$0.implementations.isEmpty }.map { s in
            s.oracle + ": " + s.implementations.keys.sorted().map { "\($0) \(s.implementations[$0]!)" }.joined(separator: ", ")
        }
        if !ran.isEmpty {
            blocks.append(.paragraph("Cases per crypto implementation (the backend oracle runs OpenSSL, swift-crypto and "
                + "libipsec-mb where each has the algorithm; the others count IPsecLab's SAs): " + ran.joined(separator: "; ")
                + "."))
        }
        var bugs: [String: Int] = [:]
        for s in summaries { for b in s.oracleBugs { bugs[b.reference ?? "?", default: 0] += 1 } }
        if !bugs.isEmpty {
            blocks.append(.heading("Known oracle bugs met", level: 3))
            blocks.append(.list(bugs.keys.sorted().map { "\(bugs[$0]!) cases: \($0)" }))
        }
        let disagreements = summaries.flatMap { s in s.disagreements.map { (s.oracle, $0) } }
        if !disagreements.isEmpty {
            blocks.append(.heading("Disagreements", level: 3))
            blocks.append(.list(disagreements.prefix(20).map { "\($0.0): \($0.1.line) — repro: `\($0.1.repro)`" }))
        }
        if !notRun.isEmpty {
            blocks.append(.callout("Not run: " + notRun.joined(separator: "; ") + ". The Linux kernel oracle runs "
                                   + "on its own (`ipsec-lab diff --oracle linux`, docs/linux-oracle.md).", kind: .note))
        }
        let total = summaries.reduce(0) { $0 + $1.cases }
        let summary = "\(total) cases against \(summaries.count) oracles, \(disagreements.count) disagreements, "
            + "\(bugs.values.reduce(0, +)) known oracle bugs"
        let status: ReportStatus = disagreements.isEmpty && !summaries.isEmpty ? .passed(summary) : .failed(summary)
        blocks.insert(.callout(summary + ".", kind: disagreements.isEmpty ? .pass : .fail), at: 0)
        let json = JSONValue.array(summaries.map(\.json)).text + "\n"
        return ReportSectionOutput(blocks: blocks,
                                   files: [ReportFile(path: "data/differential.csv", contents: table.csv),
                                           ReportFile(path: "data/differential.json", contents: json)],
                                   status: status)
    }
}
