import IPsecCore
import IPsecCrypto
import IPsecWire

/// The transforms that stand for their mode in charts and comparisons: the RFC 8221 MUSTs — AES-128-GCM with a
/// 16-byte ICV for ESP, HMAC-SHA-256-128 for AH and for integrity-only ESP (NULL encryption).
public enum RepresentativeTransform {
    public static let esp: SAAlgorithm = .esp(try! ESPAlgorithm(keyword: "aes128gcm16"))
    public static let espCBC: SAAlgorithm = .esp(try! ESPAlgorithm(keyword: "aes128-sha256"))
    public static let espNull: SAAlgorithm = .esp(try! ESPAlgorithm(keyword: "null-sha256"))
    public static let ah: SAAlgorithm = .ah(try! AHAlgorithm(keyword: "sha256"))

    public static func algorithm(for mode: OverheadMode) -> SAAlgorithm {
        switch mode.matrix {
        case .transportAH, .tunnelAH: ah
        case .transportESPNull, .tunnelESPNull: espNull
        case .transportESP, .tunnelESP, .tunnelESPHC: esp
        }
    }
}

/// Section (b): the overhead of every mode, from the analytic model — published figures, curves over packet size,
/// bars per algorithm, the mode comparison over the simple IMIX, the largest inner packet per MTU, and every cell.
/// Deterministic: committed under `analysis/`.
public struct OverheadSection: ReportSection {
    public var id: String { "overhead" }
    public var title: String { "Overhead per mode" }
    public var isDeterministic: Bool { true }
    public var mix: TrafficMix = .simpleIMIX
    /// The size of the per-algorithm bars.
    public var barSize = 100
    /// How many sizes, from a bare header up, the byte-by-byte overhead charts show.
    public var zoom = 80

    public init() {}

    public func run(_ context: ReportContext) throws -> ReportSectionOutput {
        var blocks: [ReportBlock] = []
        var files: [ReportFile] = []
        blocks.append(.paragraph(
            "Every byte each mode adds to an inner IP packet (the packet that gets protected, its header included), "
                + "from the analytic model of `docs/overhead.md`: outer header, UDP for NAT traversal, the ESP or AH "
                + "header, IV, padding, the ESP trailer, the ICV and, for the compressed tunnel, the residual block "
                + "that replaces the inner header. The report's self-check (and the `IPsecAnalysisTests` suite) "
                + "measures the same numbers by protecting packets with the data plane. Inner packets have plain headers (no IPv4 options, no IPv6 extension "
                + "headers); tunnels have an outer header of the inner packet's family; the compressed tunnel is "
                + "shown for host-to-host traffic unless a table says otherwise."))

        // Published figures.
        var published = DataTable(columns: [
            .init("figure"), .init("source"), .init("quantity"), .init("expected"), .init("model"), .init("agrees"),
        ])
        for f in PublishedFigure.all {
            published.append([.text(f.name), .text(f.source), .text(f.quantity.rawValue), .int(f.expected),
                              .int(f.model), .bool(f.model == f.expected)])
        }
        let allAgree = PublishedFigure.all.allSatisfy { $0.model == $0.expected }
        files.append(ReportFile(path: "data/published-figures.csv", contents: published.csv))
        blocks.append(.heading("Published figures", level: 3))
        blocks.append(.callout(allAgree ? "The model reproduces all \(PublishedFigure.all.count) published figures."
                               : "The model disagrees with a published figure; see the table.",
                               kind: allAgree ? .pass : .fail))
        blocks.append(.table(published, data: "data/published-figures.csv"))

        // Curves over packet size.
        blocks.append(.heading("Overhead versus packet size", level: 3))
        blocks.append(.paragraph(
            "One line per mode with its representative transform (ESP: `aes128gcm16`, integrity-only ESP: "
                + "`null-sha256`, AH: `sha256`; one CBC suite, `aes128-sha256`, shows the 16-byte padding steps). "
                + "The bytes added do not grow with the packet; they cycle with ESP padding — the ciphertext must "
                + "fill whole cipher blocks and end on a 4-byte boundary, so the overhead repeats every 4 bytes of "
                + "packet size (16 for CBC) at any size. The first charts show the first \(zoom) sizes byte by byte "
                + "(the cycle then repeats up to the largest packet); the expansion charts show the whole range up to "
                + "1500 bytes."))
        for version in IPVersion.allCases {
            let h = OverheadModel.ipHeaderLength(version)
            let (curves, table) = curveData(version, sizes: Array(h..<(h + zoom)), places: 0) {
                Double($0.overhead)
            }
            let name = "overhead-ipv\(version.rawValue)"
            files.append(ReportFile(path: "data/\(name).csv", contents: table.csv))
            blocks.append(.chart(.line(LineChart(name: name, title: "Bytes added versus inner packet size, \(version)",
                                                 xLabel: "inner IP packet (bytes)", yLabel: "bytes added",
                                                 series: curves, stepped: true)), data: "data/\(name).csv"))
        }
        for version in IPVersion.allCases {
            let sizes = Array(stride(from: OverheadModel.ipHeaderLength(version), through: 1500, by: 4))
            let (curves, table) = curveData(version, sizes: sizes, places: 2) { $0.expansionPercent }
            let name = "expansion-ipv\(version.rawValue)"
            files.append(ReportFile(path: "data/\(name).csv", contents: table.csv))
            blocks.append(.chart(.line(LineChart(name: name,
                                                 title: "Expansion versus inner packet size, \(version) (log scale)",
                                                 xLabel: "inner IP packet (bytes)",
                                                 yLabel: "overhead (% of the packet)",
                                                 series: curves, logarithmicY: true)), data: "data/\(name).csv"))
        }

        // Bars per algorithm.
        blocks.append(.heading("Per algorithm, \(barSize)-byte packets", level: 3))
        blocks.append(.paragraph(
            "Tunnel mode, every ESP suite and AH algorithm, for a \(barSize)-byte inner packet. The differences are "
                + "the IV (0 for NULL and the RFC 8750 implicit-IV AEADs, 8 for CTR, GCM, CCM, ChaCha20 and GMAC, 16 "
                + "for CBC), the ICV (8 to 32 bytes) and the padding the cipher's block size forces."))
        let (bars, barTable) = algorithmBars()
        files.append(ReportFile(path: "data/algorithms-\(barSize).csv", contents: barTable.csv))
        blocks.append(.chart(.bars(bars), data: "data/algorithms-\(barSize).csv"))

        // Mode comparison.
        blocks.append(.heading("Mode comparison, \(mix.name)", level: 3))
        blocks.append(.paragraph(
            "Average bytes added per packet over the \(mix.name) mix (\(mixDescription)), each mode with its "
                + "representative transform; the expansion is the byte-weighted overhead (bytes added per byte "
                + "carried)."))
        let (modeChart, modeTable) = modeComparison()
        files.append(ReportFile(path: "data/modes-imix.csv", contents: modeTable.csv))
        blocks.append(.chart(.bars(modeChart), data: "data/modes-imix.csv"))
        blocks.append(.table(modeTable, data: "data/modes-imix.csv"))

        // Largest inner packet.
        blocks.append(.heading("Largest inner packet per MTU", level: 3))
        blocks.append(.paragraph(
            "The largest inner IP packet whose protected form fits the path MTU: what a tunnel interface's MTU "
                + "should be set to, or what path MTU discovery will settle on."))
        let mtuTable = largestPayloads(mtus: [1500, 1400, 1280])
        files.append(ReportFile(path: "data/mtu.csv", contents: mtuTable.csv))
        blocks.append(.table(mtuTable, data: "data/mtu.csv"))

        // Every cell.
        var query = OverheadQuery()
        query.mix = mix
        let rows = try query.rows()
        let summary = try query.summary()
        files.append(ReportFile(path: "data/overhead.csv", contents: rows.csv))
        files.append(ReportFile(path: "data/summary.csv", contents: summary.csv))
        blocks.append(.heading("Every mode and algorithm", level: 3))
        blocks.append(.paragraph(
            "Bytes added per inner packet size, the \(mix.name) average, and the largest inner packet for a "
                + "1500-byte MTU. The full breakdown of every cell and size (each part separately) is in "
                + "[data/overhead.csv](data/overhead.csv) (also as `ipsec-lab overhead --format csv`); the averages "
                + "in [data/summary.csv](data/summary.csv)."))
        for (title, table) in try perModeTables(query) {
            blocks.append(.collapsible(title, [.table(table, data: "data/overhead.csv")]))
        }
        return ReportSectionOutput(
            blocks: blocks, files: files,
            status: allAgree ? .passed("all \(PublishedFigure.all.count) published figures reproduced")
                : .failed("a published figure is not reproduced"))
    }

    var mixDescription: String {
        mix.entries.map { "\($0.count) × \($0.size) bytes" }.joined(separator: ", ")
    }

    /// The series of the curve charts: the matrix modes (compressed tunnel per preset, host-to-host), one CBC suite.
    var curveCells: [(name: String, cell: MatrixCell, dashed: Bool)] {
        var out: [(String, MatrixCell, Bool)] = []
        for mode in OverheadMode.all where !mode.natTraversal {
            let a = RepresentativeTransform.algorithm(for: mode)
            let cell = MatrixCell(mode: mode, algorithm: a, version: .v4)
            out.append(("\(mode.label) \(a)", cell, mode.matrix == .tunnelESPHC))
            if mode.matrix == .tunnelESP {
                let cbc = RepresentativeTransform.espCBC
                out.append(("\(mode.label) \(cbc)", MatrixCell(mode: mode, algorithm: cbc, version: .v4), false))
            }
        }
        return out
    }

    func curveData(_ version: IPVersion, sizes: [Int], places: Int,
                   value: (OverheadBreakdown) -> Double) -> (series: [Series], table: DataTable) {
        let cells = curveCells.map { c in
            (c.name, MatrixCell(mode: c.cell.mode, algorithm: c.cell.algorithm, version: version), c.dashed)
        }
        var table = DataTable(keys: ["payload"] + cells.map(\.0))
        var series = cells.map { Series(name: $0.0, points: [], dashed: $0.2) }
        for size in sizes {
            var row: [DataTable.Cell] = [.int(size)]
            for (i, c) in cells.enumerated() {
                let v = value(c.1.breakdown(payload: size))
                series[i].points.append(.init(Double(size), v))
                row.append(places == 0 ? .int(Int(v)) : .decimal(v, places: places))
            }
            table.append(row)
        }
        return (series, table)
    }

    func algorithmBars() -> (BarChart, DataTable) {
        var table = DataTable(keys: ["mode", "algorithm", "payload", "overhead_ipv4", "overhead_ipv6"])
        var categories: [String] = [], values: [[Double?]] = []
        for matrix in [OverheadMode.Matrix.tunnelESP, .tunnelESPNull, .tunnelAH] {
            let mode = OverheadMode(matrix)!
            for a in matrix.algorithms {
                let v4 = OverheadModel.breakdown(mode: mode, algorithm: a, version: .v4, payload: barSize).overhead
                let v6 = OverheadModel.breakdown(mode: mode, algorithm: a, version: .v6, payload: barSize).overhead
                table.append([.text(mode.label), .text(a.description), .int(barSize), .int(v4), .int(v6)])
                categories.append("\(matrix == .tunnelAH ? "AH" : "ESP") \(a)")
                values.append([Double(v4), Double(v6)])
            }
        }
        let chart = BarChart(name: "algorithms-\(barSize)",
                             title: "Bytes added to a \(barSize)-byte inner packet, tunnel mode, per algorithm",
                             valueLabel: "bytes added", categories: categories, seriesNames: ["IPv4", "IPv6"],
                             values: values)
        return (chart, table)
    }

    func modeComparison() -> (BarChart, DataTable) {
        var table = DataTable(columns: [
            .init("mode"), .init("algorithm"), .init("ipv4_overhead_per_packet", title: "IPv4 bytes/packet"),
            .init("ipv4_expansion_pct", title: "IPv4 expansion %"),
            .init("ipv6_overhead_per_packet", title: "IPv6 bytes/packet"),
            .init("ipv6_expansion_pct", title: "IPv6 expansion %"),
        ])
        var categories: [String] = [], values: [[Double?]] = []
        for mode in OverheadMode.all {
            let a = RepresentativeTransform.algorithm(for: mode)
            let v4 = mix.average(mode: mode, algorithm: a, version: .v4)
            let v6 = mix.average(mode: mode, algorithm: a, version: .v6)
            table.append([.text(mode.label), .text(a.description), .decimal(v4.overheadPerPacket, places: 2),
                          .decimal(v4.expansionPercent, places: 2), .decimal(v6.overheadPerPacket, places: 2),
                          .decimal(v6.expansionPercent, places: 2)])
            categories.append("\(mode.label) \(a)")
            values.append([v4.overheadPerPacket, v6.overheadPerPacket])
        }
        let chart = BarChart(name: "modes-imix", title: "Average bytes added per packet, \(mix.name)",
                             valueLabel: "bytes added per packet (average)", categories: categories,
                             seriesNames: ["IPv4", "IPv6"], values: values, decimals: 1)
        return (chart, table)
    }

    func largestPayloads(mtus: [Int]) -> DataTable {
        var columns: [DataTable.Column] = [.init("mode"), .init("algorithm")]
        for v in IPVersion.allCases {
            for m in mtus { columns.append(.init("ipv\(v.rawValue)_mtu_\(m)", title: "\(v) MTU \(m)")) }
        }
        var table = DataTable(columns: columns)
        for mode in OverheadMode.all {
            let a = RepresentativeTransform.algorithm(for: mode)
            var row: [DataTable.Cell] = [.text(mode.label), .text(a.description)]
            for v in IPVersion.allCases {
                for m in mtus {
                    let largest = OverheadModel.largestPayload(mode: mode, algorithm: a, version: v, mtu: m)
                    row.append(largest.map { .int($0) } ?? .empty)
                }
            }
            table.append(row)
        }
        return table
    }

    /// One table per mode, IP version and (compressed tunnel) traffic kind: a row per algorithm.
    func perModeTables(_ query: OverheadQuery) throws -> [(String, DataTable)] {
        var out: [(String, DataTable)] = []
        var groups: [(String, [MatrixCell])] = []
        for cell in try query.cells() {
            var title = "\(cell.mode.label), \(cell.version)"
            if let t = cell.traffic { title += ", \(t) traffic" }
            if let i = groups.firstIndex(where: { $0.0 == title }) { groups[i].1.append(cell) } else {
                groups.append((title, [cell]))
            }
        }
        for (title, cells) in groups {
            let sizes = query.sizes.filter { $0 >= OverheadModel.ipHeaderLength(cells[0].version) }
            var columns: [DataTable.Column] = [.init("algorithm")]
            columns += sizes.map { .init("overhead_\($0)", title: "\($0) B") }
            columns += [.init("mix", title: "IMIX avg"), .init("max_payload", title: "max inner @\(query.mtu)")]
            var table = DataTable(columns: columns)
            for cell in cells {
                var row: [DataTable.Cell] = [.text(cell.algorithm.description)]
                row += sizes.map { .int(cell.breakdown(payload: $0).overhead) }
                let a = mix.average(mode: cell.mode, algorithm: cell.algorithm, version: cell.version,
                                    traffic: cell.traffic)
                row.append(.decimal(a.overheadPerPacket, places: 2))
                row.append(OverheadModel.largestPayload(mode: cell.mode, algorithm: cell.algorithm,
                                                        version: cell.version, mtu: query.mtu,
                                                        traffic: cell.traffic).map { .int($0) } ?? .empty)
                table.append(row)
            }
            out.append((title, table))
        }
        return out
    }
}
