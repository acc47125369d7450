import Foundation
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// The worked examples of docs/header-compression.md, read from the document itself, so the specification and the
/// implementation cannot drift apart: each example's SA, inner packet and protected packet must match byte for byte,
/// in both directions.
@Suite struct SpecificationExampleTests {
    static let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/header-compression.md")

    /// The hex in the first fenced block after `<!-- example:NAME -->`.
    static func block(_ name: String, in text: String) throws -> [UInt8] {
        let marker = "<!-- example:\(name) -->"
        let start = try #require(text.range(of: marker), "no \(marker) in the document")
        let rest = text[start.upperBound...]
        let open = try #require(rest.range(of: "```text\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        return hex(String(rest[open.upperBound..<close.lowerBound]))
    }

    struct Example {
        var name: String
        var config: SAConfiguration
        var iv: [UInt8]
    }

    static let examples: [Example] = [
        Example(name: "v4", config: SAConfiguration(
            protocol: .esp, spi: 0x0000_1000, mode: .tunnelHC, source: IPAddress("192.0.2.1")!,
            destination: IPAddress("192.0.2.2")!, algorithm: .esp(try! ESPAlgorithm(keyword: "aes128gcm16")),
            encryptionKey: hex("000102030405060708090a0b0c0d0e0f 10111213"), headerCompression: .hostToHost),
            iv: hex("0001020304050607")),
        Example(name: "v6", config: SAConfiguration(
            protocol: .esp, spi: 0x0000_2000, mode: .tunnelHC, source: IPAddress("2001:db8::1")!,
            destination: IPAddress("2001:db8::2")!, algorithm: .esp(try! ESPAlgorithm(keyword: "null-sha256")),
            integrityKey: hex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"),
            headerCompression: .hostToHost.subtracting([.identification, .dontFragment])),
            iv: []),
    ]

    @Test(arguments: examples.map(\.name))
    func workedExample(_ name: String) throws {
        let example = try #require(Self.examples.first { $0.name == name })
        let text = try String(contentsOf: Self.doc, encoding: .utf8)
        let inner = try Self.block("\(name)-inner", in: text)
        let protected = try Self.block("\(name)-protected", in: text)
        let sa = try SecurityAssociation(example.config, ivSource: .fixed(example.iv))
        var out: [UInt8] = []
        try Outbound.protect(inner[...], with: sa, into: &out)
        #expect(out == protected, "protect gives:\n\(hexString(out))")
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(example.config))
        var opened: [UInt8] = [], scratch: [UInt8] = []
        let r = Inbound.unprotect(protected[...], sad: sad, into: &opened, scratch: &scratch)
        #expect(r.verdict == .accepted)
        #expect(opened == inner)
        // The associated data the document spells out is what authenticates the elided fields.
        let aad = try Self.block("\(name)-elided", in: text)
        #expect(aad.count == (name == "v4" ? 2 + 4 + 4 + 1 + 2 + 1 : 2 + 16 + 16 + 1))
    }
}
