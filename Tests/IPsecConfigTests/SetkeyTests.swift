import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// setkey.conf as ipsec-tools reads it, with what a Linux kernel makes of each statement.
@Suite("setkey.conf")
struct SetkeyTests {
    static let k16 = keyHex(16), k20 = keyHex(20, seed: 1), k32 = keyHex(32, seed: 2)

    @Test("hmac-sha256 is Linux's PF_KEY HMAC-SHA-256: truncated to 96 bits, not RFC 4868's 128")
    func sha256Truncation() throws {
        let file = try parse("add 10.0.0.1 10.0.0.2 esp 0x100 -E aes-cbc 0x\(Self.k16) -A hmac-sha256 0x\(Self.k32);")
        #expect(file.associations[0].algorithm == (try esp("aes128-sha256_96")))
        let ah = try parse("add 10.0.0.1 10.0.0.2 ah 0x100 -A hmac-sha256 0x\(Self.k32);")
        #expect(ah.associations[0].algorithm == (try IPsecConfigTests.ah("sha256_96")))
    }

    @Test("ipsec-tools' names and what they map to", arguments: [
        ("-E 3des-cbc 0x\(keyHex(24))", "3des"), ("-E rijndael-cbc 0x\(keyHex(24)) -A hmac-md5 0x\(keyHex(16))", "aes192-md5"),
        ("-E aes-cbc 0x\(keyHex(32)) -A hmac-sha384 0x\(keyHex(48))", "aes256-sha384"),
        ("-E aes-ctr 0x\(keyHex(20)) -A aes-xcbc-mac 0x\(keyHex(16))", "aes128ctr-aesxcbc"),
        ("-E aes-gcm-16 0x\(keyHex(36))", "aes256gcm16"), ("-E null -A hmac-sha512 0x\(keyHex(64))", "null-sha512"),
        ("-E null \"\" -A hmac-sha1 \"twenty-byte-string!!\"", "null-sha1"), ("-E aes-cbc 0x\(keyHex(16)) -A null", "aes128"),
    ])
    func names(_ algorithms: String, _ keyword: String) throws {
        let file = try parse("add 10.0.0.1 10.0.0.2 esp 4096 \(algorithms) ;")
        #expect(file.associations[0].algorithm == (try esp(keyword)))
        #expect(file.associations[0].mode == .transport && file.associations[0].replayWindow == 0)
    }

    @Test("What ipsec-tools has but IPsecLab does not, or ipsec-tools does not have, is refused by name", arguments: [
        ("-E des-cbc 0x\(keyHex(8))", ConfigError.Code.unsupported, "des-cbc"),
        ("-E blowfish-cbc 0x\(keyHex(16))", .unsupported, "blowfish-cbc"),
        ("-E cast128-cbc 0x\(keyHex(16))", .unsupported, "cast128-cbc"),
        ("-E twofish-cbc 0x\(keyHex(16))", .unsupported, "twofish-cbc"),
        ("-E aes-gcm-8 0x\(keyHex(20))", .unknownAlgorithm, "only aes-gcm-16"),
        ("-E aes-cbc 0x\(keyHex(16)) -A hmac-ripemd160 0x\(keyHex(20))", .unsupported, "hmac-ripemd160"),
        ("-E aes-cbc 0x\(keyHex(16)) -A keyed-md5 0x\(keyHex(16))", .unsupported, "keyed-md5"),
        ("-E rot13 0x\(keyHex(16))", .unknownAlgorithm, "rot13"),
        ("-E aes-cbc 0x\(keyHex(15))", .badKeyLength, "15 bytes"),
        ("-E aes-gcm-16 0x\(keyHex(20)) -A hmac-sha1 0x\(keyHex(20))", .inconsistent, "aead"),
        ("-E aes-cbc", .missing, "needs a key"),
        ("-E aes-cbc 0x\(keyHex(16)) -Z 1", .unknownKey, "-Z"),
        ("-E aes-cbc 0x\(keyHex(16)) -m beet", .invalidValue, "beet"),
        ("-E aes-cbc 0x\(keyHex(16)) -r 5000", .invalidValue, "-r"),
        ("-E aes-cbc 0x\(keyHex(16)) -m tunnel -m transport", .duplicate, "-m"),
    ])
    func refused(_ algorithms: String, _ code: ConfigError.Code, _ mention: String) {
        expectError("# one SA\nadd 10.0.0.1 10.0.0.2 esp 4096\n    \(algorithms) ;\n", code: code, line: code == .badKeyLength ? 3 : 3,
                    mentions: [mention], secrets: [keyHex(8), keyHex(16), keyHex(15), keyHex(20)])
    }

    @Test("Statements: syntax, comments, flushes, updates")
    func statements() throws {
        expectError("add 10.0.0.1 10.0.0.2 esp 4096 -E aes-cbc 0x\(Self.k16)\n", code: .syntax, line: 1,
                    mentions: ["does not end with ';'"], secrets: [Self.k16])
        expectError("add 10.0.0.1 10.0.0.2 esp 4096 -E null \"abc\n;", code: .syntax, line: 1)
        expectError("delete 10.0.0.1 10.0.0.2 esp 4096;", code: .unsupported, line: 1, mentions: ["delete"])
        expectError("add 10.0.0.1 10.0.0.2 esp-old 4096 -E null;", code: .unsupported, line: 1, mentions: ["esp-old"])
        expectError("add 10.0.0.1 10.0.0.2 ah 4096 -A null;", code: .missing, line: 1)
        expectError("add 10.0.0.1 10.0.0.2 ipcomp 4096;", code: .missing, line: 1, mentions: ["-C deflate"])
        expectError("add 10.0.0.1 10.0.0.2 ipcomp 4096 -C lzs;", code: .unsupported, line: 1, mentions: ["lzs"])
        expectError("add 10.0.0.1 10.0.0.2 ipcomp 70000 -C deflate;", code: .invalidValue, line: 1, mentions: ["CPI"])
        expectError("add 10.0.0.1[500] 10.0.0.2 esp 1 -E aes-cbc 0x\(Self.k16);", code: .inconsistent, line: 1,
                    mentions: ["esp-udp"])
        expectError("add 10.0.0.1 10.0.0.2 esp 1 -E aes-cbc 0x\(Self.k16);\nadd 10.0.0.1 10.0.0.2 esp 1 -E aes-cbc 0x\(Self.k16);",
                    code: .duplicate, line: 2, secrets: [Self.k16])
        expectError("flush;\nspdflush;\n", code: .missing, line: nil, mentions: ["nothing is left"])

        let file = try parse("""
            # comments # everywhere
            add 10.0.0.1 10.0.0.2 esp 1 -E aes-cbc 0x\(Self.k16);  add 10.0.0.1 10.0.0.2 ah 2 -A hmac-sha1 0x\(Self.k20);
            update 10.0.0.1 10.0.0.2 esp 1 -m tunnel -u 9 -E aes-cbc 0x\(Self.k16);
            add 10.0.0.1 10.0.0.2 ipcomp 0x300 -C deflate; spdadd 10.0.0.1 10.0.0.2 any -P out none;
            flush ah ipcomp;
            spdadd 10.1.0.0/16[any] 10.2.0.0/16[53] udp -P in prio high+5 ipsec esp/tunnel/10.0.0.2-10.0.0.1/unique;
            """)
        #expect(file.associations.map(\.spi) == [1])
        #expect(file.associations[0].mode == .tunnel && file.associations[0].reqid == 9)
        #expect(file.compressions.isEmpty)
        #expect(file.policies.count == 2)
        #expect(file.policies[1].priority == 0x4000_0005)
        #expect(file.policies[1].selector.destinationPorts == 53...53 && file.policies[1].selector.sourcePorts == nil)
    }

    @Test("spdadd: selectors, levels, errors")
    func policies() throws {
        let file = try parse("""
            spdadd 10.0.0.1 10.0.0.2 icmp 8 -P out prio low-1 ipsec ah/transport//use esp/transport/10.0.0.1-10.0.0.2/default;
            spdadd fe80::/10 ff02::/16 58 -P in none;
            """)
        #expect(file.policies[0].selector.icmpType == 8 && file.policies[0].selector.icmpCode == nil)
        #expect(file.policies[0].priority == 0xC000_0000 - 1)
        #expect(file.policies[0].action == .protect([
            SATemplate(protocol: .ah, mode: .transport, optional: true),
            SATemplate(protocol: .esp, mode: .transport, source: address("10.0.0.1"), destination: address("10.0.0.2")),
        ]))
        #expect(file.policies[1].selector.protocol == IPProtocol(58) && file.policies[1].action == .bypass)
        expectError("spdadd 10.0.0.0/8 10.0.0.0/8 any -P out ipsec esp/tunnel//require;", code: .missing, line: 1,
                    mentions: ["tunnel endpoints"])
        expectError("spdadd 10.0.0.0/8 ::/0 any -P out none;", code: .inconsistent, line: 1, mentions: ["families"])
        expectError("spdadd 10.0.0.0/8[80] 10.0.0.0/8 any -P out none;", code: .inconsistent, line: 1, mentions: ["ports"])
        expectError("spdadd 10.0.0.0/8 10.0.0.0/8 any -P sideways none;", code: .invalidValue, line: 1)
        expectError("spdadd 10.0.0.0/8 10.0.0.0/8 any none;", code: .syntax, line: 1, mentions: ["-P"])
        expectError("spdadd 10.0.0.0/8 10.0.0.0/8 any -P out entrust;", code: .unsupported, line: 1)
        expectError("spdadd 10.0.0.0/8 10.0.0.0/8 any -P out ipsec esp/beet//require;", code: .invalidValue, line: 1)
        expectError("spdadd 10.0.0.0/8 10.0.0.0/8 any -P out ipsec;", code: .missing, line: 1)
        expectError("spdadd 10.0.0.0/8 10.0.0.0/8 any -P out none;\nspdadd 10.0.0.0/8 10.0.0.0/8 any -P out discard;",
                    code: .duplicate, line: 2)
    }
}
