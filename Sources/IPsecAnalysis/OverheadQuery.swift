import IPsecCore
import IPsecCrypto
import IPsecWire

/// Why an analysis request cannot be served (an unknown mode or algorithm, a size that is no IP packet).
public struct AnalysisError: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A selection of the overhead matrix, and its tables: one row per cell and inner packet size, or one summary row
/// per cell (mix averages and the largest inner packet for an MTU). `ipsec-lab overhead` is a thin shell over it.
public struct OverheadQuery: Hashable, Sendable {
    /// Inner packet sizes of the default tables: the smallest IPv6 packet, the published 100-byte example, the
    /// classic minimum datagram every host accepts (576, RFC 791 / RFC 1122), IPv6's minimum MTU (1280), a typical
    /// large packet, and Ethernet's MTU.
    public static let defaultSizes = [40, 100, 576, 1280, 1400, 1500]

    public var modes: [OverheadMode] = OverheadMode.all
    public var versions: [IPVersion] = IPVersion.allCases
    /// Nil: every algorithm each mode takes.
    public var algorithms: [SAAlgorithm]?
    public var sizes: [Int] = Self.defaultSizes
    public var traffic: [TrafficKind] = TrafficKind.allCases
    public var mtu = 1500
    public var mix: TrafficMix = .simpleIMIX

    public init() {}

    /// ESP and AH algorithms for a list of keywords (`ESPAlgorithm(keyword:)`, `AHAlgorithm(keyword:)`): a keyword
    /// that names both (`aes128gmac`) gives both.
    public static func parseAlgorithms(_ keywords: [String]) throws(AnalysisError) -> [SAAlgorithm] {
        var out: [SAAlgorithm] = []
        for k in keywords {
            let esp = try? ESPAlgorithm(keyword: k)
            let ah = try? AHAlgorithm(keyword: k)
            guard esp != nil || ah != nil else {
                throw AnalysisError("unknown algorithm \"\(k)\" (neither an ESP suite such as aes128gcm16 or "
                                    + "aes128-sha256 nor an AH algorithm such as sha256)")
            }
            if let esp { out.append(.esp(esp)) }
            if let ah { out.append(.ah(ah)) }
        }
        return out
    }

    /// The cells selected; throws when the modes and algorithms have nothing in common.
    public func cells() throws(AnalysisError) -> [MatrixCell] {
        let cells = MatrixCell.matrix(modes: modes, versions: versions, algorithms: algorithms, traffic: traffic)
        guard !cells.isEmpty else {
            throw AnalysisError("no mode of \(modes.map(\.label).joined(separator: ", ")) takes any of the algorithms "
                                + "\((algorithms ?? []).map(\.description).joined(separator: ", "))")
        }
        return cells
    }

    /// Checks the sizes: every size must be an IP packet size (up to 65535 bytes) of at least one selected version;
    /// sizes below a version's header are left out for that version.
    public func validate() throws(AnalysisError) {
        let smallest = versions.map(OverheadModel.ipHeaderLength).min() ?? 20
        for s in sizes where s < smallest || s > 65535 {
            throw AnalysisError("size \(s) is not an IP packet size here (\(smallest)…65535 bytes, the inner packet "
                                + "with its header)")
        }
        guard (68...65535).contains(mtu) else {
            throw AnalysisError("MTU \(mtu) is outside 68…65535 (RFC 791's smallest MTU to IP's largest packet)")
        }
    }

    // MARK: - Row tables

    public static let rowColumns: [String] = [
        "mode", "hc_fields", "traffic", "nat_t", "ip", "algorithm", "payload", "total", "overhead", "expansion_pct",
        "outer_header", "udp", "ipsec_header", "iv", "hc_residual", "hc_elided", "padding", "trailer", "icv",
        "compressed",
    ]

    /// One row per cell and size.
    public func rows() throws(AnalysisError) -> DataTable {
        try validate()
        var table = DataTable(keys: Self.rowColumns)
        for cell in try cells() {
            for size in sizes where size >= OverheadModel.ipHeaderLength(cell.version) {
                table.append(Self.row(cell.breakdown(payload: size)))
            }
        }
        return table
    }

    public static func row(_ b: OverheadBreakdown) -> [DataTable.Cell] {
        let hc = b.mode.matrix == .tunnelESPHC
        return [
            .text(b.mode.matrix.rawValue), .text(hc ? b.mode.variant : ""), .text(b.traffic?.rawValue ?? ""),
            .bool(b.mode.natTraversal), .int(Int(b.version.rawValue)), .text(b.algorithm.description),
            .int(b.payload), .int(b.total), .int(b.overhead), .decimal(b.expansionPercent, places: 2),
            .int(b.outerHeader), .int(b.udp), .int(b.ipsecHeader), .int(b.iv), .int(b.hcResidual), .int(b.hcElided),
            .int(b.padding), .int(b.trailer), .int(b.icv), hc ? .bool(b.compressed) : .empty,
        ]
    }

    // MARK: - Summary tables

    public static let summaryColumns: [String] = [
        "mode", "hc_fields", "traffic", "nat_t", "ip", "algorithm", "mix", "mix_overhead_per_packet",
        "mix_expansion_pct", "min_overhead", "max_overhead", "mtu", "max_payload",
    ]

    /// One row per cell: the mix's average overhead per packet and byte-weighted expansion, the least and most the
    /// mode adds to any inner packet that fits the MTU, and the largest inner packet that fits it.
    public func summary() throws(AnalysisError) -> DataTable {
        try validate()
        var table = DataTable(keys: Self.summaryColumns)
        for cell in try cells() {
            table.append(Self.summaryRow(cell, mix: mix, mtu: mtu))
        }
        return table
    }

    public static func summaryRow(_ cell: MatrixCell, mix: TrafficMix, mtu: Int) -> [DataTable.Cell] {
        let a = mix.average(mode: cell.mode, algorithm: cell.algorithm, version: cell.version, traffic: cell.traffic)
        let largest = OverheadModel.largestPayload(mode: cell.mode, algorithm: cell.algorithm, version: cell.version,
                                                   mtu: mtu, traffic: cell.traffic)
        // The padding cycle repeats every cipher block, so one block's worth of sizes bounds the overhead.
        let start = OverheadModel.ipHeaderLength(cell.version)
        let overheads = (start..<(start + 16)).map { cell.breakdown(payload: $0).overhead }
        let hc = cell.mode.matrix == .tunnelESPHC
        return [
            .text(cell.mode.matrix.rawValue), .text(hc ? cell.mode.variant : ""), .text(cell.traffic?.rawValue ?? ""),
            .bool(cell.mode.natTraversal), .int(Int(cell.version.rawValue)), .text(cell.algorithm.description),
            .text(mix.name), .decimal(a.overheadPerPacket, places: 2), .decimal(a.expansionPercent, places: 2),
            .int(overheads.min() ?? 0), .int(overheads.max() ?? 0), .int(mtu), largest.map { .int($0) } ?? .empty,
        ]
    }
}
