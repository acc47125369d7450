/// The report's benchmarks: a quick `ipsec-lab bench` over the seven modes at 64 and 1400 bytes, the targets
/// (docs/performance.md) checked against the measured ratios, and the allocation count of every row. Rates depend on
/// the machine and its load; allocation counts do not.
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
        blocks.append(.paragraph(
            "`ipsec-lab bench` (docs/performance.md) on one core over IPv4: each row protects (encap) or opens "
                + "(decap) one inner packet size through the data plane, and measures the raw OpenSSL EVP "
                + "cryptography of the same transform on buffers of the same size in the same run — the limit. The "
                + "ratio is the data plane's packet rate over the limit's. Windows of "
                + "\(FixedPoint.format(query.seconds * 1000, places: 0)) ms, best of \(query.rounds), "
                + "alternating data plane and limit (`\(context.depth)` depth); rates vary with the machine and its "
                + "load, allocation counts do not."))
        let allocating = rows.filter { ($0.allocationsPerPacket ?? 1) > 0 }
        if !Bench.countsAllocations {
            blocks.append(.callout("This build cannot count allocations (a sanitizer owns the allocator).",
                                   kind: .note))
        } else if allocating.isEmpty {
            blocks.append(.callout("Zero heap allocations per packet in steady state, in every mode and direction "
                                   + "measured (\(rows.count) rows), counted by the allocator.", kind: .pass))
        } else {
            let list = allocating.prefix(5).map {
                "\($0.mode.label) \($0.algorithm) \($0.size) B \($0.direction): "
                    + FixedPoint.format($0.allocationsPerPacket ?? 0, places: 2)
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
                }) else { continue }
                checked += 1
                let ok = r.ratioToLimit >= t.ratio
                if ok { met += 1 }
                targetTable.append([.text(t.mode), .text(t.algorithm), .int(t.size), .text(direction.rawValue),
                                    .decimal(t.ratio, places: 2), .decimal(r.ratioToLimit, places: 3), .bool(ok)])
            }
        }
        blocks.append(.heading("The issue's targets", level: 3))
        blocks.append(.paragraph("\(met) of \(checked) targets met on this run. docs/performance.md explains, with a "
                                 + "profile, what stands between the data plane and the limit."))
        blocks.append(.table(targetTable, data: "data/benchmarks-targets.csv"))
        blocks.append(.heading("Every row", level: 3))
        let table = Bench.markdownTable(rows)
        blocks.append(.table(table, data: "data/benchmarks.csv"))
        let files = [ReportFile(path: "data/benchmarks.csv", contents: Bench.jsonTable(rows).csv),
                     ReportFile(path: "data/benchmarks-targets.csv", contents: targetTable.csv)]
        let summary = "\(met) of \(checked) throughput targets met; "
            + (allocating.isEmpty ? "zero allocations per packet" : "\(allocating.count) rows allocate")
        return ReportSectionOutput(blocks: blocks, files: files,
                                   status: allocating.isEmpty ? .passed(summary) : .failed(summary))
    }
}
