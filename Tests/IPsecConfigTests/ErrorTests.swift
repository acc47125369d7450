import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// Every kind of error: one line, `FILE:LINE: reason`, and never a byte of key material.
@Suite("Errors")
struct ErrorTests {
    static let k20 = keyHex(20, seed: 7)
    static let k32 = keyHex(32, seed: 8)

    static func json(_ fields: String, spi: String = "\"0x1000\"") -> String {
        """
        {
          "associations": [
            {
              "protocol": "esp", "spi": \(spi), "mode": "tunnel",
              "source": "192.0.2.1", "destination": "192.0.2.2",
              \(fields)
            }
          ]
        }
        """
    }

    static func command(_ rest: String) -> String {
        "# line 1\nip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 mode tunnel \(rest)\n"
    }

    // MARK: Not an SA file, unreadable

    @Test("Not an SA file: empty, blank, comments only, text, binary, not UTF-8", arguments: [
        "", "   \n\t\n", "# nothing but a comment\n", "hello world\n", "PK\u{03}\u{04}binary", "\u{00}\u{01}ip xfrm",
        "<?xml version=\"1.0\"?>", "ip\u{00}xfrm state add",
    ])
    func notAnSAFile(_ text: String) {
        expectError(text, origin: "x.txt", code: .notAnSAFile, line: nil,
                    mentions: ["x.txt: not an SA file (expected JSON, 'ip xfrm' commands or listing, setkey.conf or Wireshark's esp_sa)"])
    }

    @Test("Not UTF-8")
    func notUTF8() {
        #expect(throws: ConfigError(.notAnSAFile, origin: "b", line: nil, reason: "")) {
            try SAFile.parse(bytes: [0x7b, 0xff, 0xfe, 0x7d], origin: "b")
        }
        #expect(SAFile.detectFormat([0xc3, 0x28]) == nil)
    }

    @Test("Unreadable: missing, a directory, too large")
    func unreadable() {
        for path in ["/nonexistent/sa.json", "/tmp", "/dev/zero"] {
            do {
                _ = try SAFile.load(path: path)
                Issue.record("\(path) loaded")
            } catch {
                checkError(error, origin: path, code: .unreadable, line: nil)
            }
        }
    }

    @Test("load reads a file, and names it in errors")
    func loadFile() throws {
        let path = "/tmp/ipseclab-config-test-\(UInt32.random(in: 0...UInt32.max)).json"
        try write(Fixtures.json, to: path)
        defer { remove(path) }
        let file = try SAFile.load(path: path)
        #expect(file.associations == (try Fixtures.expected()))
        try write(Fixtures.json.replacingOccurrences("\"0xc0ffee01\"", "0"), to: path)
        do {
            _ = try SAFile.load(path: path)
            Issue.record("SPI 0 loaded")
        } catch {
            checkError(error, origin: path, code: .invalidValue, line: 5, mentions: ["associations[0].spi: SPI 0"],
                       secrets: Fixtures.secrets)
        }
    }

    // MARK: Syntax

    @Test("JSON syntax errors point at their line", arguments: [
        ("{\n  \"associations\": [\n    {\"protocol\": \"esp\"\n     \"spi\": 1}\n  ]\n}", 4),
        ("{\n  \"associations\": [\n    {\"protocol\": \"esp\n\"}]}", 3),
        ("[\n]\n]", 3),
        ("{\"associations\": [01]}", 1),
        ("[\n  {\"a\": tru}\n]", 2),
        ("[\n  {\"a\": \"\\q\"}\n]", 2),
        ("[\n  {\"a\": \"\\ud800\"}\n]", 2),
        ("{\"associations\": [1.]}", 1),
        ("{\"associations\": [-]}", 1),
        (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), 1),
    ])
    func jsonSyntax(_ text: String, _ line: Int) {
        expectError(text, origin: "sa.json", code: .syntax, line: line, mentions: ["JSON: "])
    }

    @Test("Shell syntax: unclosed quotes, a dangling backslash, a truncated command")
    func shellSyntax() {
        expectError(Self.command("enc 'cbc(aes) 0x\(Self.k20)"), code: .syntax, line: 2,
                    mentions: ["single quote opened on line 2"], secrets: [Self.k20])
        expectError(Self.command("enc \"cbc(aes)\" \"0x\(Self.k20)"), code: .syntax, line: 2,
                    mentions: ["double quote"], secrets: [Self.k20])
        expectError("ip xfrm state add src 10.0.0.1 \\", code: .syntax, line: 1, mentions: ["backslash"])
        expectError("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi", code: .syntax, line: 1,
                    mentions: ["'spi' needs an SPI"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20)"), code: .syntax, line: 2,
                    mentions: ["ICV length"], secrets: [Self.k20])
        expectError("ip route add default via 10.0.0.1\n", code: .syntax, line: 1, mentions: ["not an 'ip xfrm' command"])
        expectError("ip xfrm\n", code: .syntax, line: 1)
    }

    @Test("Listing syntax: a stray indented line, a header that is not one, a short algorithm line")
    func listingSyntax() {
        let complete = "src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 1\n\tenc cbc(aes) 0x\(keyHex(16))\n"
        expectError(complete + "something else\n", code: .syntax, line: 4, secrets: [keyHex(16)])
        expectError("\tproto esp spi 1\n" + complete, code: .notAnSAFile, line: nil)
        expectError("src 10.0.0.1 dst 10.0.0.2 extra\n\tproto esp spi 1\n", code: .syntax, line: 1)
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 1 mode tunnel bogus 3\n", code: .syntax, line: 2,
                    mentions: ["'bogus'"])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 1\n\tenc cbc(aes)\n", code: .syntax, line: 3)
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 1\n\tseq 0x5\n", code: .syntax, line: 3,
                    mentions: ["outside an 'anti-replay' context"])
    }

    // MARK: Keys, types, presence

    @Test("Unknown keys and keywords, with their path")
    func unknownKeys() {
        expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(Self.k20)\", \"colour\": 1"),
                    origin: "sa.json", code: .unknownKey, line: 6, mentions: ["associations[0]: unknown key 'colour'"],
                    secrets: [Self.k20])
        expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(Self.k20)\", "
                                  + "\"selector\": {\"port\": 1}"),
                    origin: "sa.json", code: .unknownKey, line: 6, mentions: ["associations[0].selector: unknown key"])
        expectError("{\"associations\": [], \"version\": 2}", origin: "sa.json", code: .unknownKey, line: 1)
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 colour blue"), code: .unknownKey, line: 2,
                    mentions: ["unknown keyword 'colour'"], secrets: [Self.k20])
    }

    @Test("Duplicates: a JSON key, a command keyword, an SA, a listing line")
    func duplicates() {
        let twice = """
            [{"protocol": "esp", "spi": 1, "mode": "tunnel", "source": "10.0.0.1", "destination": "10.0.0.2",
              "algorithm": "aes128gcm16", "encryption_key": "\(Self.k20)",
              "encryption_key": "\(keyHex(20, seed: 99))"}]
            """
        expectError(twice, origin: "sa.json", code: .duplicate, line: 3, mentions: ["first at line 2"],
                    secrets: [Self.k20, keyHex(20, seed: 99)])
        expectError(Self.command("spi 7 aead rfc4106(gcm(aes)) 0x\(Self.k20) 128"), code: .duplicate, line: 2,
                    mentions: ["'spi'"], secrets: [Self.k20])
        expectError(Self.command("enc aes 0x\(keyHex(16)) auth sha1 0x\(Self.k20) auth-trunc sha1 0x\(Self.k20) 96"),
                    code: .duplicate, line: 2, secrets: [Self.k20, keyHex(16)])
        let sa = Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128")
        expectError(sa + "\n" + sa.replacingOccurrences("# line 1\n", ""), code: .duplicate, line: 4,
                    mentions: ["the first is at line 2"], secrets: [Self.k20])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 1\n\tproto esp spi 2\n", code: .duplicate, line: 3)
    }

    @Test("Wrong JSON types, null included", arguments: [
        ("\"spi\": true", "spi", "must be an integer or a \"0x…\" string, not a boolean"),
        ("\"esn\": \"yes\"", "esn", "must be true or false, not a string"),
        ("\"reqid\": \"1\"", "reqid", "must be an integer, not a string"),
        ("\"selector\": null", "selector", "must be an object, not null"),
        ("\"encryption_key\": 1234", "encryption_key", "must be a string, not a number"),
        ("\"encapsulation\": []", "encapsulation", "must be an object, not an array"),
    ])
    func wrongTypes(_ field: String, _ name: String, _ message: String) {
        var fields = ["\"algorithm\": \"aes128gcm16\""]
        if name != "encryption_key" { fields.append("\"encryption_key\": \"\(Self.k20)\"") }
        if name != "spi" { fields.append(field) }
        let text = Self.json(fields.joined(separator: ", "), spi: name == "spi" ? "true" : "\"0x1000\"")
        expectError(text, origin: "sa.json", code: .wrongType, line: name == "spi" ? 4 : 6,
                    mentions: ["associations[0].\(name): \(message)"], secrets: [Self.k20])
        expectError("{\"associations\": {}}", origin: "sa.json", code: .wrongType, line: 1)
        expectError("[1]", origin: "sa.json", code: .wrongType, line: 1, mentions: ["[0]: must be an object"])
    }

    @Test("Missing fields, in each format's words")
    func missing() {
        expectError(Self.json("\"encryption_key\": \"\(Self.k20)\""), origin: "sa.json", code: .missing, line: 3,
                    mentions: ["associations[0]: missing key \"algorithm\""], secrets: [Self.k20])
        expectError("{}", origin: "sa.json", code: .missing, line: 1, mentions: ["missing key \"associations\""])
        expectError("{\"associations\": []}", origin: "sa.json", code: .missing, line: 1, mentions: ["no SA"])
        expectError("ip xfrm state add src 10.0.0.1 proto esp spi 1 aead rfc4106(gcm(aes)) 0x\(Self.k20) 128\n",
                    code: .missing, line: 1, mentions: ["missing 'dst ADDRESS'"], secrets: [Self.k20])
        expectError(Self.command("auth sha1 0x\(Self.k20)"), code: .missing, line: 2,
                    mentions: ["ESP needs 'enc ALGO KEY' or 'aead ALGO KEY ICV-BITS'"], secrets: [Self.k20])
        expectError("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 1\n", code: .missing, line: 1)
        expectError("ip xfrm state flush\n", code: .missing, line: nil, mentions: ["nothing is left"])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tenc cbc(aes) 0x\(keyHex(16))\n", code: .missing, line: 1,
                    mentions: ["missing 'proto esp', 'proto ah' or 'proto comp'"], secrets: [keyHex(16)])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 1\n\tenc cbc(aes) <<Keys hidden>>\n", code: .missing,
                    line: 3, mentions: ["shows no key"])
    }

    // MARK: Values

    @Test("SPI 0 is refused in every format")
    func spiZero() {
        expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(Self.k20)\"", spi: "0"),
                    origin: "sa.json", code: .invalidValue, line: 4, mentions: ["associations[0].spi: SPI 0 is reserved"],
                    secrets: [Self.k20])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128").replacingOccurrences("0x1000", "0"),
                    code: .invalidValue, line: 2, mentions: ["spi: SPI 0"], secrets: [Self.k20])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 0x00000000 reqid 0 mode tunnel\n"
                        + "\taead rfc4106(gcm(aes)) 0x\(Self.k20) 128\n",
                    code: .invalidValue, line: 2, mentions: ["SPI 0"], secrets: [Self.k20])
    }

    @Test("Bad values: addresses, numbers, hex, ranges", arguments: [
        ("\"source\": \"10.0.0.256\"", "source", "'10.0.0.256' is not an IPv4 or IPv6 address"),
        ("\"reqid\": -1", "reqid", "must not be negative"),
        ("\"reqid\": 1.5", "reqid", "must be an integer (no fraction or exponent)"),
        ("\"reqid\": 1e3", "reqid", "must be an integer (no fraction or exponent)"),
        ("\"reqid\": 4294967296", "reqid", "out of range (at most 4294967295)"),
        ("\"replay_sequence\": 18446744073709551616", "replay_sequence", "out of range"),
        ("\"replay_window\": 4097", "replay_window", "out of range (at most 4096)"),
        ("\"mode\": \"beet\"", "mode", "'beet' is not \"transport\", \"tunnel\" or \"tunnel-hc\""),
        ("\"protocol\": \"ESP\"", "protocol", "'ESP' is not \"esp\" or \"ah\""),
        ("\"selector\": {\"source\": \"10.0.0.0/33\"}", "selector.source", "is not an address or prefix"),
        ("\"selector\": {\"protocol\": 0}", "selector.protocol", "must be at least 1"),
        ("\"selector\": {\"protocol\": \"tcpx\"}", "selector.protocol", "is not a protocol name or number"),
        ("\"encapsulation\": {\"source_port\": 0}", "encapsulation.source_port", "must be at least 1"),
        ("\"encapsulation\": {\"source_port\": 65536}", "encapsulation.source_port", "out of range"),
    ])
    func badJSONValues(_ field: String, _ name: String, _ message: String) {
        let replaced = field.hasPrefix("\"source\"") || field.hasPrefix("\"mode\"") || field.hasPrefix("\"protocol\"")
        var text = Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(Self.k20)\"" + (replaced ? "" : ", " + field))
        var line = 6
        if replaced {
            let key = String(field.prefix(while: { $0 != ":" }))
            let original = ["\"source\"": "\"source\": \"192.0.2.1\"", "\"mode\"": "\"mode\": \"tunnel\"",
                            "\"protocol\"": "\"protocol\": \"esp\""][key] ?? ""
            text = text.replacingOccurrences(original, field)
            line = key == "\"source\"" ? 5 : 4
        }
        expectError(text, origin: "sa.json", code: .invalidValue, line: line,
                    mentions: ["associations[0].\(name): ", message], secrets: [Self.k20])
    }

    @Test("Bad key hex: odd, not hex; the key is never quoted")
    func badHex() {
        let odd = String(Self.k20.dropLast())
        expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"0x\(odd)\""), origin: "sa.json",
                    code: .invalidValue, line: 6, mentions: ["odd number of hex digits (39)"], secrets: [Self.k20])
        let notHex = "0x" + Self.k20.prefix(10) + "zz" + Self.k20.dropFirst(12)
        expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(notHex)\""), origin: "sa.json",
                    code: .invalidValue, line: 6, mentions: ["character 11"], secrets: [Self.k20])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(odd) 128"), code: .invalidValue, line: 2,
                    mentions: ["odd number"], secrets: [Self.k20])
    }

    @Test("Bad command values: numbers, huge numbers, octal, addresses, families")
    func badCommandValues() {
        let aead = "aead rfc4106(gcm(aes)) 0x\(Self.k20) 128"
        expectError(Self.command("\(aead) reqid 4294967296"), code: .invalidValue, line: 2,
                    mentions: ["reqid is out of range (at most 4294967295)"], secrets: [Self.k20])
        expectError(Self.command("\(aead) reqid 99999999999999999999999999999999"), code: .invalidValue, line: 2,
                    mentions: ["out of range"], secrets: [Self.k20])
        expectError(Self.command("\(aead) reqid 08"), code: .invalidValue, line: 2, mentions: ["octal"])
        expectError(Self.command("\(aead) replay-window 5000"), code: .invalidValue, line: 2,
                    mentions: ["XFRMA_REPLAY_ESN_MAX"])
        expectError("ip -6 xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 \(aead)\n", code: .inconsistent,
                    line: 1, mentions: ["ip -6"], secrets: [Self.k20])
        expectError(Self.command("\(aead) flag bogus"), code: .invalidValue, line: 2, mentions: ["unknown flag"])
        expectError(Self.command("\(aead) sel src 10.0.0.0/40"), code: .invalidValue, line: 2)
        expectError(Self.command("\(aead) encap udp 4500 4500 0.0.0.0"), code: .invalidValue, line: 2)
        expectError(Self.command("\(aead) encap espinudp 70000 4500 0.0.0.0"), code: .invalidValue, line: 2)
    }

    // MARK: Algorithms

    @Test("Unknown algorithms, named when they cannot be keys")
    func unknownAlgorithms() {
        expectError("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1\n"
                        + "ip xfrm state add src 10.0.0.1 dst 10.0.0.3 proto esp spi 1 \\\n"
                        + "  enc cbc(foo) 0x\(keyHex(16)) auth sha1 0x\(Self.k20)\n",
                    code: .missing, line: 1)
        expectError("ip xfrm state add src 10.0.0.1 dst 10.0.0.3 proto esp spi 1 mode tunnel \\\n"
                        + "  enc cbc(foo) 0x\(keyHex(16)) auth sha1 0x\(Self.k20)\n",
                    code: .unknownAlgorithm, line: 2, mentions: ["sa.conf:2: unknown encryption algorithm 'cbc(foo)'"],
                    secrets: [keyHex(16), Self.k20])
        expectError(Self.command("aead cbc(aes) 0x\(keyHex(16)) 128"), code: .unknownAlgorithm, line: 2,
                    mentions: ["is not an AEAD"])
        expectError(Self.command("enc rfc4106(gcm(aes)) 0x\(Self.k20)"), code: .unknownAlgorithm, line: 2,
                    mentions: ["is an AEAD"], secrets: [Self.k20])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 100"), code: .unknownAlgorithm, line: 2,
                    mentions: ["100-bit ICV"], secrets: [Self.k20])
        expectError(Self.command("enc aes 0x\(keyHex(16)) auth sha384 0x\(keyHex(48))"), code: .unknownAlgorithm,
                    line: 2, mentions: ["write 'hmac(sha384)'"])
        expectError(Self.command("enc cipher_null \"\" auth digest_null \"\""), code: .unknownAlgorithm, line: 2,
                    mentions: ["NULL encryption without integrity"])
        expectError(Self.json("\"algorithm\": \"aes999\", \"encryption_key\": \"\(Self.k20)\""), origin: "sa.json",
                    code: .unknownAlgorithm, line: 6, mentions: ["associations[0].algorithm: 'aes999' is not an ESP algorithm"])
        expectError(Self.json("\"algorithm\": \"aes128gmac-sha1\""), origin: "sa.json", code: .unknownAlgorithm,
                    line: 6, mentions: ["combined-mode"])
    }

    @Test("A key where a name belongs is not repeated in the message")
    func misplacedKeys() {
        // The algorithm name forgotten: the key is read as the name (and "auth" as the key).
        expectError(Self.command("enc 0x\(keyHex(16)) auth sha1 0x\(Self.k20)"), code: .unknownKey, line: 2,
                    mentions: ["'sha1'"], secrets: [keyHex(16), Self.k20])
        expectError(Self.command("enc 0x\(keyHex(16)) 0x\(Self.k20)"), code: .unknownAlgorithm, line: 2,
                    mentions: ["not shown"], secrets: [keyHex(16), Self.k20])
        expectError(Self.command("auth-trunc 0x\(Self.k32)"), code: .syntax, line: 2, mentions: ["not shown"],
                    secrets: [Self.k32])
        // A string key in a name's place.
        expectError(Self.command("enc \"sixteen byte key\" 0x\(Self.k20)"), code: .unknownAlgorithm,
                    line: 2, mentions: ["not shown"], secrets: [hex(Array("sixteen byte key".utf8)), "sixteen byte key"])
        // A key in JSON's algorithm field, or in a number's place.
        expectError(Self.json("\"algorithm\": \"\(Self.k20)\""), origin: "sa.json", code: .unknownAlgorithm, line: 6,
                    secrets: [Self.k20])
        expectError(Self.command("aead rfc4106(gcm(aes)) 128 0x\(Self.k20)"), code: .invalidValue, line: 2,
                    secrets: [Self.k20])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 reqid 0x\(Self.k32)"), code: .invalidValue,
                    line: 2, secrets: [Self.k20, Self.k32])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 \(Self.k32)"), code: .unknownKey,
                    line: 2, secrets: [Self.k20, Self.k32])
    }

    // MARK: Unsupported

    @Test("Unsupported features are refused by name", arguments: [
        ("sel proto gre key 5", "GRE key"),
        ("coa 10.0.0.9", "coa"),
        ("encap espinudp-nonike 4500 4500 0.0.0.0", "espinudp-nonike"),
        ("encap espintcp 4500 4500 0.0.0.0", "espintcp"),
        ("sel proto icmp type 8", "ICMP type/code"),
    ])
    func unsupportedCommands(_ clause: String, _ message: String) {
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 \(clause)"), code: .unsupported, line: 2,
                    mentions: [message], secrets: [Self.k20])
    }

    @Test("Unsupported algorithms, modes and commands")
    func unsupportedOthers() {
        expectError(Self.command("enc cbc(des) 0x\(keyHex(8)) auth sha1 0x\(Self.k20)"), code: .unsupported, line: 2,
                    mentions: ["'cbc(des)' is a Linux cipher that IPsecLab does not implement"])
        expectError(Self.command("enc aes 0x\(keyHex(16)) auth rmd160 0x\(Self.k20)"), code: .unsupported, line: 2,
                    mentions: ["rmd160"])
        expectError(Self.command("enc aes 0x\(keyHex(16)) auth-trunc hmac(sha1) 0x\(Self.k20) 128"),
                    code: .unsupported, line: 2, mentions: ["hmac(sha1) truncated to 128 bits", "96"])
        expectError(Self.command("enc aes 0x\(keyHex(16)) auth-trunc hmac(sha256) 0x\(Self.k32) 160"),
                    code: .unsupported, line: 2, mentions: ["96 or 128"], secrets: [Self.k32])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128").replacingOccurrences("mode tunnel", "mode beet"),
                    code: .unsupported, line: 2, mentions: ["mode beet"])
        expectError(Self.command("comp lzs").replacingOccurrences("proto esp", "proto comp"), code: .unsupported,
                    line: 2, mentions: ["lzs"])
        expectError("ip xfrm policy add src 10.0.0.0/24 dst 10.0.1.0/24 dir out ptype sub\n", code: .unsupported,
                    line: 1, mentions: ["ptype 'sub'"])
        expectError("ip xfrm state delete src 10.0.0.1 dst 10.0.0.2 proto esp spi 1\n", code: .unsupported, line: 1)
        expectError("ip -n ns1 xfrm state add\n", code: .unsupported, line: 1, mentions: ["'-n'"])
        expectError(Self.command("aead rfc4106(gcm(aes)) $KEY 128"), code: .unsupported, line: 2,
                    mentions: ["shell expansion"])
        expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"hc_fields\": \"ttl\""), origin: "sa.json",
                    code: .invalidValue, line: 6, mentions: ["associations[0].hc_fields: 'ttl' can never be elided"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 hc-fields ttl,tos"), code: .invalidValue,
                    line: 2, mentions: ["'ttl' can never be elided", "decremented in transit"], secrets: [Self.k20])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 hc-fields source"), code: .inconsistent,
                    line: 2, mentions: ["compressed fields need mode tunnel-hc"], secrets: [Self.k20])
        expectError("src 10.0.0.0/24 dst 10.0.1.0/24\n\tdir out priority 1 ptype sub\n", code: .unsupported, line: 2,
                    mentions: ["ptype"])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto comp spi 0x1 reqid 0 mode tunnel\n\tcomp lzs\n",
                    code: .unsupported, line: 3, mentions: ["lzs"])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 0x1 reqid 0 mode beet\n", code: .unsupported, line: 2)
    }

    // MARK: Key lengths

    @Test("Key lengths: what was given and what the algorithm needs")
    func keyLengths() {
        let short = keyHex(16)
        let error = expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(short)\""),
                                origin: "sa.json", code: .badKeyLength, line: 6, secrets: [short])
        #expect(error?.description
            == "sa.json:6: associations[0].encryption_key: 16 bytes, aes128gcm16 needs 20 (16 key + 4 salt)")
        expectError(Self.json("\"algorithm\": \"aes128-sha1\", \"encryption_key\": \"\(short)\", \"integrity_key\": \"\(short)\""),
                    origin: "sa.json", code: .badKeyLength, line: 6,
                    mentions: ["associations[0].integrity_key: 16 bytes, aes128-sha1 needs 20"], secrets: [short])
        expectError(Self.json("\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(Self.k20)\", \"integrity_key\": \"\(short)\""),
                    origin: "sa.json", code: .badKeyLength, line: 6, mentions: ["no separate integrity key"],
                    secrets: [short, Self.k20])
        expectError(Self.json("\"algorithm\": \"aes128ctr-sha1\", \"encryption_key\": \"\(short)\""),
                    origin: "sa.json", code: .badKeyLength, line: 6, mentions: ["(16 key + 4 nonce)"], secrets: [short])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(keyHex(17)) 128"), code: .badKeyLength, line: 2,
                    mentions: ["rfc4106(gcm(aes)) key is 17 bytes; it needs 20, 28 or 36 (16, 24 or 32 key + 4 salt)"],
                    secrets: [keyHex(17)])
        expectError(Self.command("enc cbc(aes) 0x\(keyHex(20)) auth hmac(sha1) 0x\(keyHex(16))"), code: .badKeyLength,
                    line: 2, mentions: ["cbc(aes) key is 20 bytes; it needs 16, 24 or 32"])
        expectError(Self.command("enc cbc(aes) 0x\(keyHex(16)) auth hmac(sha1) 0x\(keyHex(16, seed: 3))"),
                    code: .badKeyLength, line: 2, mentions: ["auth 'hmac(sha1)' key: 16 bytes, aes128-sha1 needs 20"],
                    secrets: [keyHex(16), keyHex(16, seed: 3)])
        expectError(Self.command("enc cipher_null 0x\(keyHex(4)) auth sha1 0x\(Self.k20)"), code: .badKeyLength,
                    line: 2)
        expectError(Self.command("aead rfc7539esp(chacha20,poly1305) 0x\(keyHex(32)) 128"), code: .badKeyLength,
                    line: 2, mentions: ["36 (32 key + 4 salt)"], secrets: [keyHex(32)])
        expectError("src 10.0.0.1 dst 10.0.0.2\n\tproto ah spi 0x1 reqid 0 mode tunnel\n"
                        + "\tauth-trunc hmac(sha512) 0x\(Self.k32) 256\n",
                    code: .badKeyLength, line: 3, mentions: ["32 bytes, sha512 needs 64"], secrets: [Self.k32])
    }

    // MARK: Inconsistent

    @Test("Contradictions: families, AH with ESP's parts, selectors, sequence numbers, ESN without a window")
    func inconsistent() {
        let gcm = "\"algorithm\": \"aes128gcm16\", \"encryption_key\": \"\(Self.k20)\""
        expectError(Self.json(gcm).replacingOccurrences("\"192.0.2.2\"", "\"2001:db8::2\""), origin: "sa.json",
                    code: .inconsistent, line: 5, mentions: ["associations[0].destination: ", "different families"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128").replacingOccurrences("dst 10.0.0.2", "dst ::2"),
                    code: .inconsistent, line: 2, mentions: ["dst: source 10.0.0.1 and destination ::2"],
                    secrets: [Self.k20])
        expectError(Self.json(gcm + ", \"selector\": {\"source\": \"2001:db8::/32\"}").replacingOccurrences("tunnel", "transport"),
                    origin: "sa.json", code: .inconsistent, line: 6, mentions: ["transport-mode selector"])
        expectError(Self.json(gcm + ", \"selector\": {\"source_port\": 80}"), origin: "sa.json", code: .inconsistent,
                    line: 6, mentions: ["ports need the protocol"])
        expectError(Self.json(gcm + ", \"selector\": {\"protocol\": \"icmp\", \"source_port\": 80}"), origin: "sa.json",
                    code: .inconsistent, line: 6)
        expectError(Self.json(gcm + ", \"replay_sequence\": 4294967296"), origin: "sa.json", code: .inconsistent,
                    line: 6, mentions: ["only an SA with ESN"])
        expectError(Self.json(gcm + ", \"outbound_sequence\": 4294967296"), origin: "sa.json", code: .inconsistent,
                    line: 6)
        let ahJSON = """
            [{"protocol": "ah", "spi": 1, "mode": "tunnel", "source": "10.0.0.1", "destination": "10.0.0.2",
              "algorithm": "sha1", "integrity_key": "\(Self.k20)",
              "encapsulation": {}}]
            """
        expectError(ahJSON, origin: "sa.json", code: .inconsistent, line: 3, mentions: ["carries ESP, not AH"])
        expectError(ahJSON.replacingOccurrences("\"encapsulation\": {}", "\"encryption_key\": \"00\""),
                    origin: "sa.json", code: .inconsistent, line: 3, mentions: ["takes no encryption key"])
        expectError(ahJSON.replacingOccurrences(", \n  \"encapsulation\": {}", "").replacingOccurrences("\"tunnel\"", "\"tunnel-hc\""),
                    origin: "sa.json", code: .inconsistent, line: 1, mentions: ["an ESP mode"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 flag esn"), code: .inconsistent, line: 2,
                    mentions: ["flag esn needs a replay-window"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 replay-seq-hi 1"), code: .inconsistent,
                    line: 2, mentions: ["replay-seq: 4294967296 does not fit 32 bits"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 replay-oseq-hi 1 replay-oseq 2"),
                    code: .inconsistent, line: 2, mentions: ["replay-oseq: 4294967298"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 enc aes 0x\(keyHex(16))"),
                    code: .inconsistent, line: 2, mentions: ["cannot be combined with 'aead'"])
        expectError("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 1 enc aes 0x\(keyHex(16)) "
                        + "auth sha1 0x\(Self.k20)\n", code: .inconsistent, line: 1, mentions: ["belongs to ESP"])
        expectError(Self.command("aead rfc4106(gcm(aes)) 0x\(Self.k20) 128 sel src 10.0.0.0/8 dst ::/0"),
                    code: .inconsistent, line: 2, mentions: ["different families"])
    }

    // MARK: Helpers

    func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw ConfigError(.unreadable, origin: path, line: nil, reason: "") }
        defer { fclose(file) }
        _ = text.withCString { fputs($0, file) }
    }

    func remove(_ path: String) { unlink(path) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
