import IPsecAnalysis
import IPsecCore
import IPsecCrypto
#if canImport(Glibc)
import Glibc
#endif

extension BenchCommand {
    /// `bench --burst N`: the burst data plane on OpenSSL and on libipsec-mb against both raw limits
    /// (docs/ipsec-mb.md). Takes --algorithms (ESP keywords), --sizes, --direction, --seconds, --rounds, --json and
    /// --modes (tunnel-esp, transport-esp).
    func runBurst(_ burst: Int) throws {
        let keywords = try algorithms.map { try Overhead.list($0) } ?? BurstBench.defaultAlgorithms
        let parsed = try keywords.map { keyword throws(AnalysisError) in
            do { return try ESPAlgorithm(keyword: keyword) } catch { throw AnalysisError("\(error)") }
        }
        let sizeList = try sizes.map { try Overhead.list($0) }?.map { text throws(AnalysisError) in
            guard let n = Int(text) else { throw AnalysisError("size \"\(text)\" is not a number") }
            return n
        } ?? BurstBench.defaultSizes
        let modeList = try (modes.map { try Overhead.list($0) } ?? ["tunnel-esp"]).map { name throws(AnalysisError) in
            switch name {
            case "tunnel-esp": return SAMode.tunnel
            case "transport-esp": return SAMode.transport
            default: throw AnalysisError("--burst measures tunnel-esp and transport-esp, not \"\(name)\"")
            }
        }
        let directions: [BenchDirection]
        switch direction {
        case "both": directions = BenchDirection.allCases
        case "encap": directions = [.encap]
        case "decap": directions = [.decap]
        default: throw AnalysisError("--direction takes encap, decap or both, not \"\(direction)\"")
        }
        let onTerminal = isatty(2) == 1
        let rows = try BurstBench.run(modes: modeList, algorithms: parsed, sizes: sizeList, directions: directions,
                                      burst: burst, seconds: seconds, rounds: rounds) { done, total in
            guard onTerminal else { return }
            writeAll(2, Array("\rbench: \(done)/\(total) rows".utf8) + (done == total ? [0x0d, 0x1b, 0x5b, 0x4b] : []))
        }
        let out = StandardOutput()
        defer { out.flush() }
        let text = json ? BurstBench.jsonLines(rows) : BurstBench.markdown(rows)
        if !text.isEmpty { out.write(String(text.dropLast())) }
        if !json {
            out.write("")
            out.write("burst of \(burst) packets; crypto: \(CryptoBackend.openSSLVersion); \(IPsecMB.status)")
        }
    }
}
