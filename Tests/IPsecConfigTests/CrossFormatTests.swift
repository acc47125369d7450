import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

@Suite("The same SAs in every format")
struct CrossFormatTests {
    @Test("JSON, ip xfrm commands and an ip xfrm listing load to the same SAs", arguments: [
        (Fixtures.json, SAFileFormat.json), (Fixtures.commands, .ipXfrmCommands), (Fixtures.listing, .ipXfrmListing),
    ])
    func sameSAs(_ text: String, _ format: SAFileFormat) throws {
        let file = try parse(text)
        #expect(file.format == format)
        let expected = try Fixtures.expected()
        #expect(file.associations.count == expected.count)
        for (got, want) in zip(file.associations, expected) {
            #expect(got == want, "\(got)")
        }
    }

    @Test("JSON written with keys reads back identically")
    func jsonRoundTrip() throws {
        let associations = try Fixtures.expected() + Self.variety()
        let text = SAFile.json(associations, includeKeys: true)
        let file = try parse(text, origin: "written.json")
        #expect(file.format == .json)
        #expect(file.associations == associations)
        // Writing is deterministic and idempotent.
        #expect(SAFile.json(file.associations, includeKeys: true) == text)
    }

    @Test("JSON written without keys holds no key material")
    func jsonWithoutKeys() throws {
        let associations = try Fixtures.expected()
        let text = SAFile.json(associations, includeKeys: false)
        for secret in Fixtures.secrets { #expect(!leaks(text, secret)) }
        #expect(!text.contains("_key"))
        // It describes the SAs but, keys missing, does not load.
        expectError(text, origin: "report.json", code: .badKeyLength, line: 3,
                    mentions: ["associations[0].encryption_key: 0 bytes, aes128gcm16 needs 20 (16 key + 4 salt)"])
    }

    @Test("ip xfrm commands written by IPsecLab read back identically")
    func commandsRoundTrip() throws {
        let associations = try Fixtures.expected() + Self.variety().filter {
            // What Linux cannot express: implicit IVs and AH GMAC.
            switch $0.algorithm {
            case .esp(let a): !a.encryption.usesImplicitIV
            case .ah(let a): a.integrity.saltLength == 0
            }
        }
        let text = try SAFile.ipXfrmCommands(associations)
        let file = try parse(text, origin: "written.sh")
        #expect(file.format == .ipXfrmCommands)
        #expect(file.associations == associations)
    }

    @Test("Commands refuse what Linux cannot express")
    func commandsRefuse() throws {
        let iiv = SAConfiguration(protocol: .esp, spi: 0x1000, mode: .tunnel, source: address("10.0.0.1"),
                                  destination: address("10.0.0.2"), algorithm: try esp("aes128gcm16iiv"),
                                  encryptionKey: keyBytes(20))
        #expect(throws: ConfigError.self) { try SAFile.ipXfrmCommands([iiv]) }
        let gmac = SAConfiguration(protocol: .ah, spi: 0x1000, mode: .tunnel, source: address("10.0.0.1"),
                                   destination: address("10.0.0.2"), algorithm: try ah("aes128gmac"),
                                   integrityKey: keyBytes(20))
        #expect(throws: ConfigError.self) { try SAFile.ipXfrmCommands([gmac]) }
    }

    /// One SA of every ESP and AH algorithm, with varied modes, families, selectors and sequence state.
    static func variety() throws -> [SAConfiguration] {
        var out: [SAConfiguration] = []
        var spi: UInt32 = 0x2000
        for (i, algorithm) in ESPAlgorithm.all.enumerated() {
            spi += 1
            let v6 = i % 3 == 0
            out.append(SAConfiguration(
                protocol: .esp, spi: spi, mode: [SAMode.transport, .tunnel, .tunnelHC][i % 3],
                source: address(v6 ? "2001:db8::a" : "192.0.2.10"), destination: address(v6 ? "2001:db8::b" : "192.0.2.11"),
                algorithm: .esp(algorithm), encryptionKey: keyBytes(algorithm.encryptionKeyLength, seed: UInt8(i)),
                integrityKey: keyBytes(algorithm.integrityKeyLength, seed: UInt8(i) &+ 100), reqid: UInt32(i),
                extendedSequenceNumbers: i % 2 == 0,
                replayWindow: i % 2 == 0 ? [32, 64, 4096][i % 3] : [0, 64, 128][i % 3],
                replaySequence: i % 2 == 0 ? 0x1_0000_0000 + UInt64(i) : UInt64(i),
                outboundSequence: i % 4 == 0 ? 0xffff_ffff_ffff_fffe : 0,
                selector: i % 4 == 1 ? TrafficSelector(source: prefix(v6 ? "2001:db8:5::/48" : "10.5.0.0/16"),
                                                       protocol: .udp, sourcePort: 53) : nil,
                encapsulation: i % 5 == 2 && !v6 ? UDPEncapsulationConfig(sourcePort: 4500, destinationPort: 61000)
                    : nil,
                // A tunnel-hc SA always has a field set (reading one without hc-fields gives the default).
                headerCompression: i % 3 == 2 ? [HeaderCompressionFields.hostToHost, .addresses, .minimal][i % 9 / 3]
                    : nil))
        }
        for (i, algorithm) in AHAlgorithm.all.enumerated() {
            spi += 1
            out.append(SAConfiguration(
                protocol: .ah, spi: spi, mode: i % 2 == 0 ? .transport : .tunnel, source: address("198.51.100.1"),
                destination: address("198.51.100.2"), algorithm: .ah(algorithm),
                integrityKey: keyBytes(algorithm.keyLength, seed: UInt8(i)), extendedSequenceNumbers: i % 2 == 1,
                replayWindow: 64, replaySequence: i % 2 == 1 ? UInt64(i) << 33 : UInt64(i)))
        }
        let linuxAH = SAConfiguration(protocol: .ah, spi: 0x3000, mode: .transport, source: address("10.9.0.1"),
                                      destination: address("10.9.0.2"), algorithm: try ah("sha256_96"),
                                      integrityKey: keyBytes(32), replayWindow: 0)
        out.append(linuxAH)
        return out
    }
}
