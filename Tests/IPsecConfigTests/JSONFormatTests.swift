import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

@Suite("Native JSON")
struct JSONFormatTests {
    static func one(_ fields: String) -> String {
        """
        {"associations": [{"protocol": "esp", "spi": "0x1000", "mode": "tunnel", "source": "192.0.2.1",
          "destination": "192.0.2.2", \(fields)}]}
        """
    }

    @Test("Defaults: reqid 0, no ESN, a 64-packet window, sequence numbers 0, no selector or encapsulation")
    func defaults() throws {
        let file = try parse(Self.one(#""algorithm": "aes128gcm16", "encryption_key": "\#(keyHex(20))""#))
        let sa = try #require(file.associations.first)
        #expect(sa == SAConfiguration(protocol: .esp, spi: 0x1000, mode: .tunnel, source: address("192.0.2.1"),
                                      destination: address("192.0.2.2"), algorithm: try esp("aes128gcm16"),
                                      encryptionKey: keyBytes(20)))
        #expect(sa.replayWindow == 64)
    }

    @Test("A bare array of SAs")
    func bareArray() throws {
        let text = """
            [{"protocol": "ah", "spi": 1, "mode": "transport", "source": "::1", "destination": "::2",
              "algorithm": "sha512", "integrity_key": "\(keyHex(64))"}]
            """
        let sa = try #require(try parse(text).associations.first)
        #expect(sa.algorithm == (try ah("sha512")))
        #expect(sa.integrityKey == keyBytes(64))
    }

    @Test("SPIs: an integer, 0x and hex, or decimal in a string", arguments: [
        (#"4660"#, UInt32(0x1234)), (#""0x1234""#, 0x1234), (#""0X00001234""#, 0x1234), (#""4660""#, 0x1234),
        (#"4294967295"#, 0xffff_ffff),
    ])
    func spis(_ text: String, _ value: UInt32) throws {
        let json = """
            [{"protocol": "esp", "spi": \(text), "mode": "tunnel", "source": "10.0.0.1", "destination": "10.0.0.2",
              "algorithm": "null-sha1", "integrity_key": "\(keyHex(20))"}]
            """
        #expect(try parse(json).associations.first?.spi == value)
    }

    @Test("Keys: hex with or without 0x, either case; empty for none")
    func keys() throws {
        for text in ["0x" + keyHex(16), keyHex(16), keyHex(16).uppercased(), "0X" + keyHex(16)] {
            let sa = try parse(Self.one(#""algorithm": "aes128", "encryption_key": "\#(text)""#)).associations[0]
            #expect(sa.encryptionKey == keyBytes(16))
        }
        let null = try parse(Self.one(#""algorithm": "null-aesxcbc", "encryption_key": "", "integrity_key": "0x\#(keyHex(16))""#))
        #expect(null.associations[0].encryptionKey == [])
    }

    @Test("Every ESP algorithm by its strongSwan keyword", arguments: ESPAlgorithm.all)
    func everyESPAlgorithm(_ algorithm: ESPAlgorithm) throws {
        var fields = #""algorithm": "\#(algorithm.keyword)", "encryption_key": "\#(keyHex(algorithm.encryptionKeyLength))""#
        if algorithm.integrityKeyLength > 0 {
            fields += #", "integrity_key": "\#(keyHex(algorithm.integrityKeyLength, seed: 9))""#
        }
        let sa = try parse(Self.one(fields)).associations[0]
        #expect(sa.algorithm == .esp(algorithm))
        #expect(sa.encryptionKey.count == algorithm.encryptionKeyLength)
        #expect(sa.integrityKey.count == algorithm.integrityKeyLength)
    }

    @Test("Every AH algorithm by its strongSwan keyword", arguments: AHAlgorithm.all)
    func everyAHAlgorithm(_ algorithm: AHAlgorithm) throws {
        let text = """
            {"associations": [{"protocol": "ah", "spi": 300, "mode": "transport", "source": "10.0.0.1",
              "destination": "10.0.0.2", "algorithm": "\(algorithm.keyword)", "integrity_key": "\(keyHex(algorithm.keyLength))"}]}
            """
        let sa = try parse(text).associations[0]
        #expect(sa.algorithm == .ah(algorithm))
    }

    @Test("ESN with 64-bit replay state, NAT-T, a selector with a protocol number")
    func fullSA() throws {
        let file = try parse(Self.one("""
            "algorithm": "aes256gcm16", "encryption_key": "\(keyHex(36))", "reqid": 4294967295, "esn": true,
            "replay_window": 4096, "replay_sequence": 18446744073709551615, "outbound_sequence": 4294967296,
            "selector": {"source": "2001:db8:1::/48", "destination": "2001:db8::/32", "protocol": 132, "source_port": 1,
                         "destination_port": 65535},
            "encapsulation": {"destination_port": 4501}
            """))
        let sa = file.associations[0]
        #expect(sa.reqid == .max)
        #expect(sa.extendedSequenceNumbers)
        #expect(sa.replayWindow == 4096)
        #expect(sa.replaySequence == .max)
        #expect(sa.outboundSequence == 1 << 32)
        #expect(sa.encapsulation == UDPEncapsulationConfig(sourcePort: 4500, destinationPort: 4501))
        // Tunnel mode: the inner traffic may be of another family than the endpoints, though not mixed itself.
        #expect(sa.selector == TrafficSelector(source: prefix("2001:db8:1::/48"), destination: prefix("2001:db8::/32"),
                                               protocol: IPProtocol(132), sourcePort: 1, destinationPort: 65535))
    }

    @Test("The documented example loads")
    func documentedExample() throws {
        let text = """
            {
              "associations": [
                {
                  "protocol": "esp",
                  "spi": "0x00001000",
                  "mode": "tunnel",
                  "source": "192.0.2.1",
                  "destination": "198.51.100.1",
                  "algorithm": "aes128gcm16",
                  "encryption_key": "0x00112233445566778899aabbccddeeff01020304",
                  "reqid": 1,
                  "esn": true,
                  "replay_window": 64,
                  "replay_sequence": 0,
                  "outbound_sequence": 0,
                  "selector": {"source": "10.1.0.0/16", "destination": "10.2.0.0/16", "protocol": "tcp",
                               "destination_port": 443},
                  "encapsulation": {"source_port": 4500, "destination_port": 4500}
                },
                {
                  "protocol": "ah",
                  "spi": 8193,
                  "mode": "transport",
                  "source": "2001:db8::1",
                  "destination": "2001:db8::2",
                  "algorithm": "sha256",
                  "integrity_key": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                }
              ]
            }
            """
        let file = try parse(text, origin: "docs-example.json")
        #expect(file.associations.count == 2)
        #expect(file.associations[0].modeName == "tunnel-esp")
        #expect(file.associations[1].modeName == "transport-ah")
    }

    @Test("Leading blank lines, a byte-order mark and CRLF line ends are fine")
    func leniencies() throws {
        let text = "\u{FEFF}\r\n\r\n" + Fixtures.json.replacingOccurrences("\n", "\r\n")
        #expect(try parse(text).associations == (try Fixtures.expected()))
    }

    @Test("Every proper prefix of a valid file fails")
    func prefixes() throws {
        let text = Array(Fixtures.json.utf8)
        for n in 0..<text.count {
            let prefixText = String(decoding: text[0..<n], as: UTF8.self)
            #expect(throws: ConfigError.self) { try SAFile.parse(prefixText, origin: "prefix.json") }
        }
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
