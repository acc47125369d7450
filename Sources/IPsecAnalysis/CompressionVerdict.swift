import IPsecCore
import IPsecCrypto
import IPsecWire

/// The test of Ferguson and Schneier's claim that tunnel-mode ESP with header compression costs almost as little as
/// transport-mode AH, from the overhead model: for every authenticated ESP transform, IP version and kind of
/// traffic, the bytes each mode adds per packet (averaged over a traffic mix) against transport AH.
public struct CompressionVerdict: Sendable {
    /// The columns compared with transport AH, in table order. The ESP columns take the `-null` matrix mode for
    /// integrity-only transforms (`transport-esp` stands for `transport-esp-null` there); `tunnel-ah` uses the
    /// reference AH transform.
    public enum Column: Hashable, Sendable {
        case transportESP
        case tunnelAH
        case tunnelESP
        case compressed(HeaderCompressionFields)

        public static let all: [Column] = [.transportESP, .tunnelAH, .tunnelESP]
            + HeaderCompressionFields.presets.map { .compressed($0.fields) }

        public var label: String {
            switch self {
            case .transportESP: "transport-esp"
            case .tunnelAH: "tunnel-ah"
            case .tunnelESP: "tunnel-esp"
            case .compressed(let f): OverheadMode(.tunnelESPHC, headerCompression: f)!.label
            }
        }

        /// The heading of a difference column: "tunnel-esp", "hc host-to-host".
        var shortTitle: String {
            if case .compressed(let f) = self { return "hc \(f)" }
            return label
        }

        var key: String { label.replacing("-", with: "_").replacing("[", with: "_").replacing("]", with: "") }

        /// The mode and algorithm of this column for an ESP transform and its reference AH transform.
        func cell(_ esp: ESPAlgorithm, _ ah: AHAlgorithm) -> (OverheadMode, SAAlgorithm) {
            let null = !esp.encryption.providesConfidentiality
            switch self {
            case .transportESP: return (OverheadMode(null ? .transportESPNull : .transportESP)!, .esp(esp))
            case .tunnelAH: return (OverheadMode(.tunnelAH)!, .ah(ah))
            case .tunnelESP: return (OverheadMode(null ? .tunnelESPNull : .tunnelESP)!, .esp(esp))
            case .compressed(let f): return (OverheadMode(.tunnelESPHC, headerCompression: f)!, .esp(esp))
            }
        }
    }

    /// The compressed tunnel recovers at least this share of the bytes tunnel mode adds over transport mode for the
    /// claim to be called borne out; below `refutedBelow` it is called refuted, in between partly borne out.
    public static let borneOutFrom = 0.75
    public static let refutedBelow = 0.5

    /// One transform, IP version and traffic kind.
    public struct Entry: Hashable, Sendable {
        public var version: IPVersion
        public var traffic: TrafficKind
        public var esp: ESPAlgorithm
        /// The transport-AH transform it is compared with (`referenceAH(for:)`).
        public var ah: AHAlgorithm
        /// Average bytes added per packet by transport AH, and by each of `Column.all` in order.
        public var transportAH: Double
        public var values: [Double]

        public func value(_ column: Column) -> Double { values[Column.all.firstIndex(of: column)!] }
        /// Bytes more than transport AH, per column.
        public var deltas: [Double] { values.map { $0 - transportAH } }
        /// The cheapest compressed-tunnel preset for this traffic (of equals, the one that elides more: the last in
        /// preset order).
        public var bestCompressed: (column: Column, value: Double) {
            var best: (Column, Double)?
            for c in Column.all {
                guard case .compressed = c else { continue }
                if best == nil || value(c) <= best!.1 { best = (c, value(c)) }
            }
            return best!
        }
    }

    public var mix: TrafficMix
    public var entries: [Entry]

    /// The AH transform an ESP transform is compared with: the same integrity algorithm for a composite suite, AH-GMAC
    /// for ESP-GMAC (RFC 4543 defines both), and for an AEAD the HMAC whose ICV is as long (16 bytes:
    /// HMAC-SHA-256-128; 12: HMAC-SHA1-96; 8: none exists, so HMAC-SHA1-96, AH's shortest). Nil for
    /// confidentiality-only ESP, which offers no integrity to compare.
    public static func referenceAH(for esp: ESPAlgorithm) -> AHAlgorithm? {
        if esp.isConfidentialityOnly { return nil }
        if esp.integrity != .none { return try? AHAlgorithm(esp.integrity) }
        if case .nullAuthAESGMAC(let bits) = esp.encryption { return try? AHAlgorithm(.aesGMAC(keyBits: bits)) }
        return try? AHAlgorithm(esp.icvLength >= 16 ? .hmacSHA256_128 : .hmacSHA1_96)
    }

    /// The verdict over every authenticated ESP transform of `ESPAlgorithm.all`.
    public static func compute(mix: TrafficMix = .simpleIMIX,
                               transforms: [ESPAlgorithm] = ESPAlgorithm.all) -> CompressionVerdict {
        var entries: [Entry] = []
        for version in IPVersion.allCases {
            for traffic in TrafficKind.allCases {
                for esp in transforms {
                    guard let ah = referenceAH(for: esp) else { continue }
                    let base = mix.average(mode: OverheadMode(.transportAH)!, algorithm: .ah(ah), version: version)
                    let values = Column.all.map { column in
                        let (mode, algorithm) = column.cell(esp, ah)
                        return mix.average(mode: mode, algorithm: algorithm, version: version, traffic: traffic)
                            .overheadPerPacket
                    }
                    entries.append(Entry(version: version, traffic: traffic, esp: esp, ah: ah,
                                         transportAH: base.overheadPerPacket, values: values))
                }
            }
        }
        return CompressionVerdict(mix: mix, entries: entries)
    }

    public func entries(_ version: IPVersion, _ traffic: TrafficKind) -> [Entry] {
        entries.filter { $0.version == version && $0.traffic == traffic }
    }

    // MARK: - Tables

    /// Every entry: absolute averages and the differences from transport AH.
    public var table: DataTable {
        var columns: [DataTable.Column] = [.init("ip"), .init("traffic"), .init("esp_transform"), .init("ah_transform"),
                                           .init("transport_ah")]
        for c in Column.all { columns.append(.init(c.key)) }
        for c in Column.all { columns.append(.init("delta_" + c.key)) }
        var t = DataTable(columns: columns)
        for e in entries {
            var row: [DataTable.Cell] = [.int(Int(e.version.rawValue)), .text(e.traffic.rawValue),
                                         .text(e.esp.keyword), .text(e.ah.keyword), .decimal(e.transportAH, places: 2)]
            row += e.values.map { .decimal($0, places: 2) }
            row += e.deltas.map { .decimal($0, places: 2) }
            t.append(row)
        }
        return t
    }

    /// Bytes more than transport AH, for the transforms of `transforms` (or all), one IP version and traffic kind.
    public func deltaTable(_ version: IPVersion, _ traffic: TrafficKind,
                           transforms: [ESPAlgorithm]? = nil) -> DataTable {
        var columns: [DataTable.Column] = [.init("esp_transform", title: "ESP transform"),
                                           .init("ah_transform", title: "AH transform"),
                                           .init("transport_ah", title: "transport-ah")]
        for c in Column.all { columns.append(.init("delta_" + c.key, title: c.shortTitle)) }
        var t = DataTable(columns: columns)
        for e in entries(version, traffic) where transforms?.contains(e.esp) ?? true {
            var row: [DataTable.Cell] = [.text(e.esp.keyword), .text(e.ah.keyword), .decimal(e.transportAH, places: 2)]
            row += e.deltas.map { .decimal($0, places: 2) }
            t.append(row)
        }
        return t
    }

    // MARK: - Statements

    /// The ranges over all transforms of one version and traffic kind.
    public struct Summary: Hashable, Sendable {
        public var version: IPVersion
        public var traffic: TrafficKind
        public var transforms: Int
        /// Bytes more than transport AH: transport ESP, plain tunnel ESP, the best compressed tunnel.
        public var transportESP: ClosedRange<Double>
        public var tunnelESP: ClosedRange<Double>
        public var bestCompressed: ClosedRange<Double>
        /// The preset that is cheapest for most transforms.
        public var bestPreset: Column
        /// Bytes the best compressed tunnel saves over plain tunnel ESP.
        public var saved: ClosedRange<Double>
        /// The share of the bytes tunnel mode adds over transport ESP that compression recovers, averaged over the
        /// transforms (above 1 when the smaller packet also needs less padding).
        public var recovered: Double

        public var finding: String {
            recovered >= CompressionVerdict.borneOutFrom ? "borne out"
                : recovered < CompressionVerdict.refutedBelow ? "refuted" : "partly borne out"
        }
    }

    public func summary(_ version: IPVersion, _ traffic: TrafficKind) -> Summary {
        let es = entries(version, traffic)
        func range(_ f: (Entry) -> Double) -> ClosedRange<Double> {
            let v = es.map(f)
            return (v.min() ?? 0)...(v.max() ?? 0)
        }
        var presetCount: [Column: Int] = [:]
        for e in es { presetCount[e.bestCompressed.column, default: 0] += 1 }
        let presets = Column.all.filter { if case .compressed = $0 { true } else { false } }
        var best = presets[0]
        for p in presets where (presetCount[p] ?? 0) > (presetCount[best] ?? 0) { best = p }
        var recovered = 0.0
        for e in es {
            let extra = e.value(.tunnelESP) - e.value(.transportESP)
            recovered += extra > 0 ? (e.value(.tunnelESP) - e.bestCompressed.value) / extra : 0
        }
        return Summary(version: version, traffic: traffic, transforms: es.count,
                       transportESP: range { $0.value(.transportESP) - $0.transportAH },
                       tunnelESP: range { $0.value(.tunnelESP) - $0.transportAH },
                       bestCompressed: range { $0.bestCompressed.value - $0.transportAH },
                       bestPreset: best, saved: range { $0.value(.tunnelESP) - $0.bestCompressed.value },
                       recovered: es.isEmpty ? 0 : recovered / Double(es.count))
    }

    /// A range of byte counts as text: "+8.00", "−4.00 to +21.00" (signed), or "5.33 to 8.00" (unsigned).
    static func bytes(_ r: ClosedRange<Double>, signed: Bool = true) -> String {
        func f(_ v: Double) -> String {
            (signed || v < 0 ? (v > 0 ? "+" : v < 0 ? "−" : "±") : "") + FixedPoint.format(abs(v), places: 2)
        }
        return r.lowerBound == r.upperBound ? f(r.lowerBound) : "\(f(r.lowerBound)) to \(f(r.upperBound))"
    }

    static func percent(_ x: Double) -> String { FixedPoint.format(x * 100, places: 0) + "%" }

    /// The plain-language statement for one version and traffic kind.
    public func statement(_ version: IPVersion, _ traffic: TrafficKind) -> String {
        let s = summary(version, traffic)
        var text = "Over the \(s.transforms) authenticated ESP transforms, per packet and against transport AH: "
            + "transport ESP \(Self.bytes(s.transportESP)) bytes, plain tunnel ESP \(Self.bytes(s.tunnelESP)), the "
            + "best compressed tunnel (`\(s.bestPreset.label)` for most transforms) \(Self.bytes(s.bestCompressed)). "
            + "Compression saves \(Self.bytes(s.saved, signed: false)) bytes per packet over plain tunnel ESP, "
            + "\(Self.percent(s.recovered)) of what tunnel mode adds over transport ESP: the claim is "
            + "**\(s.finding)** for \(version) \(traffic) traffic."
        if traffic == .gatewayToGateway {
            text += " (Transport mode cannot carry gateway-to-gateway traffic; its figures are the reference the "
                + "claim names, not an alternative.)"
        }
        return text
    }

    static func both(_ v4: String, _ v6: String) -> String {
        v4 == v6 ? "\(v4) for IPv4 and IPv6" : "\(v4) for IPv4 and \(v6) for IPv6"
    }

    /// The overall verdict, one paragraph.
    public var conclusion: String {
        let h4 = summary(.v4, .hostToHost), h6 = summary(.v6, .hostToHost)
        let g4 = summary(.v4, .gatewayToGateway), g6 = summary(.v6, .gatewayToGateway)
        return "**Host-to-host traffic: the claim is \(Self.both(h4.finding, h6.finding)).** The compressed tunnel "
            + "(`\(h4.bestPreset.label)`) costs \(Self.bytes(h4.bestCompressed)) bytes per packet against transport "
            + "AH over IPv4 and \(Self.bytes(h6.bestCompressed)) over IPv6, depending on the transform — where plain "
            + "tunnel ESP costs \(Self.bytes(h4.tunnelESP)) and \(Self.bytes(h6.tunnelESP)). It recovers "
            + "\(Self.percent(h4.recovered)) (IPv4) and \(Self.percent(h6.recovered)) (IPv6) of the tunnel's extra "
            + "bytes; what is left against AH is ESP's own cost (IV, trailer, padding), which transport ESP pays too "
            + "(\(Self.bytes(h4.transportESP)) over IPv4), and which the implicit-IV and integrity-only transforms "
            + "bring to zero or below. **Gateway-to-gateway traffic: the claim is "
            + "\(Self.both(g4.finding, g6.finding)).** The inner addresses are not the tunnel endpoints, so only "
            + "`minimal` compresses; it saves \(Self.bytes(g4.saved, signed: false)) bytes (IPv4) and "
            + "\(Self.bytes(g6.saved, signed: false)) (IPv6) of the 20 / 40 the outer header costs, "
            + "\(Self.percent(g4.recovered)) and \(Self.percent(g6.recovered))."
    }
}

/// Section (c): the compression verdict. Deterministic: committed under `analysis/`.
public struct CompressionVerdictSection: ReportSection {
    public var id: String { "compression-verdict" }
    public var title: String { "The compression verdict" }
    public var isDeterministic: Bool { true }
    public var mix: TrafficMix = .simpleIMIX

    /// The transforms of the headline tables (all of them are in the data file and the unfolded tables).
    public static let headline: [ESPAlgorithm] = ["aes128gcm16", "aes128gcm16iiv", "chacha20poly1305",
                                                  "aes128-sha256", "aes128-sha1", "null-sha256", "aes128gmac"]
        .map { try! ESPAlgorithm(keyword: $0) }

    public init() {}

    public func run(_ context: ReportContext) throws -> ReportSectionOutput {
        let verdict = CompressionVerdict.compute(mix: mix)
        var blocks: [ReportBlock] = []
        var files: [ReportFile] = []
        files.append(ReportFile(path: "data/compression-verdict.csv", contents: verdict.table.csv))
        blocks.append(.paragraph(
            "Ferguson and Schneier (\"A Cryptographic Evaluation of IPsec\") propose to drop AH and transport mode: "
                + "tunnel-mode ESP whose inner header fields that equal the outer header's are elided would cost "
                + "almost as little as transport-mode AH. The numbers below come from the overhead model "
                + "(`docs/overhead.md`), whose compressed-tunnel arithmetic follows `docs/header-compression.md`: "
                + "the bytes each mode adds per packet, averaged over the \(mix.name) mix, minus what transport AH "
                + "adds with the matching integrity transform (the same HMAC for composite suites, AH-GMAC for "
                + "ESP-GMAC, the HMAC of equal ICV length for AEADs; HMAC-SHA1-96, AH's shortest, for 8-byte "
                + "ICVs). Host-to-host: the inner addresses are the tunnel endpoints. Gateway-to-gateway: they "
                + "are not, so only the `minimal` field set compresses and the others go as plain tunnel ESP."))
        blocks.append(.callout(verdict.conclusion, kind: .verdict))
        for version in IPVersion.allCases {
            for traffic in TrafficKind.allCases {
                blocks.append(.heading("\(version), \(traffic)", level: 3))
                blocks.append(.paragraph(verdict.statement(version, traffic)))
                blocks.append(.paragraph("Bytes added per packet by transport AH, then how many more each other "
                                         + "mode adds (\(mix.name) averages; `hc X` is `tunnel-esp-hc[X]`; "
                                         + "`transport-esp` and `tunnel-esp` are the `-null` modes for "
                                         + "integrity-only transforms):"))
                blocks.append(.table(verdict.deltaTable(version, traffic, transforms: Self.headline),
                                     data: "data/compression-verdict.csv"))
                blocks.append(.collapsible("Every authenticated ESP transform, \(version), \(traffic)",
                                           [.table(verdict.deltaTable(version, traffic),
                                                   data: "data/compression-verdict.csv")]))
            }
        }
        // The headline chart: the representative transform against transport AH with HMAC-SHA-256-128.
        let esp = try! ESPAlgorithm(keyword: "aes128gcm16")
        var chartTable = DataTable(keys: ["mode", "ipv4_host_to_host", "ipv4_gateway_to_gateway", "ipv6_host_to_host",
                                          "ipv6_gateway_to_gateway"])
        var categories: [String] = [], values: [[Double?]] = []
        let groups = IPVersion.allCases.flatMap { v in TrafficKind.allCases.map { (v, $0) } }
        let picked = groups.map { g in verdict.entries(g.0, g.1).first { $0.esp == esp }! }
        let rows: [(String, (CompressionVerdict.Entry) -> Double)] =
            [("transport-ah \(picked[0].ah)", { $0.transportAH })]
            + CompressionVerdict.Column.all.map { c in ("\(c.label) \(esp)", { $0.value(c) }) }
        for (label, f) in rows {
            let v = picked.map(f)
            categories.append(label)
            values.append(v)
            chartTable.append([.text(label)] + v.map { .decimal($0, places: 2) })
        }
        files.append(ReportFile(path: "data/compression-verdict-chart.csv", contents: chartTable.csv))
        blocks.insert(.chart(.bars(BarChart(
            name: "compression-verdict",
            title: "Bytes added per packet (\(mix.name)), \(esp) against transport AH \(picked[0].ah)",
            valueLabel: "bytes added per packet (average)", categories: categories,
            seriesNames: ["IPv4 host-to-host", "IPv4 gateway-to-gateway", "IPv6 host-to-host",
                          "IPv6 gateway-to-gateway"], values: values, decimals: 1)),
            data: "data/compression-verdict-chart.csv"), at: 2)
        let h = verdict.summary(.v4, .hostToHost)
        return ReportSectionOutput(blocks: blocks, files: files,
                                   status: .passed("host-to-host: claim \(h.finding); compressed tunnel "
                                                   + "\(CompressionVerdict.bytes(h.bestCompressed)) bytes vs "
                                                   + "transport AH (IPv4)"))
    }
}
