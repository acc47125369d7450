import Foundation
import IPsecCapture
import Testing

/// `encap`/`decap --jobs N`: the crypto runs on N threads, and everything a user sees (the capture written, byte for
/// byte, the summary, the per-packet verdicts and drop reasons) is what one thread gives. The captures span many
/// chunks (64 packets each) and mix SAs that the threads seal and open with ones the sequential stage handles (AH, a
/// jumbo packet, policies), replays across chunks, tampered packets and an ESN wrap.
@Suite struct JobsTests {
    typealias S = StatefulDecapTests

    /// Without policies: each packet goes to the first SA whose selector matches. UDP 53 through an AES-GCM tunnel
    /// with ESN starting just before the 32-bit wrap, UDP 54 through transport AES-CBC/HMAC-SHA1, UDP 55 through a
    /// ChaCha20-Poly1305 tunnel, TCP through transport AH; ICMP matches nothing and is bypassed.
    static let selectors = """
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode tunnel \\
            aead 'rfc4106(gcm(aes))' 0x\(S.k20) 128 replay-window 32 flag esn \\
            replay-oseq 0xffffff80 replay-seq 0xffffff80 sel src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dport 53
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x300 reqid 3 mode transport \\
            enc 'cbc(aes)' 0x\(S.k16) auth 'hmac(sha1)' 0x\(S.k20) replay-window 32 \\
            sel src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dport 54
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x400 reqid 4 mode tunnel \\
            aead 'rfc7539esp(chacha20,poly1305)' 0x\(S.k32)00010203 128 replay-window 64 \\
            sel src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dport 55
        ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x500 reqid 5 mode transport \\
            auth 'hmac(sha1)' 0x\(S.k20) replay-window 32 sel src 10.0.0.1/32 dst 10.0.0.2/32 proto tcp
        """

    /// Every run is compared with the first: the reference path (`--per-packet`, one packet at a time through the
    /// node), then bursts on one thread, two and four.
    static let runs = [0, 1, 2, 4]
    static func jobs(_ jobs: Int) -> [String] { jobs == 0 ? ["--per-packet"] : ["--jobs", "\(jobs)"] }

    static func icmp(_ n: Int) -> [UInt8] { [8, 0, 0, 0, 0, 1, UInt8(n >> 8), UInt8(n & 0xff)] }

    /// 700 packets over four flows and the bypassed ICMP, a jumbo UDP 54 datagram (longer than a burst slot), and
    /// two ARP frames.
    static func plainCapture(at path: String) throws {
        let w = try CaptureWriter(path: path, linkType: .ethernet)
        var t: Int64 = 0
        func put(_ frame: [UInt8]) throws {
            try w.write(CaptureRecord(timestampSeconds: t, timestampNanoseconds: 0, data: frame))
            t += 1
        }
        let arp = [UInt8](repeating: 0xff, count: 12) + [0x08, 0x06] + [UInt8](repeating: 1, count: 28)
        try put(arp)
        for i in 0..<700 {
            let id = UInt16(i)
            let body = [UInt8](repeating: UInt8(i & 0xff), count: 20 + (i * 37) % 1300)
            switch i % 5 {
            case 0: try put(S.frame(S.ipv4(17, S.udp(53, body), id: id)))
            case 1: try put(S.frame(S.ipv4(17, S.udp(54, body), id: id)))
            case 2: try put(S.frame(S.ipv4(17, S.udp(55, body), id: id)))
            case 3: try put(S.frame(S.ipv4(6, S.tcp(body), id: id)))
            default: try put(S.frame(S.ipv4(1, Self.icmp(i) + body, id: id)))
            }
            if i == 333 {
                try put(S.frame(S.ipv4(17, S.udp(54, [UInt8](repeating: 7, count: 12_000)), id: 60_000)))
                try put(arp)
            }
        }
        try w.close()
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// The capture decap is given: everything encap wrote, in order, with some of it reordered within the window,
    /// tampered copies (refused at the ICV, so the genuine packet is still accepted), replays of packets from
    /// several chunks back, a packet from far outside the window, and the plain ARP frames.
    static func attackCapture(from protected: String, at path: String) throws -> (count: Int, tampered: Int) {
        let reader = try CaptureReader(path: protected)
        var wire: [[UInt8]] = []
        while let r = try reader.next() { wire.append(r.data) }
        var test: [[UInt8]] = []
        var tampered = 0
        for (i, frame) in wire.enumerated() {
            if i % 41 == 7, Self.carriesIPsec(frame) {
                var bad = frame
                bad[bad.count - 1] ^= 0x80
                test.append(bad)
                tampered += 1
            }
            test.append(frame)
            if i % 97 == 50 { test.append(wire[i - 40]) }  // a replay from a chunk or so back
            if i % 130 == 129 { test.append(wire[i - 120]) }  // and from far back
        }
        // Neighbours swapped: still inside the window, both accepted.
        for i in stride(from: 20, to: test.count - 1, by: 111) { test.swapAt(i, i + 1) }
        let w = try CaptureWriter(path: path, linkType: .ethernet)
        for (i, f) in test.enumerated() {
            try w.write(CaptureRecord(timestampSeconds: Int64(i), timestampNanoseconds: UInt32(i % 1000), data: f))
        }
        try w.close()
        return (test.count, tampered)
    }

    /// ESP, AH or ESP in UDP 4500 over IPv4 in Ethernet: flipping its last byte breaks the ICV.
    static func carriesIPsec(_ frame: [UInt8]) -> Bool {
        guard frame.count > 40, frame[12] == 0x08, frame[13] == 0 else { return false }
        let proto = frame[23]
        return proto == 50 || proto == 51 || (proto == 17 && frame[36] == 0x11 && frame[37] == 0x94)
    }

    @Test(arguments: ["selectors", "policies"])
    func outputIsTheSameForAnyNumberOfJobs(config: String) throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sa = dir.appendingPathComponent("sa.conf")
        try (config == "selectors" ? Self.selectors : S.xfrm).write(to: sa, atomically: true, encoding: .utf8)
        let plain = dir.appendingPathComponent("plain.pcap").path
        try Self.plainCapture(at: plain)

        var encapOutputs: [Data] = [], encapStdout: [String] = []
        for jobs in Self.runs {
            let out = dir.appendingPathComponent("protected-\(jobs).pcap").path
            let r = try Tool.run(["encap", "--sa", sa.path, "--in", plain, "--out", out, "--seed", "11",
                                  "--dummy-every", "9", "--json"] + Self.jobs(jobs))
            #expect(r.status == 0, "\(r.stderr)")
            encapOutputs.append(try Self.bytes(out))
            encapStdout.append(r.stdout)
        }
        #expect(encapOutputs.allSatisfy { $0 == encapOutputs[0] })
        #expect(encapStdout.allSatisfy { $0 == encapStdout[0] }, "\(encapStdout)")
        let encapSummary = try #require(try JSONSerialization.jsonObject(with: Data(encapStdout[0].utf8)) as? [String: Any])
        #expect((encapSummary["protected"] as? Int ?? 0) >= 500, "\(encapStdout[0])")
        #expect((encapSummary["dummies"] as? Int ?? 0) > 50)

        let test = dir.appendingPathComponent("test.pcap").path
        let (count, tampered) = try Self.attackCapture(from: dir.appendingPathComponent("protected-1.pcap").path, at: test)
        var decapOutputs: [Data] = [], decapStdout: [String] = []
        for jobs in Self.runs {
            let out = dir.appendingPathComponent("opened-\(jobs).pcap").path
            let r = try Tool.run(["decap", "--sa", sa.path, "--in", test, "--out", out, "--json", "--keep-other"]
                                 + Self.jobs(jobs))
            #expect(r.status == 0, "\(r.stderr)")
            decapOutputs.append(try Self.bytes(out))
            decapStdout.append(r.stdout)
            // The plain text form too.
            let text = try Tool.run(["decap", "--sa", sa.path, "--in", test, "--out", out + ".t"] + Self.jobs(jobs))
            #expect(text.status == 0)
            decapStdout.append(text.stdout)
        }
        #expect(decapOutputs.allSatisfy { $0 == decapOutputs[0] })
        #expect(stride(from: 0, to: decapStdout.count, by: 2).allSatisfy { decapStdout[$0] == decapStdout[0] })
        #expect(stride(from: 1, to: decapStdout.count, by: 2).allSatisfy { decapStdout[$0] == decapStdout[1] }, "\(decapStdout)")

        // The run exercised what it claims: replays and tampering were refused, the rest accepted.
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(decapStdout[0].utf8)) as? [String: Any])
        #expect(summary["packets_in"] as? Int == count)
        let dropped = try #require(summary["dropped"] as? [String: Int])
        #expect(dropped["integrity"] == tampered, "\(dropped)")
        #expect((dropped["replay"] ?? 0) >= 8, "\(dropped)")
        #expect(dropped["dummy"] == encapSummary["dummies"] as? Int)
        #expect(summary["accepted"] as? Int == encapSummary["protected"] as? Int, "\(dropped)")
    }

    /// Out-of-range or non-numeric `--jobs`, and `--per-packet` with more than one job.
    @Test(arguments: [["--jobs=0"], ["--jobs=-1"], ["--jobs=65"], ["--jobs=99999999999999999999999"],
                      ["--per-packet", "--jobs", "2"]])
    func badJobsGiveOneErrorLine(arguments: [String]) throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sa = dir.appendingPathComponent("sa.conf")
        try Self.selectors.write(to: sa, atomically: true, encoding: .utf8)
        let plain = dir.appendingPathComponent("plain.pcap").path
        try Self.plainCapture(at: plain)
        for command in ["encap", "decap"] {
            let out = dir.appendingPathComponent("out.pcap").path
            let r = try Tool.run([command, "--sa", sa.path, "--in", plain, "--out", out] + arguments)
            if arguments.contains("--per-packet") {
                expectOneLineError(r, mentioning: "--per-packet runs on one thread")
            } else if arguments[0].count > 25 {
                // Not an integer at all: the argument parser's usage error, one line too (exit status 64).
                #expect(r.status == 64, "\(r.stderr)")
                #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("ipsec-lab: error: "),
                        "\(r.stderr)")
                #expect(r.stderr.contains("jobs"))
            } else {
                expectOneLineError(r, mentioning: "--jobs must be between 1 and 64")
            }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}

extension JobsTests {
    /// ESN infers a packet's high sequence bits from the window. A jump of 2^31 in the middle of a capture makes the
    /// packets after it, sealed before the jump, infer into the next epoch and fail their ICV with one thread; with
    /// several, they are staged while the jump is still in flight, and must come out the same (re-opened in order).
    @Test func esnInferenceAcrossAJumpInFlight() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func sa(_ start: String) -> String {
            """
            ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 reqid 1 mode tunnel \\
                aead 'rfc4106(gcm(aes))' 0x\(S.k20) 128 replay-window 64 flag esn replay-oseq \(start) replay-seq 0x10
            """
        }
        let early = dir.appendingPathComponent("early.conf"), late = dir.appendingPathComponent("late.conf")
        try sa("0x10").write(to: early, atomically: true, encoding: .utf8)
        try sa("0x90000000").write(to: late, atomically: true, encoding: .utf8)
        let plain = dir.appendingPathComponent("plain.pcap").path
        let w = try CaptureWriter(path: plain, linkType: .ethernet)
        for i in 0..<200 {
            let body = [UInt8](repeating: UInt8(i & 0xff), count: 200 + i)
            try w.write(CaptureRecord(timestampSeconds: Int64(i), timestampNanoseconds: 0,
                                      data: S.frame(S.ipv4(17, S.udp(53, body), id: UInt16(i)))))
        }
        try w.close()
        var wire: [String: [[UInt8]]] = [:]
        for (name, conf) in [("early", early), ("late", late)] {
            let out = dir.appendingPathComponent("\(name).pcap").path
            let r = try Tool.run(["encap", "--sa", conf.path, "--in", plain, "--out", out, "--seed", "5"])
            #expect(r.status == 0, "\(r.stderr)")
            let reader = try CaptureReader(path: out)
            var frames: [[UInt8]] = []
            while let record = try reader.next() { frames.append(record.data) }
            wire[name] = frames
        }
        // 70 early packets, 130 late ones (the jump), then the rest of the early ones.
        let test = Array(wire["early"]![0..<70]) + Array(wire["late"]![0..<130]) + Array(wire["early"]![70..<200])
        let testPath = dir.appendingPathComponent("test.pcap").path
        let tw = try CaptureWriter(path: testPath, linkType: .ethernet)
        for (i, f) in test.enumerated() {
            try tw.write(CaptureRecord(timestampSeconds: Int64(i), timestampNanoseconds: 0, data: f))
        }
        try tw.close()
        var outputs: [String] = []
        for jobs in Self.runs {
            let r = try Tool.run(["decap", "--sa", early.path, "--in", testPath, "--out",
                                  dir.appendingPathComponent("o\(jobs).pcap").path, "--json"] + Self.jobs(jobs))
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append(r.stdout)
        }
        #expect(outputs.allSatisfy { $0 == outputs[0] })
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(outputs[0].utf8)) as? [String: Any])
        #expect(summary["accepted"] as? Int == 200, "\(outputs[0].prefix(300))")
        #expect((summary["dropped"] as? [String: Int])?["integrity"] == 130, "\(outputs[0].prefix(300))")
    }
}

extension JobsTests {
    /// A capture cut off in the middle of a record, many chunks in: the same one error line as with one thread, and
    /// no half-written output, whatever the number of threads.
    @Test func truncatedCaptureFailsCleanly() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sa = dir.appendingPathComponent("sa.conf")
        try Self.selectors.write(to: sa, atomically: true, encoding: .utf8)
        let plain = dir.appendingPathComponent("plain.pcap").path
        try Self.plainCapture(at: plain)
        let bytes = try Self.bytes(plain)
        let cut = dir.appendingPathComponent("cut.pcap").path
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        var errors: [String] = []
        for jobs in Self.runs {
            let out = dir.appendingPathComponent("out.pcap").path
            let r = try Tool.run(["encap", "--sa", sa.path, "--in", cut, "--out", out, "--seed", "1"] + Self.jobs(jobs))
            expectOneLineError(r, mentioning: "cut.pcap")
            #expect(!FileManager.default.fileExists(atPath: out))
            errors.append(r.stderr)
        }
        #expect(errors.allSatisfy { $0 == errors[0] })
    }
}

extension JobsTests {
    /// A tunnel inside a tunnel, without policies: the workers open the outer layer, the node the inner one, in
    /// order; replays of the whole packet are refused at the outer layer either way.
    @Test func nestedTunnels() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inner = """
            ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x600 reqid 6 mode tunnel \\
                aead 'rfc4106(gcm(aes))' 0x\(S.k20) 128 replay-window 32
            """
        let outer = """
            ip xfrm state add src 192.0.2.1 dst 198.51.100.2 proto esp spi 0x700 reqid 7 mode tunnel \\
                enc 'cbc(aes)' 0x\(S.k16) auth-trunc 'hmac(sha256)' 0x\(S.k32) 128 replay-window 32
            """
        let innerPath = dir.appendingPathComponent("inner.conf"), outerPath = dir.appendingPathComponent("outer.conf")
        let both = dir.appendingPathComponent("both.conf")
        try inner.write(to: innerPath, atomically: true, encoding: .utf8)
        try outer.write(to: outerPath, atomically: true, encoding: .utf8)
        try (outer + "\n" + inner).write(to: both, atomically: true, encoding: .utf8)
        let plain = dir.appendingPathComponent("plain.pcap").path
        try Self.plainCapture(at: plain)
        let mid = dir.appendingPathComponent("mid.pcap").path, wire = dir.appendingPathComponent("wire.pcap").path
        for (sa, input, output) in [(innerPath, plain, mid), (outerPath, mid, wire)] {
            let r = try Tool.run(["encap", "--sa", sa.path, "--in", input, "--out", output, "--seed", "2", "--jobs", "2"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let test = dir.appendingPathComponent("test.pcap").path
        let (count, _) = try Self.attackCapture(from: wire, at: test)
        var outputs: [String] = [], captures: [Data] = []
        for jobs in Self.runs {
            let out = dir.appendingPathComponent("o\(jobs).pcap").path
            let r = try Tool.run(["decap", "--sa", both.path, "--in", test, "--out", out, "--json"] + Self.jobs(jobs))
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append(r.stdout)
            captures.append(try Self.bytes(out))
        }
        #expect(outputs.allSatisfy { $0 == outputs[0] })
        #expect(captures.allSatisfy { $0 == captures[0] })
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(outputs[0].utf8)) as? [String: Any])
        #expect(summary["packets_in"] as? Int == count)
        #expect(summary["accepted"] as? Int == 701, "\(outputs[0].prefix(400))")
        let packets = try #require(summary["packets"] as? [[String: Any]])
        #expect(packets.contains { $0["mode"] as? String == "tunnel-esp+esp" }, "\(packets.prefix(3))")
    }
}
