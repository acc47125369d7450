import IPsecConfig
import IPsecCore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The examples of docs/sa-files.md load as the document says.
@Suite("docs/sa-files.md")
struct DocumentationTests {
    static func document() throws -> String {
        let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        let path = (parts.dropLast(3) + ["docs", "sa-files.md"]).joined(separator: "/")
        guard let file = fopen(path, "r") else {
            throw ConfigError(.unreadable, origin: path, line: nil, reason: "cannot open")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The fenced blocks that follow `heading`, up to the next heading of the same level.
    static func blocks(after heading: String, in text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: heading) else { return [] }
        var out: [String] = []
        var current: [String]?
        for line in lines[(start + 1)...] {
            if current == nil, line.hasPrefix("## ") { break }
            if line.hasPrefix("```") {
                if let block = current {
                    out.append(block.joined(separator: "\n") + "\n")
                    current = nil
                } else {
                    current = []
                }
            } else {
                current?.append(line)
            }
        }
        return out
    }

    @Test("The JSON example")
    func jsonExample() throws {
        let block = try #require(Self.blocks(after: "## Native JSON", in: try Self.document()).first)
        let file = try SAFile.parse(block, origin: "docs")
        #expect(file.format == .json)
        #expect(file.associations.map(\.modeName) == ["tunnel-esp", "transport-ah"])
        #expect(file.associations[0].encapsulation != nil && file.associations[0].extendedSequenceNumbers)
    }

    @Test("The listing example")
    func listingExample() throws {
        let block = try #require(Self.blocks(after: "## `ip xfrm state` listings", in: try Self.document()).first)
        let file = try SAFile.parse(block, origin: "docs")
        #expect(file.format == .ipXfrmListing)
        #expect(file.associations.count == 2)
        #expect(file.associations[0].outboundSequence == 5)
        #expect(file.associations[1].algorithm.description == "sha256")
    }

    @Test("The error examples have the shape of real messages")
    func errorExamples() throws {
        let block = try #require(Self.blocks(after: "## Errors", in: try Self.document()).first)
        let examples = block.split(separator: "\n").map(String.init)
        let produced = [
            expectError("#!/bin/sh\nip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 mode tunnel \\\n"
                            + "  enc cbc(foo) 0x\(keyHex(16))\n", code: .unknownAlgorithm, line: 3),
            expectError("""
                {
                  "associations": [
                    {
                      "protocol": "esp", "spi": 1, "mode": "tunnel",
                      "source": "10.0.0.1", "destination": "10.0.0.2",
                      "algorithm": "aes128gcm16",
                      "encryption_key": "\(keyHex(16))"
                    }
                  ]
                }
                """, origin: "sa.json", code: .badKeyLength, line: 7),
            expectError("# x\nip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 enc aes 0x\(keyHex(16)) "
                            + "auth hmac(sha1) 0x\(keyHex(16))\n", code: .badKeyLength, line: 2),
            expectError("hello\n", origin: "x.txt", code: .notAnSAFile, line: nil),
        ].map { $0?.description ?? "" }
        #expect(produced == examples)
    }
}

@Suite("docs/sa-files.md: policies, setkey.conf and Wireshark")
struct InteropDocumentationTests {
    @Test("The policies and IPComp example")
    func policiesExample() throws {
        let block = try #require(DocumentationTests.blocks(after: "### Policies and IPComp SAs",
                                                           in: try DocumentationTests.document()).first)
        let file = try SAFile.parse(block, origin: "docs")
        #expect(file.associations.isEmpty && file.compressions.count == 1 && file.policies.count == 3)
        #expect(file.policies.map(\.action.description).first?.hasPrefix("protect ipcomp/tunnel") == true)
        #expect(file.policies[1].selector.destinationPorts == 5000...5099)
    }

    @Test("The setkey.conf example")
    func setkeyExample() throws {
        let block = try #require(DocumentationTests.blocks(after: "## setkey.conf", in: try DocumentationTests.document()).first)
        let file = try SAFile.parse(block, origin: "docs")
        #expect(file.format == .setkey)
        #expect(file.associations.map(\.modeName) == ["transport-ah", "transport-esp", "tunnel-esp"])
        #expect(file.compressions.count == 1 && file.policies.count == 3)
    }

    @Test("The esp_sa example")
    func wiresharkExample() throws {
        let block = try #require(DocumentationTests.blocks(after: "## Wireshark's esp_sa table",
                                                           in: try DocumentationTests.document()).first)
        let file = try SAFile.parse(block, origin: "docs")
        #expect(file.format == .wiresharkESPSA)
        #expect(file.associations.map(\.algorithm.description) == ["aes128-sha1", "aes128gcm16"])
        #expect(file.associations[0].extendedSequenceNumbers && file.associations[0].replayWindow == 32)
        #expect(file.associations[1].replayWindow == 64 && file.associations[1].mode == .tunnel)
    }
}
