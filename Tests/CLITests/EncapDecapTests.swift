import Foundation
import IPsecCapture
import Testing

/// encap and decap as a user runs them: SA files in each format, JSON summaries, drops counted by reason, and one
/// clear error line for unusable input.
@Suite struct EncapDecapTests {
    static let sample = Tool.root.appendingPathComponent("corpora/captures/sample.pcap").path

    /// The sample capture's SAs (docs/samples in scripts/make-sample-capture.py), in the native JSON format.
    static let sampleSAs = """
        {"associations": [
         {"protocol": "esp", "spi": "0x4321", "mode": "transport", "source": "192.168.123.3",
          "destination": "192.168.123.100", "algorithm": "aes128", "encryption_key": "90d382b410eeba7ad938c46cec1a82bf"},
         {"protocol": "esp", "spi": "0x8765", "mode": "tunnel", "source": "192.168.123.3",
          "destination": "192.168.123.200", "algorithm": "aes128", "encryption_key": "0123456789abcdef0123456789abcdef"},
         {"protocol": "ah", "spi": "0x1001", "mode": "transport", "source": "10.0.0.1", "destination": "10.0.0.2",
          "algorithm": "sha1", "integrity_key": "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"},
         {"protocol": "esp", "spi": "0x2001", "mode": "transport", "source": "10.0.0.1", "destination": "10.0.0.2",
          "algorithm": "aes128-sha1", "encryption_key": "000102030405060708090a0b0c0d0e0f",
          "integrity_key": "000102030405060708090a0b0c0d0e0f10111213"},
         {"protocol": "esp", "spi": "0x3001", "mode": "tunnel", "source": "2001:db8:1::1", "destination": "2001:db8:2::1",
          "algorithm": "aes128gcm16", "encryption_key": "000102030405060708090a0b0c0d0e0f01020304"},
         {"protocol": "ah", "spi": "0x4001", "mode": "transport", "source": "2001:db8::1", "destination": "2001:db8::2",
          "algorithm": "sha1", "integrity_key": "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"},
         {"protocol": "esp", "spi": "0x5001", "mode": "transport", "source": "192.0.2.1", "destination": "198.51.100.1",
          "algorithm": "aes128-sha1", "encryption_key": "000102030405060708090a0b0c0d0e0f",
          "integrity_key": "000102030405060708090a0b0c0d0e0f10111213",
          "encapsulation": {"source_port": 4500, "destination_port": 4500}}
        ]}
        """

    static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// scapy made these packets (ESP AES-CBC/HMAC-SHA1, AES-GCM tunnel over IPv6, AH over IPv4 and IPv6, ESP in UDP,
    /// IPComp) and RFC 3602 the first two: IPsecLab opens all eight, and passes the keepalive and the IKE message
    /// through as not IPsec.
    @Test func decapTheSample() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sa = try Self.write(Self.sampleSAs, "sa.json", in: dir)
        let out = dir.appendingPathComponent("plain.pcap").path
        let r = try Tool.run(["decap", "--sa", sa, "--in", Self.sample, "--out", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(summary["packets_in"] as? Int == 16)
        #expect(summary["accepted"] as? Int == 8)
        #expect(summary["not_ipsec"] as? Int == 8)
        #expect((summary["dropped"] as? [String: Int])?.isEmpty == true)
        let packets = try #require(summary["packets"] as? [[String: Any]])
        #expect(packets.count == 16)
        #expect(packets[0]["verdict"] as? String == "accepted" && packets[0]["spi"] as? Int == 0x4321)
        // RFC 3602's packets use confidentiality-only ESP: accepted, and marked insecure wherever reported.
        #expect(packets[0]["insecure"] != nil && packets[1]["insecure"] != nil && packets[5]["insecure"] == nil)
        #expect(summary["insecure"] as? Int == 2)
        // What was written is plain IP: inspect finds no ESP or AH in it.
        let inspect = try Tool.run(["inspect", out])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.split(separator: "\n").count == 8)
        #expect(!inspect.stdout.contains("ESP(") && !inspect.stdout.contains("AH(") && !inspect.stdout.contains("IPComp"))
        // The human summary: one line per drop reason, here none.
        let text = try Tool.run(["decap", "--sa", sa, "--in", Self.sample, "--out", out])
        #expect(text.stdout.hasPrefix("packets in: 16, accepted: 8, dropped: 0, not IPsec: 8"))
        #expect(text.stdout.contains("insecure: 2 accepted packets used confidentiality-only ESP"))
        // Without the NAT-T SA, the ESP-in-UDP packet is IPsec for which there is no SA.
        let fewer = try Self.write(Self.sampleSAs.replacingOccurrences(of: "0x5001", with: "0x5002"), "fewer.json", in: dir)
        let t2 = try Tool.run(["decap", "--sa", fewer, "--in", Self.sample, "--out", out])
        #expect(t2.stdout.contains("dropped no-sa: 1"))
    }

    /// encap then decap with the same SA gives the input back; a second decap of the same capture is all replays.
    @Test(arguments: ["transport", "tunnel", "tunnel-hc"])
    func encapDecapRoundTrip(mode: String) throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Every IP packet of the sample goes through one tunnel SA; transport mode takes only 10.0.0.1 → 10.0.0.2
        // packets, so use a capture of those.
        let sa = try Self.write("""
            {"associations": [{"protocol": "esp", "spi": "0x100", "mode": "\(mode)", "source": "10.0.0.1",
              "destination": "10.0.0.2", "algorithm": "aes256gcm16",
              "encryption_key": "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f01020304"}]}
            """, "sa.json", in: dir)
        let plain = dir.appendingPathComponent("plain.pcap").path
        let writer = try CaptureWriter(path: plain, linkType: .ethernet)
        for i in 0..<20 {
            var ip: [UInt8] = [0x45, 0, 0, 0, 0, UInt8(i), 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
            let payload = [UInt8](repeating: UInt8(i), count: i * 7)
            let udp: [UInt8] = [0x13, 0x88, 0x13, 0x89, 0, UInt8(8 + payload.count), 0, 0] + payload
            let total = ip.count + udp.count
            ip[2] = UInt8(total >> 8); ip[3] = UInt8(total & 0xff)
            var sum: UInt32 = 0
            for k in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[k]) << 8 | UInt32(ip[k + 1]) }
            while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
            ip[10] = UInt8(~sum >> 8 & 0xff); ip[11] = UInt8(~sum & 0xff)
            let frame = [UInt8](repeating: 2, count: 12) + [0x08, 0x00] + ip + udp
            try writer.write(CaptureRecord(timestampSeconds: Int64(i), timestampNanoseconds: 0, data: frame))
        }
        try writer.close()
        let protected = dir.appendingPathComponent("protected.pcap").path
        let e = try Tool.run(["encap", "--sa", sa, "--in", plain, "--out", protected, "--seed", "7", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("\"protected\":20"))
        // Reproducible from the seed.
        let again = dir.appendingPathComponent("again.pcap").path
        _ = try Tool.run(["encap", "--sa", sa, "--in", plain, "--out", again, "--seed", "7"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: protected)) == Data(contentsOf: URL(fileURLWithPath: again)))
        let opened = dir.appendingPathComponent("opened.pcap").path
        let d = try Tool.run(["decap", "--sa", sa, "--in", protected, "--out", opened, "--json"])
        #expect(d.status == 0)
        #expect(d.stdout.contains("\"accepted\":20"))
        let a = try CaptureReader(path: plain), b = try CaptureReader(path: opened)
        while let x = try a.next() {
            let y = try #require(try b.next())
            #expect(x.data == y.data)
        }
        // Dummy packets on request: one after every 5 protected packets, discarded quietly by the receiver.
        if mode != "transport" {
            let withDummies = dir.appendingPathComponent("dummies.pcap").path
            let dm = try Tool.run(["encap", "--sa", sa, "--in", plain, "--out", withDummies, "--dummy-every", "5", "--json"])
            #expect(dm.stdout.contains("\"dummies\":4"), "\(dm.stdout)")
            let dd = try Tool.run(["decap", "--sa", sa, "--in", withDummies, "--out", opened])
            #expect(dd.stdout.contains("accepted: 20, dropped: 4"), "\(dd.stdout)")
            #expect(dd.stdout.contains("dropped dummy: 4"))
        }
        // The same capture again: the receiver already has these sequence numbers. (Each decap run starts from the
        // SA file's state, so feed the capture twice in one run.)
        let twice = dir.appendingPathComponent("twice.pcap").path
        let w2 = try CaptureWriter(path: twice, linkType: .ethernet)
        for _ in 0..<2 {
            let r = try CaptureReader(path: protected)
            while let rec = try r.next() { try w2.write(rec) }
        }
        try w2.close()
        let t = try Tool.run(["decap", "--sa", sa, "--in", twice, "--out", opened])
        #expect(t.stdout.contains("accepted: 20, dropped: 20"))
        #expect(t.stdout.contains("dropped replay: 20"))
    }

    @Test func badSAFilesGiveOneLine() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("o.pcap").path
        let cases: [(String, String)] = [
            ("this is not an SA file\n", "not an SA file"),
            ("{\"associations\": [{\"protocol\": \"esp\", \"spi\": 1, \"mode\": \"tunnel\", \"source\": \"10.0.0.1\", "
                + "\"destination\": \"10.0.0.2\", \"algorithm\": \"aes999gcm\", \"encryption_key\": \"00\"}]}",
             "aes999gcm"),
            ("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 mode tunnel "
                + "aead 'rfc4106(gcm(aes))' 0x00112233445566778899aabbccddeeff 128\n", "bytes"),
        ]
        for (i, (text, needle)) in cases.enumerated() {
            let sa = try Self.write(text, "sa\(i).conf", in: dir)
            let r = try Tool.run(["decap", "--sa", sa, "--in", Self.sample, "--out", out])
            expectOneLineError(r, mentioning: needle)
            // Key material never appears in an error.
            #expect(!r.stderr.contains("00112233445566778899aabbccddeeff"))
            #expect(!FileManager.default.fileExists(atPath: out), "no output file on failure")
        }
        expectOneLineError(try Tool.run(["decap", "--sa", "/nonexistent.json", "--in", Self.sample, "--out", out]),
                           mentioning: "/nonexistent.json")
    }

    @Test func modesListsTheMatrix() throws {
        let r = try Tool.run(["modes", "--json"])
        #expect(r.status == 0)
        let modes = try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["mode"] as? String
        }
        #expect(modes == ["transport-ah", "transport-esp", "transport-esp-null", "tunnel-ah", "tunnel-esp",
                          "tunnel-esp-null", "tunnel-esp-hc"])
    }
}
