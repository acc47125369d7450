import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// Parsing may throw, but must never trap, hang or leak a key; and whatever parses must survive a JSON round trip
/// (the oracle of swift-protobuf's fuzzers).
@Suite("Robustness")
struct RobustnessTests {
    static let mutantsPerFormat = 3000
    static let secretWindows = IPsecConfigTests.secretWindows(Fixtures.secrets + Interop.secrets)

    static let dictionary: [String] = [
        "0", "-1", "00", "08", "0x", "0X", "0x0", "4294967295", "4294967296", "18446744073709551615",
        "18446744073709551616", "99999999999999999999999999999999999999", "1e999", "-0", "1.5", "true", "null", "\"\"",
        "''", "\\", "\"", "'", "{", "}", "[", "]", ",", ":", ";", "#", "(", ")", "\n", "\t", "esp", "ah", "comp",
        "tunnel", "tunnel-hc", "transport", "beet", "esn", "flag", "sel", "src", "dst", "proto", "spi", "enc", "auth",
        "auth-trunc", "aead", "encap", "espinudp", "mode", "replay-window", "replay-seq-hi", "replay-oseq-hi", "::",
        "::ffff:1.2.3.4", "1.2.3.4/33", "255.255.255.255", "cbc(aes)", "rfc4106(gcm(aes))", "hmac(sha256)", "digest_null",
        "cipher_null", "sha256_96", "aes128gcm16", "null", "\"associations\"", "\"selector\"", "\"spi\"", "$X", "`",
        "\u{FEFF}", "\u{0}", "é", "\u{1F600}", "anti-replay", "context:", "seq-hi", "replay_window", "\\u0000",
        "\"\\ud800\"", String(repeating: "9", count: 400), String(repeating: "f", count: 300),
        String(repeating: "[", count: 40),
        // setkey.conf, policies and Wireshark's table
        "add", "spdadd", "flush;", "spdflush;", "-E", "-A", "-C", "-m", "-r", "-u", "-P", "ipsec", "none", "discard",
        "esp/tunnel/10.0.0.1-10.0.0.2/require", "ah/transport//use", "unique:0", "[any]", "[0]", "icmp6", "135,0",
        "aes-gcm-16", "hmac-sha256", "des-cbc", "deflate", "ipcomp", "esp-udp", "prio", "low-1", "policy", "tmpl",
        "dir", "fwd", "action", "block", "level", "priority", "socket", "limit", "packet-soft", "tfcpad", "\"IPv4\",",
        "\"*\"", "\"NULL\"", "# ipsec-lab:", "\\x41", "1.2.3.4-1.2.3.3", "\"1-2\"",
    ]

    @Test("Seeded mutants of every format never trap", arguments: SAFileFormat.allCases)
    func mutants(_ format: SAFileFormat) throws {
        let (base, seed): (String, UInt64) = switch format {
        case .json: (Fixtures.json, 1)
        case .ipXfrmCommands: (Fixtures.commands, 2)
        case .ipXfrmListing: (Fixtures.listing, 3)
        case .setkey: (Interop.setkey, 4)
        case .wiresharkESPSA: (try SAFile.wiresharkESPSA(try Interop.associations()), 5)
        }
        try Self.survive(base, seed: seed)
    }

    @Test("Seeded mutants of the configuration with policies never trap", arguments: [11, 12, 13] as [UInt64])
    func policyMutants(_ seed: UInt64) throws {
        try Self.survive([Interop.json, Interop.commands, Interop.listing][Int(seed - 11)], seed: seed)
    }

    /// Parsing may throw (one line, the origin first, no key material); whatever parses survives a JSON round trip.
    static func survive(_ base: String, seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let bytes = Array(base.utf8)
        var parsed = 0
        for i in 0..<Self.mutantsPerFormat {
            let mutant = Self.mutate(bytes, &random)
            let origin = "mutant-\(seed)-\(i)"
            do {
                let file = try SAFile.parse(bytes: mutant, origin: origin)
                parsed += 1
                let again = try SAFile.parse(file.json(includeKeys: true), origin: "again")
                #expect(again.associations == file.associations, "\(origin)")
                #expect(again.policies == file.policies, "\(origin)")
                #expect(again.compressions == file.compressions, "\(origin)")
            } catch {
                let message = error.description
                #expect(!message.contains("\n"), "\(origin): \(message)")
                #expect(message.hasPrefix(origin), "\(origin): \(message)")
                if leaks(message, windows: Self.secretWindows) {
                    Issue.record("\(origin) leaks key material: \(message)")
                }
            }
        }
        // Some mutants (a changed reqid, a dropped comment) stay valid; most do not.
        #expect(parsed > 0 && parsed < Self.mutantsPerFormat)
    }

    static func mutate(_ input: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let rounds = Int.random(in: 1...3, using: &random)
        for _ in 0..<rounds {
            guard !bytes.isEmpty else { return bytes }
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0:  // truncate
                bytes.removeSubrange(at...)
            case 1:  // flip a bit
                bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &random)
            case 2:  // a random byte
                bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 3:  // delete a range
                bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &random)))
            case 4:  // duplicate a range
                let end = min(bytes.count, at + Int.random(in: 1...64, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: end)
            case 5:  // insert a dictionary word
                bytes.insert(contentsOf: Array(dictionary.randomElement(using: &random)!.utf8), at: at)
            case 6, 7:  // swap two tokens, or replace one with a dictionary word
                var tokens = split(bytes)
                guard tokens.count > 2 else { break }
                let a = Int.random(in: 0..<tokens.count, using: &random)
                if Int.random(in: 0...1, using: &random) == 0 {
                    let b = Int.random(in: 0..<tokens.count, using: &random)
                    tokens.swapAt(a, b)
                } else {
                    tokens[a].word = Array(dictionary.randomElement(using: &random)!.utf8)
                }
                bytes = tokens.flatMap { $0.word + $0.space }
            default:  // swap, duplicate or drop lines
                var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init)
                let a = Int.random(in: 0..<lines.count, using: &random)
                let b = Int.random(in: 0..<lines.count, using: &random)
                switch Int.random(in: 0...2, using: &random) {
                case 0: lines.swapAt(a, b)
                case 1: lines.insert(lines[a], at: b)
                default: lines.remove(at: a)
                }
                bytes = Array(lines.joined(separator: [0x0a]))
            }
        }
        return bytes
    }

    /// Words and the blanks after them, so that a file can be put back together.
    static func split(_ bytes: [UInt8]) -> [(word: [UInt8], space: [UInt8])] {
        var out: [(word: [UInt8], space: [UInt8])] = []
        var i = 0
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a }
        while i < bytes.count {
            var word: [UInt8] = []
            var space: [UInt8] = []
            while i < bytes.count, !blank(bytes[i]) { word.append(bytes[i]); i += 1 }
            while i < bytes.count, blank(bytes[i]) { space.append(bytes[i]); i += 1 }
            out.append((word, space))
        }
        return out
    }

    @Test("Long lines and huge values fail cleanly", arguments: SAFileFormat.allCases)
    func hugeInputs(_ format: SAFileFormat) {
        let long = String(repeating: "a", count: 1 << 20)
        let digits = String(repeating: "9", count: 100_000)
        let texts: [String]
        switch format {
        case .json:
            texts = [
                "[\"\(long)\"]", "{\"associations\": [\(digits)]}", "[{\"spi\": \(digits)}]",
                "[{\"spi\": -\(digits).\(digits)e\(digits)}]", "[" + String(repeating: "[", count: 100_000),
                "{" + String(repeating: "\"a\": {", count: 50_000), "[{\"\(long)\": 1}]",
                Fixtures.json.replacingOccurrences("\"replay_sequence\": 4294967301", "\"replay_sequence\": \(digits)"),
            ]
        case .ipXfrmCommands:
            texts = [
                "ip xfrm state add \(long)", "ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi \(digits)",
                "ip xfrm state add spi 0x\(digits)", "ip xfrm state add " + String(repeating: "src 10.0.0.1 ", count: 10_000),
                "ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 enc aes 0x\(String(repeating: "ab", count: 500_000))",
                "ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 mode tunnel aead rfc4106(gcm(aes)) "
                    + "0x\(keyHex(20)) \(digits)",
                String(repeating: "ip xfrm state flush\n", count: 20_000),
                "ip xfrm state add src \(String(repeating: "1", count: 5000)) dst ::",
            ]
        case .ipXfrmListing:
            texts = [
                "src 10.0.0.1 dst 10.0.0.2\n\t\(long)\n", "src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi \(digits)\n",
                "src 10.0.0.1 dst 10.0.0.2\n\treplay-window \(digits)\n",
                "src 10.0.0.1 dst 10.0.0.2\n\tanti-replay context: seq 0x\(digits)\n",
                String(repeating: "src 10.0.0.1 dst 10.0.0.2\n", count: 20_000),
                "src 10.0.0.1 dst 10.0.0.2\n" + String(repeating: "\t00000000 00000000\n", count: 50_000),
                "src 10.0.0.0/8 dst 10.0.0.0/8\n\tdir out priority \(digits)\n",
                "src 10.0.0.0/8 dst 10.0.0.0/8\n" + String(repeating: "\ttmpl src 0.0.0.0 dst 0.0.0.0\n", count: 50_000),
            ]
        case .setkey:
            texts = [
                "add \(long);", "add 10.0.0.1 10.0.0.2 esp \(digits) -E null;", "spdadd " + String(repeating: "-4 ", count: 100_000),
                "add 10.0.0.1 10.0.0.2 esp 1 -E aes-cbc 0x\(String(repeating: "ab", count: 500_000));",
                String(repeating: "flush;\n", count: 20_000), "add 10.0.0.1 10.0.0.2 esp 1 -E null \"\(long)",
                "spdadd 10.0.0.0/8 10.0.0.0/8 any -P out prio \(digits) none;",
                "spdadd 10.0.0.0/8 10.0.0.0/8 any -P out ipsec " + String(repeating: "esp/transport//use ", count: 20_000),
            ]
        case .wiresharkESPSA:
            texts = [
                "\"IPv4\",\"\(long)\"", "\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"\(digits)\",\"NULL\",\"\",\"NULL\",\"\"",
                "\"IPv4\"," + String(repeating: "\"a\",", count: 100_000),
                "\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"1\",\"NULL\",\"\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x\(String(repeating: "ab", count: 500_000))\"",
            ]
        }
        for text in texts {
            do {
                let file = try SAFile.parse(text, origin: "huge")
                Issue.record("parsed \(file.associations.count) SAs from a \(text.utf8.count)-byte \(format) input")
            } catch {
                #expect(!error.description.contains("\n"))
                #expect(error.description.utf8.count < 1000, "messages stay short")
            }
        }
    }
}
