import Foundation
import IPsecCapture
import Testing

@Suite struct InspectTests {
    static let sample = Tool.root.appendingPathComponent("corpora/captures/sample.pcap").path

    @Test func versionNamesTheLinkedLibraries() throws {
        let r = try Tool.run(["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("OpenSSL 3."))
        #expect(r.stdout.contains("libpcap"))
        #expect(r.stdout.contains("zlib"))
    }

    @Test func helpListsInspect() throws {
        let r = try Tool.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("inspect"))
        let sub = try Tool.run(["inspect", "--help"])
        #expect(sub.status == 0)
        #expect(sub.stdout.contains("--json"))
    }

    /// Golden output for the bundled sample, in all three renderings. Regenerate with IPSECLAB_UPDATE_GOLDEN=1 after a
    /// deliberate change, and read the diff.
    @Test(arguments: [("summary", [String]()), ("verbose", ["--verbose"]), ("json", ["--json"])])
    func goldenOutput(name: String, flags: [String]) throws {
        let r = try Tool.run(["inspect", Self.sample] + flags)
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        let golden = Tool.root.appendingPathComponent("Tests/CLITests/Golden/sample.\(name).txt")
        if ProcessInfo.processInfo.environment["IPSECLAB_UPDATE_GOLDEN"] == "1" {
            try r.stdout.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(r.stdout == expected)
    }

    @Test func jsonCarriesSPIAndSequenceForESPAndAH() throws {
        let r = try Tool.run(["inspect", Self.sample, "--json"])
        let objects = try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.count == 16)
        let layers = objects.map { ($0["layers"] as? [[String: Any]]) ?? [] }
        let esp = layers[0].first { $0["layer"] as? String == "esp" }
        #expect(esp?["spi"] as? Int == 0x4321)
        #expect(esp?["sequence_number"] as? Int == 1)
        let ah = layers[5].first { $0["layer"] as? String == "ah" }
        #expect(ah?["spi"] as? Int == 0x1001)
        #expect(ah?["sequence_number"] as? Int == 1)
        #expect(objects.allSatisfy { $0["error"] is NSNull })
    }

    @Test func malformedPacketIsReportedAndTheRestProcessed() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mixed.pcap").path
        let good: [UInt8] = [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                             0x30, 0x39, 0, 53, 0, 8, 0, 0]
        var bad = good
        bad[0] = 0x44  // IHL 4: shorter than the fixed header
        let writer = try CaptureWriter(path: path, linkType: .raw)
        for (i, p) in [good, bad, good].enumerated() {
            try writer.write(CaptureRecord(timestampSeconds: Int64(i), timestampNanoseconds: 0, data: p))
        }
        try writer.close()
        let r = try Tool.run(["inspect", path])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.count == 3 && lines[1].contains("[malformed: IPv4"))
        #expect(lines.count == 3 && !lines[0].contains("malformed") && !lines[2].contains("malformed"))
        let json = try Tool.run(["inspect", path, "--json"])
        let errors = try json.stdout.split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["error"]
        }
        #expect(errors.count == 3)
        #expect(errors[0] is NSNull && errors[2] is NSNull)
        #expect((errors[1] as? String)?.hasPrefix("IPv4") == true)
    }

    @Test func missingFile() throws {
        expectOneLineError(try Tool.run(["inspect", "/nonexistent/capture.pcap"]), mentioning: "/nonexistent/capture.pcap")
    }

    @Test func notACapture() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.pcap")
        try "this is not a capture\n".write(to: text, atomically: true, encoding: .utf8)
        expectOneLineError(try Tool.run(["inspect", text.path]), mentioning: "not a pcap or pcapng")
        let empty = dir.appendingPathComponent("empty.pcap")
        try Data().write(to: empty)
        expectOneLineError(try Tool.run(["inspect", empty.path]), mentioning: "empty.pcap")
    }

    @Test func truncatedCapture() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.sample))
        // Cut inside the file header.
        let header = dir.appendingPathComponent("header.pcap")
        try whole.prefix(15).write(to: header)
        expectOneLineError(try Tool.run(["inspect", header.path]), mentioning: "header.pcap")
        // Cut inside the third record: the first two are printed, then one error line.
        let cut = dir.appendingPathComponent("cut.pcap")
        try whole.prefix(24 + (16 + 138) + (16 + 154) + 30).write(to: cut)
        let r = try Tool.run(["inspect", cut.path])
        expectOneLineError(r, mentioning: "truncated")
        #expect(r.stdout.split(separator: "\n").count == 2)
    }

    @Test func unknownLinkType() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A pcap global header for LINKTYPE_USER0 (147) and one 4-byte record, written by hand.
        var bytes: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 147, 0, 0, 0]
        bytes += [1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]
        let path = dir.appendingPathComponent("user0.pcap")
        try Data(bytes).write(to: path)
        let r = try Tool.run(["inspect", path.path])
        expectOneLineError(r, mentioning: "link type")
        #expect(r.stdout.isEmpty)
    }

    @Test func pcapngIsReadToo() throws {
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ng = dir.appendingPathComponent("sample.pcapng").path
        let convert = try Tool.run(["-F", "pcapng", "-r", Self.sample, "-w", ng], executable: URL(fileURLWithPath: "/usr/bin/tshark"))
        try #require(convert.status == 0, "tshark failed: \(convert.stderr)")
        let a = try Tool.run(["inspect", Self.sample])
        let b = try Tool.run(["inspect", ng])
        #expect(b.status == 0)
        #expect(a.stdout == b.stdout)
    }
}

/// Differential dissection against scapy (pinned 2.8.0): a capture of random packets, made fresh by scapy from a
/// seed, dissected by both; every field both report must agree. The oracle is required, never skipped.
@Suite struct ScapyDissectionTests {
    @Test(arguments: [11, 12])
    func agreesWithScapyOnEveryField(seed: Int) throws {
        try #require(FileManager.default.isExecutableFile(atPath: Tool.python.path),
                     "scapy's virtual environment is missing: run scripts/setup.sh (make test does)")
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = Tool.root.appendingPathComponent("Tests/oracles/scapy_dissect_diff.py").path
        let r = try Tool.run([script, "--ipsec-lab", Tool.binary.path, "--seed", "\(seed)", "--count", "400",
                              "--workdir", dir.path, "--min-fields", "5000"], executable: Tool.python)
        let report = r.stdout.split(separator: "\n").filter { !$0.hasPrefix("WARNING") }.joined(separator: "\n")
        #expect(r.status == 0, "\(report)\n\(r.stderr.suffix(2000))")
        #expect(report.contains("packets disagreeing 0"))
    }
}

/// Reproducer the fuzzer found: a record whose nanoseconds are not below one second.
@Suite struct TimestampTests {
    @Test func nanosecondsOverOneSecondAreCarried() {
        let p = InspectedPacket(index: 1, record: CaptureRecord(timestampSeconds: 5, timestampNanoseconds: 4_000_000_001,
                                                                data: [0x45]), linkType: .raw)
        #expect(p.timestamp == "9.000000001")
        let q = InspectedPacket(index: 1, record: CaptureRecord(timestampSeconds: 5, timestampNanoseconds: 7, data: []),
                                linkType: .raw)
        #expect(q.timestamp == "5.000000007")
    }
}
