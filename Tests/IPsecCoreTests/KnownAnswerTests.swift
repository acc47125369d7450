import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// Whole packets through the data plane, byte for byte: RFC 3602 §4 cases 5 (transport) and 7 (tunnel), AES-128-CBC
/// confidentiality-only ESP. The IVs, and for case 7 the outer identification, are injected; everything else —
/// header placement, padding 1, 2, 3, …, lengths, checksums — is IPsecLab's own.
@Suite struct KnownAnswerTests {
    // reference/published-vectors.txt [A]: RFC 3602 §4 case #5.
    static let case5Original = hex("""
        45000054 08f20000 4001f9fe c0a87b03 c0a87b64
        08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617
        18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637
        """)
    static let case5Protected = hex("""
        4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64 00004321 00000001
        e96e8c08 ab465763 fd098d45 dd3ff893
        f663c25d 325c18c6 a9453e19 4e120849 a4870b66 cc6b9965 330013b4 898dc856
        a4699e52 3a55db08 0b59ec3a 8e4b7e52 775b07d1 db34ed9c 538ab50c 551b874a
        a269add0 47ad2d59 13ac19b7 cfbad4a6
        """)
    // [B]: RFC 3602 §4 case #7.
    static let case7Inner = hex("""
        45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a20400
        08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b
        2c2d2e2f3031323334353637
        """)
    static let case7Protected = hex("""
        4500008c 09050000 4032f91e c0a87b03 c0a87bc8
        0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5
        ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c6
        47752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1
        e4dfe9d5a100b842f1c22f0d
        """)

    static func case5SA() -> SAConfiguration {
        SAConfiguration(protocol: .esp, spi: 0x4321, mode: .transport, source: IPAddress("192.168.123.3")!,
                        destination: IPAddress("192.168.123.100")!, algorithm: .esp(try! ESPAlgorithm(keyword: "aes128")),
                        encryptionKey: hex("90d382b410eeba7ad938c46cec1a82bf"))
    }

    static func case7SA() -> SAConfiguration {
        var c = SAConfiguration(protocol: .esp, spi: 0x8765, mode: .tunnel, source: IPAddress("192.168.123.3")!,
                                destination: IPAddress("192.168.123.200")!,
                                algorithm: .esp(try! ESPAlgorithm(keyword: "aes128")),
                                encryptionKey: hex("0123456789abcdef0123456789abcdef"))
        c.outboundSequence = 1  // the RFC's packet carries sequence number 2
        return c
    }

    @Test func rfc3602Case5TransportEncap() throws {
        let sa = try SecurityAssociation(Self.case5SA(), ivSource: .fixed(hex("e96e8c08ab465763fd098d45dd3ff893")))
        var out: [UInt8] = []
        try Outbound.protect(Self.case5Original[...], with: sa, into: &out)
        #expect(out == Self.case5Protected)
    }

    @Test func rfc3602Case5TransportDecap() throws {
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(Self.case5SA()))
        var out: [UInt8] = [], scratch: [UInt8] = []
        let r = Inbound.unprotect(Self.case5Protected[...], sad: sad, into: &out, scratch: &scratch)
        #expect(r.verdict == .accepted)
        #expect(r.sequence == 1)
        // The original header comes back with its protocol, length and checksum restored.
        #expect(out == Self.case5Original)
    }

    @Test func rfc3602Case7TunnelEncap() throws {
        let sa = try SecurityAssociation(Self.case7SA(), ivSource: .fixed(hex("f4e765244f6407adf13dc1380f673f37")),
                                         identificationSource: .fixed([0x09, 0x05]))
        var out: [UInt8] = []
        try Outbound.protect(Self.case7Inner[...], with: sa, into: &out)
        #expect(out == Self.case7Protected)
    }

    @Test func rfc3602Case7TunnelDecap() throws {
        let sad = SADatabase()
        try sad.add(try SecurityAssociation(Self.case7SA()))
        var out: [UInt8] = [], scratch: [UInt8] = []
        let r = Inbound.unprotect(Self.case7Protected[...], sad: sad, into: &out, scratch: &scratch)
        #expect(r.verdict == .accepted)
        #expect(r.sequence == 2)
        #expect(out == Self.case7Inner)
    }

    /// A confidentiality-only SA is named for what it is, so reports can flag it.
    @Test func confidentialityOnlyIsMarked() throws {
        guard case .esp(let a) = Self.case5SA().algorithm else { return }
        #expect(a.isConfidentialityOnly)
        #expect(Self.case5SA().modeName == "transport-esp")
    }
}
