import Foundation
import IPsecCapture
import Testing

/// Issue 4's "done when", end to end through the command line: a capture holding several flows, replays, an ESN
/// wrap, NAT-T and IPComp traffic, keyed by the user's own `ip xfrm` configuration (policies included) and by the
/// equivalent setkey.conf, decapsulates with exactly the right packets accepted and every drop counted under its
/// reason.
@Suite struct StatefulDecapTests {
    static let k16 = "000102030405060708090a0b0c0d0e0f"
    static let k20 = "101112131415161718191a1b1c1d1e1f20212223"
    static let k32 = "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"

    /// Three flows from 10.0.0.1 to 10.0.0.2: UDP 53 goes through an AES-GCM tunnel with ESN that starts two packets
    /// before the 32-bit wrap; UDP 500x through transport ESP in UDP (NAT-T); TCP through IPComp under transport ESP.
    static let xfrm = """
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode tunnel \\
            aead 'rfc4106(gcm(aes))' 0x\(k20) 128 replay-window 64 flag esn \\
            replay-oseq 0xfffffffe replay-seq 0xfffffffe
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x200 reqid 2 mode transport \\
            enc 'cbc(aes)' 0x\(k16) auth-trunc 'hmac(sha256)' 0x\(k32) 128 replay-window 32 \\
            encap espinudp 4500 4500 0.0.0.0
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x300 reqid 3 mode transport \\
            enc 'cbc(aes)' 0x\(k16) auth 'hmac(sha1)' 0x\(k20) replay-window 32
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 0x4000 reqid 3 mode transport comp deflate
        ip xfrm policy add src 10.0.0.1 dst 10.0.0.2 proto udp dport 53 dir out \\
            tmpl src 10.0.0.1 dst 10.0.0.2 proto esp reqid 1 mode tunnel
        ip xfrm policy add src 10.0.0.1 dst 10.0.0.2 proto udp dir out tmpl proto esp reqid 2 mode transport
        ip xfrm policy add src 10.0.0.1 dst 10.0.0.2 proto tcp dir out \\
            tmpl proto comp reqid 3 mode transport level use tmpl proto esp reqid 3 mode transport
        ip xfrm policy add src 10.0.0.1 dst 10.0.0.2 proto tcp dir in \\
            tmpl proto comp reqid 3 mode transport level use tmpl proto esp reqid 3 mode transport
        """

    static func ipv4(_ proto: UInt8, _ l4: [UInt8], id: UInt16) -> [UInt8] {
        var ip: [UInt8] = [0x45, 0, 0, 0, UInt8(id >> 8), UInt8(id & 0xff), 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        let total = 20 + l4.count
        ip[2] = UInt8(total >> 8); ip[3] = UInt8(total & 0xff)
        var sum: UInt32 = 0
        for k in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[k]) << 8 | UInt32(ip[k + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        ip[10] = UInt8(~sum >> 8 & 0xff); ip[11] = UInt8(~sum & 0xff)
        return ip + l4
    }

    static func udp(_ dport: UInt16, _ payload: [UInt8]) -> [UInt8] {
        [0x30, 0x39, UInt8(dport >> 8), UInt8(dport & 0xff), UInt8((8 + payload.count) >> 8), UInt8((8 + payload.count) & 0xff),
         0, 0] + payload
    }

    static func tcp(_ payload: [UInt8]) -> [UInt8] {
        [0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0] + payload
    }

    static func frame(_ ip: [UInt8]) -> [UInt8] { [UInt8](repeating: 2, count: 12) + [0x08, 0x00] + ip }

    @Test(arguments: ["ip-xfrm", "setkey"])
    func severalFlowsReplaysESNWrapNATTAndIPComp(config: String) throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let xfrmPath = dir.appendingPathComponent("sa.conf")
        try Self.xfrm.write(to: xfrmPath, atomically: true, encoding: .utf8)

        // The plaintext: four DNS packets (the tunnel's sequence numbers cross 2^32), three NAT-T datagrams, three
        // compressible TCP segments.
        var plain: [[UInt8]] = []
        for i in 0..<4 { plain.append(Self.ipv4(17, Self.udp(53, Array("query \(i)".utf8)), id: UInt16(i))) }
        for i in 0..<3 { plain.append(Self.ipv4(17, Self.udp(5000 + UInt16(i), [UInt8](repeating: UInt8(i), count: 40)), id: UInt16(10 + i))) }
        for i in 0..<3 {
            plain.append(Self.ipv4(6, Self.tcp(Array(String(repeating: "compress me \(i) ", count: 30).utf8)), id: UInt16(20 + i)))
        }
        let plainPath = dir.appendingPathComponent("plain.pcap").path
        let w = try CaptureWriter(path: plainPath, linkType: .ethernet)
        for (i, p) in plain.enumerated() {
            try w.write(CaptureRecord(timestampSeconds: Int64(i), timestampNanoseconds: 0, data: Self.frame(p)))
        }
        try w.close()

        let protectedPath = dir.appendingPathComponent("protected.pcap").path
        let e = try Tool.run(["encap", "--sa", xfrmPath.path, "--in", plainPath, "--out", protectedPath, "--seed", "3",
                              "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("\"protected\":10"), "\(e.stdout)")

        // What went on the wire, per flow: the tunnel SA, NAT-T in UDP 4500, IPComp inside ESP.
        let reader = try CaptureReader(path: protectedPath)
        var wire: [[UInt8]] = []
        while let r = try reader.next() { wire.append(r.data) }
        let inspect = try Tool.run(["inspect", protectedPath])
        let lines = inspect.stdout.split(separator: "\n")
        #expect(lines.count == 10)
        #expect(lines.prefix(4).allSatisfy { $0.contains("ESP(spi=0x00000100") })
        #expect(lines[0].contains("seq=4294967295") && lines[1].contains("seq=0") && lines[2].contains("seq=1"))
        #expect(lines[4..<7].allSatisfy { $0.contains("UDP 4500 > 4500") && $0.contains("spi=0x00000200") })
        #expect(lines[7..<10].allSatisfy { $0.contains("spi=0x00000300") })

        // The capture to open: a tampered copy of a TCP packet first (refused at the ICV, so it does not move the
        // window and the genuine packet is still accepted later), everything once, then a replay of a DNS packet
        // from before the wrap and one from after it, a replayed NAT-T packet, and a NAT-keepalive.
        var tampered = wire[8]
        tampered[tampered.count - 1] ^= 1
        var test = [tampered] + wire
        test.append(wire[0])
        test.append(wire[2])
        test.append(wire[5])
        test.append(Self.frame(Self.ipv4(17, [0x11, 0x94, 0x11, 0x94, 0, 9, 0, 0, 0xff], id: 99)))
        let testPath = dir.appendingPathComponent("test.pcap").path
        let tw = try CaptureWriter(path: testPath, linkType: .ethernet)
        for (i, f) in test.enumerated() {
            try tw.write(CaptureRecord(timestampSeconds: Int64(i), timestampNanoseconds: 0, data: f))
        }
        try tw.close()

        let configPath: String
        if config == "setkey" {
            // The same configuration as setkey.conf: ESN and initial sequence numbers cannot be said there, so the
            // tunnel SA comes from an ip xfrm listing beside it; NAT-T is esp-udp.
            let setkey = dir.appendingPathComponent("setkey.conf")
            try """
                flush;
                spdflush;
                add 10.0.0.1 10.0.0.2 esp-udp 0x200 -m transport -u 2 -r 32 -E aes-cbc 0x\(Self.k16) -A hmac-sha256 0x\(Self.k32);
                add 10.0.0.1 10.0.0.2 esp 0x300 -m transport -u 3 -r 32 -E aes-cbc 0x\(Self.k16) -A hmac-sha1 0x\(Self.k20);
                add 10.0.0.1 10.0.0.2 ipcomp 0x4000 -m transport -u 3 -C deflate;
                spdadd 10.0.0.1 10.0.0.2 tcp -P in ipsec ipcomp/transport//use esp/transport//require;
                """.write(to: setkey, atomically: true, encoding: .utf8)
            configPath = setkey.path
        } else {
            configPath = xfrmPath.path
        }
        var arguments = ["decap", "--sa", configPath, "--in", testPath, "--out", dir.appendingPathComponent("o.pcap").path,
                         "--json"]
        if config == "setkey" {
            // setkey's hmac-sha256 is Linux's 96-bit truncation; encap used RFC 4868's 128. Decap the NAT-T flow
            // from the ip xfrm file instead, and the tunnel SA from it too.
            let tunnel = dir.appendingPathComponent("tunnel.conf")
            try Self.xfrm.split(separator: "\n").prefix(6).joined(separator: "\n")
                .write(to: tunnel, atomically: true, encoding: .utf8)
            let setkeyNoNATT = try String(contentsOfFile: configPath, encoding: .utf8)
                .split(separator: "\n").filter { !$0.contains("esp-udp") }.joined(separator: "\n")
            try setkeyNoNATT.write(toFile: configPath, atomically: true, encoding: .utf8)
            arguments += ["--sa", tunnel.path]
        }
        let d = try Tool.run(arguments)
        #expect(d.status == 0, "\(d.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(d.stdout.utf8)) as? [String: Any])
        #expect(summary["packets_in"] as? Int == 15)
        #expect(summary["accepted"] as? Int == 10, "\(d.stdout)")
        #expect(summary["dropped"] as? [String: Int] == ["replay": 3, "integrity": 1], "\(d.stdout)")
        #expect(summary["not_ipsec"] as? Int == 1)
        let verdicts = try #require(summary["packets"] as? [[String: Any]])
        #expect(verdicts[0]["reason"] as? String == "integrity")
        #expect(verdicts[2]["sequence_number"] as? Int == 1 << 32)  // the ESN wrap, inferred
        #expect(verdicts[8]["mode"] as? String == "transport-esp")
        #expect(verdicts[11..<14].allSatisfy { $0["reason"] as? String == "replay" })
        // What was accepted is exactly the plaintext, in order.
        let out = try CaptureReader(path: dir.appendingPathComponent("o.pcap").path)
        var opened: [[UInt8]] = []
        while let r = try out.next() { opened.append(Array(r.data.dropFirst(14))) }
        #expect(opened == plain)
    }
}
