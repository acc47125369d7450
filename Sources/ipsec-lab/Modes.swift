import ArgumentParser
import IPsecCore
import IPsecCrypto
import IPsecWire

struct Modes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every mode of the matrix with the algorithms it takes."
    )

    @Flag(help: "Print JSON.")
    var json = false

    /// The mode matrix of architecture.md, with what each mode takes.
    static var rows: [(mode: String, protocolName: String, algorithms: [String], note: String)] {
        let esp = ESPAlgorithm.all.filter { $0.encryption.providesConfidentiality }.map(\.keyword)
        let espNull = ESPAlgorithm.all.filter { !$0.encryption.providesConfidentiality }.map(\.keyword)
        let ah = AHAlgorithm.all.map(\.keyword)
        return [
            ("transport-ah", "ah", ah, "AH after the IP header; authenticates the immutable IP fields too"),
            ("transport-esp", "esp", esp, "ESP after the IP header; confidentiality-only suites are insecure"),
            ("transport-esp-null", "esp", espNull, "integrity only (NULL encryption or GMAC)"),
            ("tunnel-ah", "ah", ah, "a new outer header, AH, the whole inner packet"),
            ("tunnel-esp", "esp", esp, "a new outer header, ESP around the whole inner packet"),
            ("tunnel-esp-null", "esp", espNull, "tunnel ESP, integrity only"),
            ("tunnel-esp-hc", "esp", esp + espNull,
             "tunnel ESP with the inner header compressed (docs/header-compression.md); presets "
                + HeaderCompressionFields.presets.map(\.name).joined(separator: ", ")),
        ]
    }

    func run() throws {
        let out = StandardOutput()
        defer { out.flush() }
        if json {
            for r in Self.rows {
                out.write(JSONValue.object([
                    JSONMember("mode", .string(r.mode)), JSONMember("protocol", .string(r.protocolName)),
                    JSONMember("ip", .array([.int(4), .int(6)])),
                    JSONMember("algorithms", .array(r.algorithms.map { .string($0) })),
                    JSONMember("note", .string(r.note)),
                ]).text)
            }
        } else {
            for r in Self.rows {
                out.write("\(r.mode) (IPv4, IPv6): \(r.note)")
                out.write("  " + r.algorithms.joined(separator: " "))
            }
        }
    }
}
