import IPsecCrypto

/// The report's benchmarks: a quick `ipsec-lab bench` over the seven modes at 64 and 1400 bytes — both crypto limits
/// (OpenSSL EVP, libipsec-mb) and the data plane on each library — the targets (docs/performance.md) checked
/// against the measured ratios, and the allocation count of every row on every library. Rates depend on the machine
/// and its load; allocation counts do not.
public struct BenchSection: ReportSection {
    public let id = "benchmarks"
    public let title = "Benchmarks"
    public var isDeterministic: Bool { false }

    public init() {}

    /// A target of the issue: a mode and algorithm at a size must reach `ratio` of its raw crypto limit.
    struct Target {
        var mode: String
        var algorithm: String
        var size: Int
        var ratio: Double
    }

    static let targets: [Target] = [
        Target(mode: "tunnel-esp", algorithm: "aes128gcm16", size: 1400, ratio: 0.9),
        Target(mode: "tunnel-esp", algorithm: "aes128gcm16", size: 64, ratio: 0.6),
        Target(mode: "tunnel-esp", algorithm: "chacha20poly1305", size: 1400, ratio: 0.9),
        Target(mode: "tunnel-esp", algorithm: "chacha20poly1305", size: 64, ratio: 0.6),
        Target(mode: "tunnel-esp", algorithm: "aes128-sha256", size: 1400, ratio: 0.8),
        Target(mode: "tunnel-esp", algorithm: "aes128-sha256", size: 64, ratio: 0.8),
    ]

    public func run(_ context: ReportContext) throws -> ReportSectionOutput {
        var query = BenchQuery()
        query.sizes = [64, 1400]
        switch context.depth {
        case .quick: (query.seconds, query.rounds) = (0.01, 2)
        case .standard: (query.seconds, query.rounds) = (0.03, 3)
        case .full: (query.seconds, query.rounds) = (0.2, 3)
        }
        let rows = try Bench.run(query) { done, total in context.progress("benchmarks: \(done)/\(total) rows") }
        var blocks: [ReportBlock] = []
        let libraries = query.backends.contains(.ipsecMB)
            ? "on OpenSSL and on libipsec-mb" : "on OpenSSL (libipsec-mb: \(IPsecMB.status))"
        blocks.append(.paragraph(
            "`ipsec-lab bench` (docs/performance.md) on one core over IPv4: each row protects (encap) or opens "
                + "(decap) one inner packet size through the data plane \(libraries), and measures two limits in the "
                + "same run, on buffers of the same size: the raw OpenSSL EVP cryptography of the same transform, one "
                + "packet per call, and raw libipsec-mb, \(Bench.ipsecMBLimitBurst) buffers per call (— where the "
                + "library does not run the transform). Each data plane's ratio is its packet rate over the faster "
                + "limit's. Windows of \(FixedPoint.format(query.seconds * 1000, places: 0)) ms, best of "
                + "\(query.rounds), alternating limits and data planes (`\(context.depth)` depth); rates vary with the "
                + "machine and its load, allocation counts do not."))
        let allocating = rows.flatMap { r in r.planes.map { (r, $0) } }.filter { ($0.1.allocationsPerPacket ?? 1) > 0 }
        if !Bench.countsAllocations {
            blocks.append(.callout("This build cannot count allocations (a sanitizer owns the allocator).",
                                   kind: .note))
        } else if allocating.isEmpty {
            let planes = rows.reduce(0) { $0 + $1.planes.count }
            blocks.append(.callout("Zero heap allocations per packet in steady state, in every mode and direction "
                                   + "measured (\(rows.count) rows, \(planes) data plane measurements on "
                                   + "\(query.backends.map(Bench.displayName).joined(separator: " and "))), counted "
                                   + "by the allocator.", kind: .pass))
        } else {
            let list = allocating.prefix(5).map { (r, p) in
                "\(r.mode.label) \(r.algorithm) \(r.size) B \(r.direction) on \(Bench.displayName(p.backend)): "
                    + FixedPoint.format(p.allocationsPerPacket ?? 0, places: 2)
            }
            blocks.append(.callout("Rows that allocate per packet: " + list.joined(separator: "; ")
                                   + (allocating.count > 5 ? "; and \(allocating.count - 5) more" : "")
                                   + ". A debug build allocates; measure a release build.", kind: .fail))
        }
        var targetTable = DataTable(columns: [
            .init("mode"), .init("algorithm"), .init("size", title: "size (B)"), .init("direction"),
            .init("target"), .init("ratio_to_limit", title: "ratio"), .init("met"),
        ])
        var met = 0, checked = 0
        for t in Self.targets {
            for direction in BenchDirection.allCases {
                guard let r = rows.first(where: {
                    $0.mode.label == t.mode && $0.algorithm.description == t.algorithm && $0.size == t.size
                        && $0.direction == direction
                }), let ratio = r.ratioToLimit else { continue }
                checked += 1
                let ok = ratio >= t.ratio
                if ok { met += 1 }
                targetTable.append([.text(t.mode), .text(t.algorithm), .int(t.size), .text(direction.rawValue),
                                    .decimal(t.ratio, places: 2), .decimal(ratio, places: 3), .bool(ok)])
            }
        }
        blocks.append(.heading("The issue's targets", level: 3))
        blocks.append(.paragraph("\(met) of \(checked) targets met on this run: the OpenSSL data plane against the "
                                 + "OpenSSL EVP limit, as the targets were set. docs/performance.md explains, with a "
                                 + "profile, what stands between the data plane and the limit; docs/ipsec-mb.md the "
                                 + "burst path's targets against libipsec-mb."))
        blocks.append(.table(targetTable, data: "data/benchmarks-targets.csv"))
        blocks.append(.heading("Every row", level: 3))
        let table = Bench.markdownTable(rows, backends: query.backends)
        blocks.append(.table(table, data: "data/benchmarks.csv"))
        let files = [ReportFile(path: "data/benchmarks.csv", contents: Bench.jsonTable(rows).csv),
                     ReportFile(path: "data/benchmarks-targets.csv", contents: targetTable.csv)]
        let summary = "\(met) of \(checked) throughput targets met; "
            + (allocating.isEmpty ? "zero allocations per packet" : "\(allocating.count) measurements allocate")
        return ReportSectionOutput(blocks: blocks, files: files,
                                   status: allocating.isEmpty ? .passed(summary) : .failed(summary))
    }
}
