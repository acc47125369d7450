import IPsecCore
import IPsecCrypto
import IPsecWire

/// One published ESP transform known answer (key, SPI, sequence number, IV, plaintext → ciphertext and ICV).
struct ESPKnownAnswer {
    var name: String
    var keyword: String
    var encryptionKey: String
    var integrityKey: String
    var spi: UInt32
    var sequence: UInt64
    var esn: Bool
    var iv: String
    var plaintext: String
    var ciphertext: String
    var icv: String
}

/// One published MAC known answer (the tag as published, possibly truncated).
struct MACKnownAnswer {
    var name: String
    var algorithm: String
    var key: String
    var message: String
    var tag: String
}

/// Published known answers: whole packets through the data plane, and transform-level ones.
enum Published {
    static let rfc3602 = "RFC 3602 §4"

    /// RFC 3602 §4 cases 5 (transport) and 7 (tunnel): AES-128-CBC confidentiality-only ESP, whole IPv4 packets. The
    /// bytes are those of Tests/IPsecCoreTests/KnownAnswerTests.swift (shared/reference/published-vectors.txt [A],
    /// [B]). Cases 6 and 8 are at transform level only: the RFC's IP headers for them are not in the project.
    static func groups(mode: String, algorithm: String) throws -> [VectorGroup] {
        guard algorithm == "aes128" else { return [] }
        let aes128 = try ESPAlgorithm(keyword: "aes128")
        switch mode {
        case "transport-esp":
            let sa = SAConfiguration(protocol: .esp, spi: 0x4321, mode: .transport,
                                     source: IPAddress("192.168.123.3")!, destination: IPAddress("192.168.123.100")!,
                                     algorithm: .esp(aes128), encryptionKey: hex("90d382b410eeba7ad938c46cec1a82bf"))
            let original = hex("""
                45000054 08f20000 4001f9fe c0a87b03 c0a87b64
                08000ebd a70a0000 8e9c083d b95b0700 08090a0b 0c0d0e0f 10111213 14151617
                18191a1b 1c1d1e1f 20212223 24252627 28292a2b 2c2d2e2f 30313233 34353637
                """)
            let protected = hex("""
                4500007c 08f20000 4032f9a5 c0a87b03 c0a87b64 00004321 00000001
                e96e8c08 ab465763 fd098d45 dd3ff893
                f663c25d 325c18c6 a9453e19 4e120849 a4870b66 cc6b9965 330013b4 898dc856
                a4699e52 3a55db08 0b59ec3a 8e4b7e52 775b07d1 db34ed9c 538ab50c 551b874a
                a269add0 47ad2d59 13ac19b7 cfbad4a6
                """)
            let source = "\(rfc3602) case #5 (transport-mode ESP, ICMP echo request, 64-byte data)"
            return [VectorGroup(comment: "RFC 3602 case #5", sa: sa, tests: [
                VectorCase(comment: "RFC 3602 case #5, protected", flags: ["Published", "ConfidentialityOnly"],
                           direction: .outbound, sequence: 1, iv: hex("e96e8c08ab465763fd098d45dd3ff893"),
                           input: original, output: protected, result: .valid, provenance: source),
                VectorCase(comment: "RFC 3602 case #5, opened", flags: ["Published", "ConfidentialityOnly"],
                           direction: .inbound, sequence: 1, input: protected, output: original, result: .valid,
                           provenance: source),
            ])]
        case "tunnel-esp":
            var sa = SAConfiguration(protocol: .esp, spi: 0x8765, mode: .tunnel, source: IPAddress("192.168.123.3")!,
                                     destination: IPAddress("192.168.123.200")!, algorithm: .esp(aes128),
                                     encryptionKey: hex("0123456789abcdef0123456789abcdef"))
            sa.outboundSequence = 0
            let inner = hex("""
                45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a20400
                08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b
                2c2d2e2f3031323334353637
                """)
            let protected = hex("""
                4500008c 09050000 4032f91e c0a87b03 c0a87bc8
                0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5
                ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c6
                47752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1
                e4dfe9d5a100b842f1c22f0d
                """)
            let source = "\(rfc3602) case #7 (tunnel-mode ESP, ICMP echo request, 64-byte data, sequence 2)"
            return [VectorGroup(comment: "RFC 3602 case #7", sa: sa, tests: [
                VectorCase(comment: "RFC 3602 case #7, protected", flags: ["Published", "ConfidentialityOnly"],
                           direction: .outbound, sequence: 2, iv: hex("f4e765244f6407adf13dc1380f673f37"),
                           outerIdentification: 0x0905, input: inner, output: protected, result: .valid,
                           provenance: source),
                VectorCase(comment: "RFC 3602 case #7, opened", flags: ["Published", "ConfidentialityOnly"],
                           direction: .inbound, sequence: 2, input: protected, output: inner, result: .valid,
                           provenance: source),
            ])]
        default:
            return []
        }
    }

    static func provenance(_ name: String) -> String {
        if name.hasPrefix("RFC 3602 case") { return "RFC 3602 §4 " + name.dropFirst(9) }
        if name.hasPrefix("RFC 3686") { return "RFC 3686 §6 " + name.dropFirst(9) }
        if name.hasPrefix("Wycheproof") { return "Project Wycheproof aes_gcm_test.json tcId 3, read as ESP (aad = SPI ‖ Seq, nonce = salt ‖ IV)" }
        if name.hasPrefix("RFC 4493") { return name + " (RFC 4494 §4 uses these, truncated to 96 bits)" }
        return name
    }

    static func family(_ keyword: String) -> String {
        if keyword.hasSuffix("ctr") { return "aes-ctr" }
        if keyword.contains("gmac") { return "aes-gmac" }
        if keyword.contains("gcm") { return "aes-gcm" }
        if keyword.hasPrefix("chacha") { return "chacha20-poly1305" }
        return "aes-cbc"
    }

    /// The transform-level files, by family.
    static func transformFiles() -> [(String, TransformVectorFile)] {
        var byFamily: [String: [TransformCase]] = [:]
        for a in espTransforms {
            let family = family(a.keyword)
            let base = TransformCase(comment: a.name, flags: ["Published"], kind: .esp, algorithm: a.keyword,
                                     key: hex(a.encryptionKey), integrityKey: hex(a.integrityKey), spi: a.spi,
                                     sequence: a.sequence, esn: a.esn, iv: hex(a.iv), input: hex(a.plaintext),
                                     output: hex(a.ciphertext), tag: hex(a.icv), result: .valid,
                                     provenance: provenance(a.name))
            byFamily[family, default: []].append(base)
            if !a.icv.isEmpty {
                var bad = base
                bad.tag[bad.tag.count - 1] ^= 0x01
                bad.comment += ", ICV with its last bit flipped"
                bad.flags = ["ModifiedICV"]
                bad.result = .invalid
                byFamily[family, default: []].append(bad)
            }
        }
        for m in macs {
            let family = m.algorithm.hasPrefix("hmac") ? "hmac" : m.algorithm
            byFamily[family, default: []].append(
                TransformCase(comment: m.name, flags: ["Published"], kind: .mac, algorithm: m.algorithm,
                              key: hex(m.key), input: hex(m.message), tag: hex(m.tag), result: .valid,
                              provenance: provenance(m.name)))
        }
        return byFamily.keys.sorted().map { family in
            var tests = byFamily[family]!
            for i in tests.indices { tests[i].tcId = i + 1 }
            let kind = tests[0].kind
            return ("transforms/\(family).json",
                    TransformVectorFile(family: family, notes: [:], groups: [TransformGroup(kind: kind, tests: tests)]))
        }
    }
}
