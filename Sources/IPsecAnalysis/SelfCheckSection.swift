import IPsecCore
import IPsecCrypto
import IPsecWire

/// Section (a): the mode-matrix self-check — round trips, model-versus-measured lengths, the published figures
/// measured, and the published known answers. Not deterministic in what it proves (it exercises the data plane of
/// this build), so it is written to the report only, never committed.
public struct SelfCheckSection: ReportSection {
    public var id: String { "self-check" }
    public var title: String { "Mode-matrix self-check" }
    public var isDeterministic: Bool { false }

    public init() {}

    public func run(_ context: ReportContext) throws -> ReportSectionOutput {
        let cells = MatrixCell.matrix()
        var lastReported = -1
        let check = SelfCheck.run(depth: context.depth, cells: cells) { done, all in
            let percent = done * 100 / all
            if percent != lastReported && (percent % 5 == 0 || done == all) {
                lastReported = percent
                context.progress("self-check: \(done)/\(all) cells (\(percent)%)")
            }
        }
        var blocks: [ReportBlock] = []
        var files: [ReportFile] = []

        let v4 = context.depth.sizes(.v4), v6 = context.depth.sizes(.v6)
        blocks.append(.paragraph(
            "Every cell of the matrix — \(Set(cells.map(\.mode.matrix)).count) modes (the compressed tunnel once per "
                + "field-set preset and for both kinds of traffic, transport and tunnel ESP also with NAT traversal) "
                + "× every algorithm the mode takes × IPv4 and IPv6, \(cells.count) cells — protected by the data "
                + "plane with seeded IVs at \(v4.count) inner packet sizes for IPv4 and \(v6.count) for IPv6 "
                + "(`\(context.depth)` depth: \(Self.describe(v4)) for IPv4). Each protected packet must be exactly "
                + "as long as the overhead model says (and, for the compressed tunnel, go in the form the model "
                + "expects), and must open with a separate receiving SA to the very packet that went in."))

        blocks.append(.list([
            "Round trips: **\(check.roundTripsPassed) of \(check.roundTripPackets)** packets came back unchanged.",
            "Lengths: **\(check.lengthsAgreed) of \(check.packets)** protected packets are as long as the model says.",
            "Known answers: **\(check.knownAnswersPassed) of \(check.knownAnswers.count)** (RFC 3602 §4 cases 5 and "
                + "7, whole packets, protect and unprotect, byte for byte).",
        ]))
        if check.cells.contains(where: \.udpInsertedByMeasurement) {
            blocks.append(.callout(
                "The data plane does not UDP-encapsulate NAT-traversal SAs; the measurement inserted the RFC 3948 "
                    + "UDP header itself for those cells, which are therefore length checks only.", kind: .note))
        }
        blocks.append(.callout(check.passed ? "Every check passed."
                               : "Some checks failed: see the failures below and the per-mode table.",
                               kind: check.passed ? .pass : .fail))

        // Per mode and version.
        var byMode = DataTable(columns: [
            .init("mode"), .init("traffic"), .init("ip"), .init("cells"), .init("packets"),
            .init("round_trips_passed", title: "round trips ok"), .init("round_trip_failures", title: "failed"),
            .init("lengths_agreed", title: "lengths = model"), .init("length_disagreements", title: "differ"),
            .init("result"),
        ])
        var groups: [String: [SelfCheck.CellResult]] = [:]
        var order: [String] = []
        for r in check.cells {
            let key = "\(r.cell.mode.label)|\(r.cell.traffic?.rawValue ?? "")|\(r.cell.version.rawValue)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        for key in order {
            let rs = groups[key]!
            let first = rs[0].cell
            let roundTrips = rs.allSatisfy { $0.roundTripsPassed != nil }
            let packets = rs.reduce(0) { $0 + $1.packets }
            byMode.append([
                .text(first.mode.label), .text(first.traffic?.rawValue ?? ""), .int(Int(first.version.rawValue)),
                .int(rs.count), .int(packets),
                roundTrips ? .int(rs.reduce(0) { $0 + ($1.roundTripsPassed ?? 0) }) : .empty,
                roundTrips ? .int(rs.reduce(0) { $0 + $1.roundTripFailures }) : .empty,
                .int(rs.reduce(0) { $0 + $1.lengthsAgreed }), .int(rs.reduce(0) { $0 + $1.lengthDisagreements }),
                .text(rs.allSatisfy(\.passed) ? "pass" : "FAIL"),
            ])
        }
        files.append(ReportFile(path: "data/self-check.csv", contents: byMode.csv))
        blocks.append(.heading("Per mode", level: 3))
        blocks.append(.table(byMode, data: "data/self-check.csv"))

        // Every cell.
        var perCell = DataTable(keys: ["mode", "traffic", "ip", "algorithm", "packets", "round_trips_passed",
                                       "lengths_agreed", "udp_inserted_by_measurement", "error"])
        for r in check.cells {
            perCell.append([.text(r.cell.mode.label), .text(r.cell.traffic?.rawValue ?? ""),
                            .int(Int(r.cell.version.rawValue)), .text(r.cell.algorithm.description), .int(r.packets),
                            r.roundTripsPassed.map { .int($0) } ?? .empty, .int(r.lengthsAgreed),
                            .bool(r.udpInsertedByMeasurement), .text(r.error ?? "")])
        }
        files.append(ReportFile(path: "data/self-check-cells.csv", contents: perCell.csv))

        // Failures.
        var failures = DataTable(keys: ["mode", "traffic", "ip", "algorithm", "payload", "check", "detail"])
        for f in check.failures {
            failures.append([.text(f.cell.mode.label), .text(f.cell.traffic?.rawValue ?? ""),
                             .int(Int(f.cell.version.rawValue)), .text(f.cell.algorithm.description), .int(f.size),
                             .text(f.check), .text(f.detail)])
        }
        files.append(ReportFile(path: "data/self-check-failures.csv", contents: failures.csv))
        if !check.failures.isEmpty {
            blocks.append(.heading("Failures", level: 3))
            var text = "The first \(check.failures.count) failing packets"
            if check.failuresNotKept > 0 { text += " (\(check.failuresNotKept) more not listed)" }
            blocks.append(.paragraph(text + "; every cell's counts are in "
                                     + "[data/self-check-cells.csv](data/self-check-cells.csv)."))
            var shown = failures
            shown.rows = Array(shown.rows.prefix(40))
            blocks.append(.table(shown, data: "data/self-check-failures.csv"))
        }

        // Known answers.
        var kat = DataTable(keys: ["case", "source", "direction", "result", "detail"])
        for k in check.knownAnswers {
            kat.append([.text(k.name), .text(k.source), .text(k.direction), .text(k.passed ? "pass" : "FAIL"),
                        .text(k.detail)])
        }
        files.append(ReportFile(path: "data/known-answers.csv", contents: kat.csv))
        blocks.append(.heading("Known answers", level: 3))
        blocks.append(.table(kat, data: "data/known-answers.csv"))

        // Published figures, measured.
        var figures = DataTable(keys: ["figure", "quantity", "expected", "model", "measured", "agrees"])
        var figuresOK = true
        for f in PublishedFigure.all {
            let measured = (try? f.measured()).map { DataTable.Cell.int($0) } ?? .text("error")
            let ok = measured == .int(f.expected) && f.model == f.expected
            figuresOK = figuresOK && ok
            figures.append([.text(f.name), .text(f.quantity.rawValue), .int(f.expected), .int(f.model), measured,
                            .bool(ok)])
        }
        files.append(ReportFile(path: "data/published-figures-measured.csv", contents: figures.csv))
        blocks.append(.heading("Published figures, measured", level: 3))
        blocks.append(.table(figures, data: "data/published-figures-measured.csv"))

        let ok = check.passed && figuresOK
        let summary = "round trips \(check.roundTripsPassed)/\(check.roundTripPackets), lengths "
            + "\(check.lengthsAgreed)/\(check.packets), known answers \(check.knownAnswersPassed)/"
            + "\(check.knownAnswers.count), published figures measured \(figuresOK ? "all agree" : "DISAGREE")"
        return ReportSectionOutput(blocks: blocks, files: files, status: ok ? .passed(summary) : .failed(summary))
    }

    static func describe(_ sizes: [Int]) -> String {
        guard let first = sizes.first, let last = sizes.last else { return "none" }
        return sizes.count <= 16 ? sizes.map(String.init).joined(separator: ", ") : "\(first)…\(last)"
    }
}
