import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire

/// The SA file formats: native JSON, `ip xfrm state` commands and `ip xfrm state` listings. The format is detected
/// from the content, as `--sa` does, so each target reaches the other parsers too when a mutant changes the first
/// word. Oracles: an error is one line naming its origin; whatever parses survives a JSON round trip and, when Linux
/// can express it, an `ip xfrm` round trip.
enum ConfigTargets {
    static var all: [FuzzTarget] { [json, commands, listing, setkey, wireshark] }

    static let json = target("sa-json", "SA files in IPsecLab's JSON (docs/sa-files.md)", seeds: { jsonSeeds() })
    static let commands = target("ip-xfrm", "`ip xfrm state add` commands (shell words, iproute2 numbers)",
                                 seeds: { commandSeeds() })
    static let listing = target("ip-xfrm-listing", "`ip xfrm state` listings as iproute2 prints them",
                                seeds: { listingSeeds() })
    static let setkey = target("setkey", "setkey.conf (ipsec-tools / KAME), SAs and policies", seeds: { setkeySeeds() })
    static let wireshark = target("wireshark-esp-sa", "Wireshark's esp_sa table", seeds: { wiresharkSeeds() })

    static func target(_ name: String, _ summary: String, seeds: @escaping @Sendable () -> [[UInt8]]) -> FuzzTarget {
        FuzzTarget(name: name, summary: summary, maximumInputLength: 8192,
                   dictionary: dictionary.map { Array($0.utf8) },
                   harness: { FunctionHarness { input, feedback in run(name, input, &feedback) } },
                   mutator: { TextMutator(tokens: dictionary) }, seeds: seeds)
    }

    static func run(_ name: String, _ input: ArraySlice<UInt8>, _ feedback: inout FuzzFeedback) {
        let origin = "fuzz.sa"
        let file: SAFile
        do {
            file = try SAFile.parse(bytes: Array(input), origin: origin)
        } catch {
            feedback.add(error.code.rawValue + (error.line == nil ? "" : " line"))
            let message = error.description
            FuzzOracle.check(!message.contains("\n"), name, "an SA file error spans several lines", details: message)
            FuzzOracle.check(message.hasPrefix(origin), name, "an SA file error does not name its origin",
                             details: message)
            return
        }
        feedback.add("parsed " + file.format.rawValue, file.associations.count)
        for sa in file.associations {
            feedback.add("sa " + sa.modeName + " " + sa.algorithm.description)
        }
        for p in file.policies { feedback.add("policy " + "\(p.action)") }
        if !file.compressions.isEmpty { feedback.add("ipcomp", file.compressions.count) }
        do {
            let again = try SAFile.parse(file.json(includeKeys: true), origin: "again.json")
            FuzzOracle.check(sameContent(again, file), name, "the JSON round trip changes the file",
                             details: "\(file) vs \(again)")
        } catch {
            FuzzOracle.fail(name, "a file that parsed does not load back from its JSON", details: "\(error)")
        }
        if let text = try? file.ipXfrmCommands() {
            feedback.add("ip xfrm expressible")
            do {
                let again = try SAFile.parse(text, origin: "again.sh")
                FuzzOracle.check(sameContent(again, file), name, "the ip xfrm round trip changes the file",
                                 details: "\(file) vs \(again)")
            } catch {
                FuzzOracle.fail(name, "a file that parsed does not load back from its ip xfrm commands",
                                details: "\(error)")
            }
        }
    }

    /// The same SAs, IPComp SAs and policies, whatever the format.
    static func sameContent(_ a: SAFile, _ b: SAFile) -> Bool {
        a.associations == b.associations && a.policies == b.policies && a.compressions == b.compressions
    }

    // MARK: Seeds

    static func key(_ n: Int, _ seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: seed &* 37 &+ $0 &* 11) } }

    /// One SA of each algorithm, with the modes, families, selectors and options rotating.
    static func variety() -> [SAConfiguration] {
        let v4 = (IPAddress("192.0.2.1")!, IPAddress("198.51.100.2")!)
        let v6 = (IPAddress("2001:db8::1")!, IPAddress("2001:db8::2")!)
        var out: [SAConfiguration] = []
        var spi: UInt32 = 0x100
        let modes: [SAMode] = [.tunnel, .transport, .tunnelHC]
        for (i, a) in ESPAlgorithm.all.enumerated() {
            spi += 1
            let (s, d) = i % 2 == 0 ? v4 : v6
            let mode = modes[i % 3]
            out.append(SAConfiguration(
                protocol: .esp, spi: spi, mode: mode, source: s, destination: d, algorithm: .esp(a),
                encryptionKey: key(a.encryptionKeyLength, i), integrityKey: key(a.integrityKeyLength, i + 50),
                reqid: UInt32(i % 4), extendedSequenceNumbers: i % 4 == 1, replayWindow: [0, 32, 64, 128][i % 4],
                replaySequence: UInt64(i * 3), outboundSequence: UInt64(i),
                selector: i % 5 == 0 ? TrafficSelector(source: IPPrefix(host: s), protocol: .udp, destinationPort: 53) : nil,
                encapsulation: i % 7 == 0 && s.version == .v4 ? UDPEncapsulationConfig() : nil,
                headerCompression: mode == .tunnelHC ? HeaderCompressionFields.presets[i % 3].fields : nil))
        }
        for (i, a) in AHAlgorithm.all.enumerated() {
            spi += 1
            let (s, d) = i % 2 == 0 ? v4 : v6
            out.append(SAConfiguration(protocol: .ah, spi: spi, mode: i % 2 == 0 ? .tunnel : .transport, source: s,
                                       destination: d, algorithm: .ah(a), integrityKey: key(a.keyLength, i + 90),
                                       replayWindow: 32))
        }
        return out
    }

    static func jsonSeeds() -> [[UInt8]] {
        let all = variety()
        var seeds = stride(from: 0, to: all.count, by: 6).map { i in
            Array(SAFile.json(Array(all[i..<min(i + 6, all.count)]), includeKeys: true).utf8)
        }
        seeds.append(Array(SAFile.json([all[0]], includeKeys: false).utf8))
        seeds.append(Array("[{\"protocol\":\"esp\",\"spi\":1}]".utf8))
        return seeds
    }

    static func commandSeeds() -> [[UInt8]] {
        let all = variety().filter { (try? SAFile.ipXfrmCommands([$0])) != nil }
        var seeds = stride(from: 0, to: all.count, by: 6).compactMap { i in
            (try? SAFile.ipXfrmCommands(Array(all[i..<min(i + 6, all.count)]))).map { Array($0.utf8) }
        }
        seeds.append(Array("""
            #!/bin/sh
            ip xfrm state flush
            sudo ip -6 xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 4096 mode transport \\
                replay-window 64 replay-seq 0x10 replay-oseq 040 \\
                enc "cbc(aes)" 0X000102030405060708090a0b0c0d0e0f auth-trunc 'hmac(sha256)' \\
                0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f 128 \\
                sel src 2001:db8:1::/64 dst 2001:db8:2::/64 proto tcp dport 443   # web
            /sbin/ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x300 reqid 3 mode tunnel \\
                replay-window 32 auth sha1 0x0001020304050607080910111213141516171819 limit time-hard 3600; ip xfrm policy flush
            ip xfrm state add src 192.0.2.1 dst 198.51.100.2 proto esp spi 0xc0ffee01 mode tunnel flag esn \\
                aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0f10111213 128 encap espinudp 4500 4500 0.0.0.0

            """.utf8))
        return seeds
    }

    static func listingSeeds() -> [[UInt8]] {
        let k16 = "0x000102030405060708090a0b0c0d0e0f", k20 = k16 + "10111213", k32 = k16 + "101112131415161718191a1b1c1d1e1f"
        let texts = [
            """
            src 192.0.2.1 dst 198.51.100.2
            \tproto esp spi 0xc0ffee01 reqid 1 mode tunnel
            \treplay-window 0 flag af-unspec esn
            \taead rfc4106(gcm(aes)) \(k20) 128
            \tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0
            \tanti-replay esn context:
            \t seq-hi 0x1, seq 0x5, oseq-hi 0x0, oseq 0x7
            \t replay_window 32, bitmap-length 1
            \t 0000001f
            \tsel src 0.0.0.0/0 dst 0.0.0.0/0

            """,
            """
            src 2001:db8::1 dst 2001:db8::2
            \tproto esp spi 0x00001000 reqid 0 mode transport
            \treplay-window 0
            \tauth-trunc hmac(sha256) \(k32) 128
            \tenc cbc(aes) \(k32)
            \tanti-replay esn context:
            \t seq-hi 0x0, seq 0x10, oseq-hi 0x0, oseq 0x20
            \t replay_window 64, bitmap-length 2
            \t 00000000 0000ffff
            \tsel src 2001:db8:1::/64 dst 2001:db8:2::/64 proto tcp dport 443
            src 10.0.0.1 dst 10.0.0.2
            \tproto ah spi 0x00000300 reqid 3 mode tunnel
            \treplay-window 32
            \tauth-trunc hmac(sha1) \(k20) 96
            \tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000
            \tsel src 10.1.0.0/16 dst 10.2.0.0/16

            """,
            """
            src 10.0.0.1 dst 10.0.0.2
            \tproto esp spi 0x00002001 reqid 0 mode tunnel
            \treplay-window 32 flag af-unspec
            \tauth-trunc hmac(sha256) \(k32) 128
            \tenc cbc(aes) \(k16)
            \tanti-replay context: seq 0x1, oseq 0x2, bitmap 0x00000001
            \tlifetime config:
            \t  limit: soft (INF)(bytes), hard (INF)(bytes)
            \tsel src 0.0.0.0/0 dst 0.0.0.0/0

            """,
        ]
        return texts.map { Array($0.utf8) }
    }

    static func setkeySeeds() -> [[UInt8]] {
        let texts = [
            """
            #!/usr/sbin/setkey -f
            flush;
            spdflush;

            # AH and ESP from 10.0.0.11 to 10.0.0.216, transport mode
            add 10.0.0.11 10.0.0.216 ah 15700 -A hmac-md5 "1234567890123456";
            add 10.0.0.11 10.0.0.216 esp 15701 -m transport -r 32
                -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x00112233445566778899aabbccddeeff00112233;
            # a tunnel to 10.0.0.11, and IPComp in front of it
            add 10.0.0.216 10.0.0.11 esp 34501 -m tunnel -E aes-gcm-16 0x00112233445566778899aabbccddeeff01020304;
            add 10.0.0.216 10.0.0.11 ipcomp 0x4001 -m tunnel -C deflate;

            spdadd 10.0.0.11 10.0.0.216 any -P out ipsec esp/transport//require ah/transport//require;
            spdadd 10.0.0.0/24 130.161.0.0/16 any -P out ipsec
                ipcomp/tunnel/10.0.0.216-10.0.0.11/use esp/tunnel/10.0.0.216-10.0.0.11/require;
            spdadd ::/0 ::/0 icmp6 135,0 -P out none;

            """,
            """
            add -6 2001:db8::1 2001:db8::2 esp-udp 0x1001 -m tunnel -u 7 -lh 3600 -bh 100000
                -E 3des-cbc 0x000102030405060708090a0b0c0d0e0f1011121314151617 -A hmac-sha256 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f;
            add 192.0.2.1[4500] 198.51.100.2[4501] esp-udp 0x2002 -E aes-ctr 0x000102030405060708090a0b0c0d0e0f10111213 -A hmac-sha1 0x0001020304050607080910111213141516171819;
            add 192.0.2.1 198.51.100.2 esp 0x3003 -E null -A hmac-sha512 0x\(String(repeating: "ab", count: 64));
            spdadd 192.0.2.0/24[any] 198.51.100.0/24[443] tcp -P in prio high+3 ipsec esp/tunnel/192.0.2.1-198.51.100.2/unique:7;
            spdadd 10.1.0.0/16 10.2.0.0/16 icmp 8,0 -P fwd discard;

            """,
        ]
        return texts.map { Array($0.utf8) }
    }

    static func wiresharkSeeds() -> [[UInt8]] {
        let all = variety()
        var seeds = stride(from: 0, to: all.count, by: 8).compactMap { i in
            (try? SAFile.wiresharkESPSA(Array(all[i..<min(i + 8, all.count)]))).map { Array($0.utf8) }
        }
        seeds.append(Array("""
            # This file is automatically generated, DO NOT MODIFY.
            "IPv4","192.0.2.1","198.51.100.2","0x00001000","AES-CBC [RFC3602]","0x00112233445566778899aabbccddeeff","HMAC-SHA-1-96 [RFC2404]","0x00112233445566778899aabbccddeeff00112233"
            "IPv6","2001:db8::1","2001:db8::2","0x00001001","AES-GCM with 16 octet ICV [RFC4106]","0x00112233445566778899aabbccddeeff01020304","NULL",""
            "IPv4","*","10.0.0.2","*","NULL","","HMAC-SHA-256-128 [RFC4868]","0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"

            """.utf8))
        return seeds
    }

    /// Words of the three grammars and the values that break number and address parsers.
    static let dictionary: [String] = [
        "0", "-1", "00", "08", "0x", "0X", "0x0", "010", "4294967295", "4294967296", "18446744073709551615",
        "18446744073709551616", "99999999999999999999", "1e9", "-0", "1.5", "true", "false", "null", "\"\"", "''", "\\",
        "\"", "'", "{", "}", "[", "]", ",", ":", ";", "#", "\n", "\t", "\\\n", "esp", "ah", "comp", "tunnel",
        "tunnel-hc", "transport", "beet", "esn", "flag", "sel", "src", "dst", "proto", "spi", "reqid", "enc", "auth",
        "auth-trunc", "aead", "encap", "espinudp", "espinudp-nonike", "mode", "replay-window", "replay-seq",
        "replay-oseq", "replay-seq-hi", "replay-oseq-hi", "limit", "sport", "dport", "::", "::ffff:1.2.3.4",
        "1.2.3.4/33", "2001:db8::/129", "255.255.255.255", "0.0.0.0", "cbc(aes)", "rfc4106(gcm(aes))",
        "rfc4309(ccm(aes))", "rfc7539esp(chacha20,poly1305)", "rfc3686(ctr(aes))", "rfc4543(gcm(aes))",
        "hmac(sha256)", "hmac(sha1)", "xcbc(aes)", "cmac(aes)", "digest_null", "cipher_null", "ecb(cipher_null)",
        "sha256_96", "aes128gcm16", "aes256-sha256", "null-sha256", "chacha20poly1305", "aes128gmac", "aes128",
        "\"associations\"", "\"selector\"", "\"spi\"", "\"mode\"", "\"algorithm\"", "\"encryption_key\"",
        "\"integrity_key\"", "\"esn\"", "\"replay_window\"", "\"replay_sequence\"", "\"outbound_sequence\"",
        "\"encapsulation\"", "\"header_compression\"", "\"host-to-host\"", "\"minimal\"", "$X", "`", "\u{FEFF}", "é",
        "anti-replay", "context:", "seq-hi", "oseq-hi", "replay_window", "bitmap-length", "\\u0000", "\"\\ud800\"",
        "ip xfrm state add ", "src 10.0.0.1 dst 10.0.0.2\n", "\tproto esp spi 0x1 reqid 0 mode tunnel\n",
        "ip xfrm policy add ", "dir out", "dir in", "dir fwd", "tmpl", "level use", "action block", "priority",
        "spdadd ", "add ", "-P out ipsec ", "esp/transport//require", "ah/tunnel/10.0.0.1-10.0.0.2/use", "unique:",
        "-E aes-cbc ", "-A hmac-sha1 ", "-m tunnel", "-r 32", "-C deflate", "esp-udp", "prio low-1", "none;",
        "discard;", "[4500]", "[any]", "\"IPv4\",", "\"IPv6\",", "\"*\",", "\"NULL\",", "\"AES-CBC [RFC3602]\",",
        "\"HMAC-SHA-1-96 [RFC2404]\",", "\"AES-GCM with 8 octet ICV [RFC4106]\",", "\"TripleDES-CBC [RFC2451]\",",
        "\"policies\"", "\"ipcomp\"", "\"direction\"", "\"templates\"", "\"protect\"", "\"bypass\"",
    ]
}

/// Line- and word-level mutation of text files: whole lines deleted, duplicated or swapped, a word replaced by a
/// token of the grammar or a boundary number, a hex key made a byte longer or shorter.
final class TextMutator: StructureMutator {
    let tokens: [[UInt8]]
    init(tokens: [String]) { self.tokens = tokens.map { Array($0.utf8) } }

    func mutate(_ b: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        guard !b.isEmpty else { return false }
        var lines = b.split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init)
        let i = r.below(lines.count)
        switch r.below(7) {
        case 0:
            lines.remove(at: i)
        case 1:
            lines.insert(lines[i], at: r.below(lines.count + 1))
        case 2:
            lines.swapAt(i, r.below(lines.count))
        case 3, 4:
            // A word replaced by a token.
            var words = lines[i].split(separator: 0x20, omittingEmptySubsequences: false).map(Array.init)
            guard !words.isEmpty else { return false }
            let w = r.below(words.count)
            words[w] = r.element(of: tokens)
            lines[i] = Array(words.joined(separator: [0x20]))
        case 5:
            // A number made a boundary value.
            guard let range = numberRange(in: lines[i], &r) else { return false }
            let values = ["0", "1", "255", "256", "65535", "65536", "4294967295", "4294967296", "0xffffffff", "-1",
                          "0x80000000", "18446744073709551615"]
            lines[i].replaceSubrange(range, with: Array(r.element(of: values).utf8))
        default:
            // A hex run (a key) grown or shrunk by one byte.
            guard let range = hexRange(in: lines[i]) else { return false }
            if r.chance(1, in: 2), range.count >= 2 {
                lines[i].removeSubrange((range.upperBound - 2)..<range.upperBound)
            } else {
                lines[i].insert(contentsOf: Array("a5".utf8), at: range.upperBound)
            }
        }
        b = Array(lines.joined(separator: [0x0a]))
        return true
    }

    private func numberRange(in line: [UInt8], _ r: inout FuzzRandom) -> Range<Int>? {
        var ranges: [Range<Int>] = []
        var i = 0
        while i < line.count {
            if line[i] >= 0x30 && line[i] <= 0x39 {
                var j = i
                while j < line.count, isHexOrX(line[j]) { j += 1 }
                ranges.append(i..<j)
                i = j
            } else {
                i += 1
            }
        }
        return ranges.isEmpty ? nil : r.element(of: ranges)
    }

    private func hexRange(in line: [UInt8]) -> Range<Int>? {
        var best: Range<Int>? = nil
        var i = 0
        while i < line.count {
            var j = i
            while j < line.count, isHexOrX(line[j]) { j += 1 }
            if j - i >= 16, j - i > (best?.count ?? 0) { best = i..<j }
            i = j + 1
        }
        return best
    }

    private func isHexOrX(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c == 0x78 || c == 0x58
    }
}
