import ArgumentParser
import IPsecAnalysis
import IPsecWire

struct Overhead: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The bytes every mode adds, part by part, from the overhead model.",
        discussion: """
            One row per mode, IP version, algorithm and inner packet size ("payload": the inner IP packet, its header \
            included): outer header, UDP (NAT traversal), ESP or AH header, IV, compressed-tunnel residual and elided \
            inner header, padding, trailer, ICV, the total and the expansion. --summary (or --mtu) prints one row \
            per mode, version and algorithm instead: the simple-IMIX averages and the largest inner packet that fits \
            the MTU. Modes: transport-ah, transport-esp, transport-esp-null, tunnel-ah, tunnel-esp, tunnel-esp-null, \
            tunnel-esp-hc (every preset; or tunnel-esp-hc[minimal|addresses|host-to-host|FIELD,...]), and \
            transport-esp[nat-t], tunnel-esp[nat-t]. JSON output is JSON Lines (one object per row). See \
            docs/overhead.md.
            """
    )

    @Option(help: "IP version, 4 or 6 (default: both).")
    var ip: String?

    @Option(help: "Inner packet sizes in bytes, comma-separated (default: 40,100,576,1280,1400,1500).")
    var sizes: String?

    @Option(help: "ESP suites and AH algorithms by keyword, comma-separated (default: every one each mode takes).")
    var algorithms: String?

    @Option(help: "Modes, comma-separated (default: all).")
    var modes: String?

    @Option(help: "Traffic for the compressed tunnel: host-to-host, gateway-to-gateway or both (default: both).")
    var traffic: String?

    @Option(help: "Path MTU for the largest inner packet (implies --summary; default 1500).")
    var mtu: Int?

    @Flag(help: "One row per mode, version and algorithm: IMIX averages and the largest packet for the MTU.")
    var summary = false

    @Option(help: "markdown, csv or json (JSON Lines).")
    var format: String = "markdown"

    func run() throws {
        try runReportingErrors {
            var query = OverheadQuery()
            if let ip {
                switch ip {
                case "4": query.versions = [.v4]
                case "6": query.versions = [.v6]
                default: throw AnalysisError("--ip takes 4 or 6, not \"\(ip)\"")
                }
            }
            if let sizes {
                query.sizes = try Self.list(sizes).map { text throws(AnalysisError) in
                    guard let n = Int(text) else { throw AnalysisError("size \"\(text)\" is not a number") }
                    return n
                }
            }
            if let algorithms { query.algorithms = try OverheadQuery.parseAlgorithms(try Self.list(algorithms)) }
            if let modes {
                switch OverheadMode.parseList(try Self.list(modes)) {
                case .success(let m): query.modes = m
                case .failure(let e): throw AnalysisError(e.description)
                }
            }
            if let traffic {
                query.traffic = try Self.list(traffic).flatMap { text throws(AnalysisError) -> [TrafficKind] in
                    if text == "both" { return TrafficKind.allCases }
                    guard let t = TrafficKind(rawValue: text) else {
                        throw AnalysisError("--traffic takes host-to-host, gateway-to-gateway or both, not \"\(text)\"")
                    }
                    return [t]
                }
            }
            if let mtu { query.mtu = mtu }
            let table = summary || mtu != nil ? try query.summary() : try query.rows()
            let out = StandardOutput()
            defer { out.flush() }
            let text: String
            switch format {
            case "markdown": text = table.markdown
            case "csv": text = table.csv
            case "json": text = table.jsonLines
            default: throw AnalysisError("--format takes markdown, csv or json, not \"\(format)\"")
            }
            // The renderings end every line in a newline; `write` adds the last one.
            if !text.isEmpty { out.write(String(text.dropLast())) }
        }
    }

    /// Splits a comma-separated list; commas inside brackets (`tunnel-esp-hc[source,destination]`) do not split.
    static func list(_ text: String) throws(AnalysisError) -> [String] {
        var items: [String] = [], current = "", depth = 0
        for ch in text {
            if ch == "[" { depth += 1 } else if ch == "]" { depth -= 1 }
            if ch == ",", depth == 0 {
                items.append(current)
                current = ""
            } else if !ch.isWhitespace {
                current.append(ch)
            }
        }
        items.append(current)
        guard !items.contains(where: \.isEmpty) else { throw AnalysisError("empty item in list \"\(text)\"") }
        return items
    }
}
