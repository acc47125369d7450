import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

@Suite("ip xfrm state commands")
struct IPXfrmCommandsTests {
    static func command(_ algorithms: String, proto: String = "esp", extra: String = "") -> String {
        "ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto \(proto) spi 0x1000 mode tunnel \(algorithms) \(extra)\n"
    }

    /// Every Linux name for ESP (net/xfrm/xfrm_algo.c, and the short aliases the kernel accepts), with the key
    /// length that selects the AES size, and the IPsecCrypto keyword it maps to.
    static let espCases: [(clause: String, keyword: String)] = [
        ("enc cbc(aes) 0x\(keyHex(16)) auth-trunc hmac(sha1) 0x\(keyHex(20)) 96", "aes128-sha1"),
        ("enc 'cbc(aes)' 0x\(keyHex(24)) auth hmac(sha1) 0x\(keyHex(20))", "aes192-sha1"),
        ("enc \"cbc(aes)\" 0x\(keyHex(32)) auth sha1 0x\(keyHex(20))", "aes256-sha1"),
        ("enc aes 0x\(keyHex(16)) auth md5 0x\(keyHex(16))", "aes128-md5"),
        ("enc aes 0x\(keyHex(16)) auth hmac(md5) 0x\(keyHex(16))", "aes128-md5"),
        ("enc aes 0x\(keyHex(16)) auth-trunc hmac(md5) 0x\(keyHex(16)) 96", "aes128-md5"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth hmac(sha256) 0x\(keyHex(32))", "aes128-sha256_96"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth sha256 0x\(keyHex(32))", "aes128-sha256_96"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth-trunc hmac(sha256) 0x\(keyHex(32)) 96", "aes128-sha256_96"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth-trunc hmac(sha256) 0x\(keyHex(32)) 128", "aes128-sha256"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth hmac(sha384) 0x\(keyHex(48))", "aes128-sha384"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth-trunc hmac(sha384) 0x\(keyHex(48)) 192", "aes128-sha384"),
        ("enc cbc(aes) 0x\(keyHex(32)) auth hmac(sha512) 0x\(keyHex(64))", "aes256-sha512"),
        ("enc cbc(aes) 0x\(keyHex(32)) auth-trunc hmac(sha512) 0x\(keyHex(64)) 256", "aes256-sha512"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth xcbc(aes) 0x\(keyHex(16))", "aes128-aesxcbc"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth-trunc xcbc(aes) 0x\(keyHex(16)) 96", "aes128-aesxcbc"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth cmac(aes) 0x\(keyHex(16))", "aes128-aescmac"),
        ("enc cbc(aes) 0x\(keyHex(16)) auth digest_null \"\"", "aes128"),
        ("enc cbc(aes) 0x\(keyHex(16))", "aes128"),
        ("enc rfc3686(ctr(aes)) 0x\(keyHex(20)) auth-trunc hmac(sha256) 0x\(keyHex(32)) 128", "aes128ctr-sha256"),
        ("enc rfc3686(ctr(aes)) 0x\(keyHex(28)) auth hmac(sha1) 0x\(keyHex(20))", "aes192ctr-sha1"),
        ("enc rfc3686(ctr(aes)) 0x\(keyHex(36)) auth xcbc(aes) 0x\(keyHex(16))", "aes256ctr-aesxcbc"),
        ("enc cbc(des3_ede) 0x\(keyHex(24)) auth hmac(sha1) 0x\(keyHex(20))", "3des-sha1"),
        ("enc des3_ede 0x\(keyHex(24)) auth hmac(md5) 0x\(keyHex(16))", "3des-md5"),
        ("enc ecb(cipher_null) \"\" auth-trunc hmac(sha256) 0x\(keyHex(32)) 128", "null-sha256"),
        ("enc cipher_null 0x auth hmac(sha1) 0x\(keyHex(20))", "null-sha1"),
        ("enc cipher_null '' auth cmac(aes) 0x\(keyHex(16))", "null-aescmac"),
        ("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 64", "aes128gcm8"),
        ("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 96", "aes128gcm12"),
        ("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 128", "aes128gcm16"),
        ("aead 'rfc4106(gcm(aes))' 0x\(keyHex(28)) 128", "aes192gcm16"),
        ("aead 'rfc4106(gcm(aes))' 0x\(keyHex(36)) 128", "aes256gcm16"),
        ("aead rfc4309(ccm(aes)) 0x\(keyHex(19)) 64", "aes128ccm8"),
        ("aead rfc4309(ccm(aes)) 0x\(keyHex(19)) 96", "aes128ccm12"),
        ("aead rfc4309(ccm(aes)) 0x\(keyHex(27)) 128", "aes192ccm16"),
        ("aead rfc4309(ccm(aes)) 0x\(keyHex(35)) 128", "aes256ccm16"),
        ("aead rfc4543(gcm(aes)) 0x\(keyHex(20)) 128", "aes128gmac"),
        ("aead rfc4543(gcm(aes)) 0x\(keyHex(36)) 128", "aes256gmac"),
        ("aead 'rfc7539esp(chacha20,poly1305)' 0x\(keyHex(36)) 128", "chacha20poly1305"),
    ]

    @Test("Every Linux ESP algorithm name", arguments: espCases)
    func espAlgorithms(_ clause: String, _ keyword: String) throws {
        let sa = try #require(try parse(Self.command(clause)).associations.first)
        let expected = try ESPAlgorithm(keyword: keyword)
        #expect(sa.algorithm == .esp(expected))
        #expect(sa.encryptionKey.count == expected.encryptionKeyLength)
        #expect(sa.integrityKey.count == expected.integrityKeyLength)
    }

    static let ahCases: [(clause: String, keyword: String)] = [
        ("auth hmac(md5) 0x\(keyHex(16))", "md5"),
        ("auth md5 0x\(keyHex(16))", "md5"),
        ("auth hmac(sha1) 0x\(keyHex(20))", "sha1"),
        ("auth-trunc sha1 0x\(keyHex(20)) 96", "sha1"),
        ("auth hmac(sha256) 0x\(keyHex(32))", "sha256_96"),
        ("auth sha256 0x\(keyHex(32))", "sha256_96"),
        ("auth-trunc hmac(sha256) 0x\(keyHex(32)) 128", "sha256"),
        ("auth hmac(sha384) 0x\(keyHex(48))", "sha384"),
        ("auth-trunc hmac(sha512) 0x\(keyHex(64)) 256", "sha512"),
        ("auth xcbc(aes) 0x\(keyHex(16))", "aesxcbc"),
        ("auth-trunc cmac(aes) 0x\(keyHex(16)) 96", "aescmac"),
    ]

    @Test("AH: auth and auth-trunc, with Linux's default truncations", arguments: ahCases)
    func ahAlgorithms(_ clause: String, _ keyword: String) throws {
        let sa = try #require(try parse(Self.command(clause, proto: "ah")).associations.first)
        #expect(sa.protocol == .ah)
        #expect(sa.algorithm == (try ah(keyword)))
        #expect(sa.encryptionKey.isEmpty)
    }

    @Test("A string key is its bytes, as iproute2 takes it")
    func stringKey() throws {
        let sa = try parse(Self.command(#"enc 'cbc(aes)' "sixteen byte key""#)).associations[0]
        #expect(sa.encryptionKey == Array("sixteen byte key".utf8))
    }

    @Test("Numbers as iproute2 reads them: hex, octal, decimal")
    func numbers() throws {
        let text = "ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 010 reqid 0x10 replay-window 32 "
            + "replay-seq 0x10 replay-oseq 99 enc cipher_null \"\" auth sha1 0x\(keyHex(20))\n"
        let sa = try parse(text).associations[0]
        #expect(sa.spi == 8)
        #expect(sa.reqid == 16)
        #expect(sa.replaySequence == 16)
        #expect(sa.outboundSequence == 99)
        #expect(sa.mode == .transport, "Linux's default mode")
    }

    @Test("Linux's default replay window is 0 (off)")
    func defaultWindow() throws {
        #expect(try parse(Self.command("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 128")).associations[0].replayWindow == 0)
    }

    @Test("ESN and 64-bit sequence numbers from the -hi halves")
    func esn() throws {
        let text = Self.command("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 96",
                                extra: "flag esn replay-window 128 replay-seq-hi 0x2 replay-seq 0x3 replay-oseq-hi 1 "
                                    + "replay-oseq 0xffffffff")
        let sa = try parse(text).associations[0]
        #expect(sa.extendedSequenceNumbers)
        #expect(sa.replayWindow == 128)
        #expect(sa.replaySequence == 0x2_0000_0003)
        #expect(sa.outboundSequence == 0x1_ffff_ffff)
        // ESN as a flag byte, as `flag 0x80`.
        let byte = try parse(Self.command("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 96",
                                          extra: "replay-window 32 flag 0x80")).associations[0]
        #expect(byte.extendedSequenceNumbers)
    }

    @Test("NAT-T, a selector, tunnel-hc, and the keywords that only matter to a kernel")
    func everythingElse() throws {
        let text = """
            ip -4 xfrm state update src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2000 reqid 7 mode tunnel-hc \\
              enc cbc(aes) 0x\(keyHex(16)) auth-trunc hmac(sha256) 0x\(keyHex(32)) 128 \\
              encap espinudp 4500 4501 0.0.0.0 \\
              sel src 10.1.0.0/16 dst 10.2.0.0/16 proto udp sport 53 dport 0 dev eth0 \\
              mark 0x10 mask 0xff output-mark 7 if_id 0x64 limit time-soft 100 limit byte-hard 1000000 \\
              extra-flag dont-encap-dscp oseq-may-wrap ctx unconfined_t dir out tfcpad 128 seq 5 \\
              offload packet dev eth0 dir out flag noecn decap-dscp nopmtudisc wildrecv icmp af-unspec align4
            """
        let sa = try parse(text).associations[0]
        #expect(sa.mode == .tunnelHC)
        #expect(sa.headerCompression == .hostToHost)  // the default when hc-fields is absent
        #expect(sa.reqid == 7)
        #expect(sa.encapsulation == UDPEncapsulationConfig(sourcePort: 4500, destinationPort: 4501))
        #expect(sa.selector == TrafficSelector(source: prefix("10.1.0.0/16"), destination: prefix("10.2.0.0/16"),
                                               protocol: .udp, sourcePort: 53))
        #expect(!sa.extendedSequenceNumbers)
    }

    @Test("A selector for any traffic is no selector; 'proto any' is any protocol")
    func wildcardSelector() throws {
        let text = Self.command("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 128", extra: "sel src 0.0.0.0/0 dst 0.0.0.0/0 proto any")
        #expect(try parse(text).associations[0].selector == nil)
    }

    @Test("update replaces an earlier SA; state flush drops what came before; policy flush is harmless")
    func updateAndFlush() throws {
        let first = Self.command("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 128")
        let update = first.replacingOccurrences("state add", "state update").replacingOccurrences("128 ", "64 ")
        let replaced = try parse(first + update)
        #expect(replaced.associations.count == 1)
        #expect(replaced.associations[0].algorithm == (try esp("aes128gcm8")))
        let other = Self.command("aead rfc4106(gcm(aes)) 0x\(keyHex(20)) 96", proto: "esp").replacingOccurrences("0x1000", "0x1001")
        let flushed = try parse(first + "ip xfrm state flush proto ah\nip xfrm state flush\nip xfrm policy flush\n" + other)
        #expect(flushed.associations.map(\.spi) == [0x1001])
        let protoFlush = try parse(first + "xfrm state flush proto ah\n" + other)
        #expect(protoFlush.associations.map(\.spi) == [0x1000, 0x1001])
    }

    @Test("Comments, continuations, quoting and semicolons")
    func shellSyntax() throws {
        let text = """
            # comment line
              # indented comment
            ip xfrm state add src 10.0.0.1 dst 10.0.0.2 \\
               proto esp spi 0x1000 mode tunnel aead "rfc4106(gcm(aes))" \\
               0x\(keyHex(20)) 128 # trailing comment with 'quote
            ip xfrm state add src 10.0.0.1 dst 10.0.0.3 proto esp spi 0x1000 mode tunnel aead rfc4106\\(gcm\\(aes\\)\\) 0x\(keyHex(20)) 128; ip xfrm state add src 10.0.0.1 dst 10.0.0.4 proto esp spi 0x1000 mode tunnel aead rfc4106'(gcm(aes))' 0x\(keyHex(20)) 128
            """
        let file = try parse(text)
        #expect(file.associations.map(\.destination) == [address("10.0.0.2"), address("10.0.0.3"), address("10.0.0.4")])
    }

    @Test("IPv6 SAs, and the ip -6 option")
    func ipv6() throws {
        let text = "ip -6 xfrm state add src 2001:db8::1 dst 2001:db8::2 proto ah spi 4096 auth-trunc "
            + "'hmac(sha256)' 0x\(keyHex(32)) 128 sel src 2001:db8::1/128 dst 2001:db8::2/128\n"
        let sa = try parse(text).associations[0]
        #expect(sa.destination == address("2001:db8::2"))
        #expect(sa.selector?.source == prefix("2001:db8::1/128"))
    }
}
