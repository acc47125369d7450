import ArgumentParser
import IPsecAnalysis
import IPsecCrypto
#if canImport(Glibc)
import Glibc
#endif

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Packets per second of every mode against both raw crypto limits, and heap allocations per packet.",
        discussion: """
            One row per mode, algorithm, inner packet size and direction (encap: Outbound.protect; decap: \
            Inbound.unprotect), on one core over IPv4: two limits measured in the same run on buffers of the same \
            size — the raw OpenSSL EVP throughput of the same transform and raw libipsec-mb's, 32 buffers per call \
            ("—" where the library does not run the transform) — and the data plane on OpenSSL and on libipsec-mb \
            (--backend), each with packets/s, bytes/s of inner packets, its ratio to the faster limit and heap \
            allocations per packet counted by the allocator. Modes by default: the seven of the matrix \
            (tunnel-esp-hc with the host-to-host preset); algorithms: aes128gcm16, chacha20poly1305, aes128-sha256, \
            null-sha256 and AH sha256, or 'all'. --json prints JSON Lines. See docs/performance.md.
            """
    )

    @Option(help: "Modes, comma-separated (default: the seven of the matrix).")
    var modes: String?

    @Option(help: "ESP suites and AH algorithms by keyword, comma-separated, or 'all' (every one each mode takes).")
    var algorithms: String?

    @Option(help: "Inner packet sizes in bytes, comma-separated (default: 64,512,1400,9000).")
    var sizes: String?

    @Option(help: "encap, decap or both.")
    var direction: String = "both"

    @Option(help: "Seconds per timed window.")
    var seconds: Double = 0.1

    @Option(help: "Windows per measurement, alternating limits and data planes; the best is kept.")
    var rounds: Int = 3

    @Option(help: "Data planes to measure: openssl, ipsec-mb or both (default: both when libipsec-mb runs here). Both limits are measured either way.")
    var backend: String?

    @Flag(help: "JSON Lines, one object per row.")
    var json = false

    @Option(help: "Measure the burst data plane instead, N packets per call, on OpenSSL and libipsec-mb against both raw limits (docs/ipsec-mb.md).")
    var burst: Int?

    func run() throws {
        try runReportingErrors {
            if let burst {
                if backend != nil { throw AnalysisError("--burst measures both backends; drop --backend") }
                return try runBurst(burst)
            }
            var query = BenchQuery()
            if let backend { query.backends = try BenchQuery.parseBackends(backend) }
            if let modes {
                switch OverheadMode.parseList(try Overhead.list(modes)) {
                case .success(let m): query.modes = m
                case .failure(let e): throw AnalysisError(e.description)
                }
            }
            if let algorithms {
                query.algorithms = algorithms == "all" ? nil : try OverheadQuery.parseAlgorithms(try Overhead.list(algorithms))
            }
            if let sizes {
                query.sizes = try Overhead.list(sizes).map { text throws(AnalysisError) in
                    guard let n = Int(text) else { throw AnalysisError("size \"\(text)\" is not a number") }
                    return n
                }
            }
            switch direction {
            case "both": query.directions = BenchDirection.allCases
            case "encap": query.directions = [.encap]
            case "decap": query.directions = [.decap]
            default: throw AnalysisError("--direction takes encap, decap or both, not \"\(direction)\"")
            }
            query.seconds = seconds
            query.rounds = rounds
            let onTerminal = isatty(2) == 1
            let rows = try Bench.run(query) { done, total in
                guard onTerminal else { return }
                writeAll(2, Array("\rbench: \(done)/\(total) rows".utf8) + (done == total ? [0x0d, 0x1b, 0x5b, 0x4b] : []))
            }
            let out = StandardOutput()
            defer { out.flush() }
            let text = json ? Bench.jsonTable(rows).jsonLines
                : Bench.markdownTable(rows, backends: query.backends).markdown
            if !text.isEmpty { out.write(String(text.dropLast())) }
            if !json {
                out.write("")
                out.write("limits: OpenSSL EVP one packet per call (\(CryptoBackend.openSSLVersion)); libipsec-mb "
                          + "\(Bench.ipsecMBLimitBurst) buffers per call (\(IPsecMB.status)). ratio: the data plane's "
                          + "packets/s over the faster limit's. —: not run, libipsec-mb lacks the transform here.")
                if !Bench.countsAllocations {
                    out.write("allocations: not counted in this build (a sanitizer owns the allocator)")
                }
            }
        }
    }
}
