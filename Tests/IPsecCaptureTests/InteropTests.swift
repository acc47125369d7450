import Foundation
import IPsecWire
import Testing

@testable import IPsecCapture

/// Captures checked against an independent reader and writer: tshark 4.0 reads what we write and agrees on lengths,
/// timestamps and addresses; pcapng files from tshark and from hand-assembled bytes read as the same records.
@Suite struct InteropTests {
    /// The line tshark should print for `record`: frame.len, frame.cap_len, frame.time_epoch, ip.src, ipv6.src.
    private func expectedLine(_ record: CaptureRecord, version: IPVersion) -> String {
        let nanoseconds = String(record.timestampNanoseconds)
        let fraction = String(repeating: "0", count: 9 - nanoseconds.count) + nanoseconds
        return [
            "\(record.originalLength)", "\(record.data.count)", "\(record.timestampSeconds).\(fraction)",
            version == .v4 ? ipv4SourceText : "", version == .v6 ? ipv6SourceText : "",
        ].joined(separator: "\t")
    }

    @Test(arguments: LinkTypeCase.all)
    func tsharkReadsWhatWeWrite(_ testCase: LinkTypeCase) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("\(testCase.name).pcap")
        let records = testCase.records()
        try writeCapture(path, linkType: testCase.linkType, records: records)

        let lines = try Tshark.fields(path, ["frame.len", "frame.cap_len", "frame.time_epoch", "ip.src", "ipv6.src"])
        let versions = testCase.headers.map(\.0) + testCase.headers.map(\.0)
        #expect(lines.count == records.count)
        for (i, line) in lines.enumerated() where i < records.count {
            #expect(line == expectedLine(records[i], version: versions[i]), "record \(i)")
        }
    }

    /// tshark reads the seconds field as unsigned, as the pcap format defines it: times after 2038 come out right.
    @Test func tsharkAgreesOnLateTimestamps() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("late.pcap")
        let records = [
            CaptureRecord(timestampSeconds: Int64(Int32.max) + 1, timestampNanoseconds: 7, data: samplePacket(.v4)),
            CaptureRecord(
                timestampSeconds: Int64(UInt32.max), timestampNanoseconds: 999_999_999, data: samplePacket(.v6)),
        ]
        try writeCapture(path, linkType: .raw, records: records)
        let lines = try Tshark.fields(path, ["frame.len", "frame.cap_len", "frame.time_epoch", "ip.src", "ipv6.src"])
        #expect(lines == [expectedLine(records[0], version: .v4), expectedLine(records[1], version: .v6)])
        #expect(try readCapture(path).1 == records)
    }

    /// tshark rewrites our pcap as pcapng; reading that gives the same link type and records.
    @Test(arguments: LinkTypeCase.all)
    func pcapngFromTshark(_ testCase: LinkTypeCase) throws {
        let dir = try TemporaryDirectory()
        let pcap = dir.path("in.pcap")
        let pcapng = dir.path("out.pcapng")
        let records = testCase.records()
        try writeCapture(pcap, linkType: testCase.linkType, records: records)
        _ = try Tshark.run(["-F", "pcapng", "-r", pcap, "-w", pcapng])

        let reader = try CaptureReader(path: pcapng)
        #expect(reader.format == .pcapng)
        #expect(reader.linkType == testCase.linkType)
        var read: [CaptureRecord] = []
        while let record = try reader.next() { read.append(record) }
        #expect(read == records)
    }

    // MARK: pcapng assembled by hand (draft-ietf-opsawg-pcapng), little-endian

    private static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    private static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A block: type, total length, body padded to 32 bits, total length again.
    private static func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
        let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let total = UInt32(12 + padded.count)
        return le32(type) + le32(total) + padded + le32(total)
    }

    /// Section Header Block, one Interface Description Block with nanosecond resolution, and an Enhanced Packet Block
    /// per record.
    static func pcapng(linkType: LinkType, records: [CaptureRecord]) -> [UInt8] {
        let shb = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xff, count: 8))
        // if_tsresol (option 9) = 9: nanoseconds; then opt_endofopt.
        let tsresol = le16(9) + le16(1) + [9, 0, 0, 0] + le16(0) + le16(0)
        let idb = block(1, le16(UInt16(linkType.rawValue)) + le16(0) + le32(262_144) + tsresol)
        var out = shb + idb
        for record in records {
            let t = UInt64(record.timestampSeconds) * 1_000_000_000 + UInt64(record.timestampNanoseconds)
            let body =
                le32(0) + le32(UInt32(t >> 32)) + le32(UInt32(t & 0xFFFF_FFFF))
                + le32(UInt32(record.data.count)) + le32(UInt32(record.originalLength)) + record.data
            out += block(6, body)
        }
        return out
    }

    /// libpcap 1.x reads one link type per file: a pcapng whose second interface differs is refused when the
    /// reader reaches it, after the records before it.
    @Test func pcapngWithMixedLinkTypes() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("mixed.pcapng")
        let first = Self.pcapng(linkType: .raw, records: [CaptureRecord(timestampSeconds: 1, data: samplePacket(.v4))])
        let secondInterface = Self.block(1, Self.le16(1) + Self.le16(0) + Self.le32(262_144))  // Ethernet
        try Data(first + secondInterface).write(to: URL(fileURLWithPath: path))
        let reader = try CaptureReader(path: path)
        #expect(reader.linkType == .raw)
        #expect(try reader.next()?.data == samplePacket(.v4))
        let error = captureError { _ = try reader.next() }
        #expect(error?.code == .unsupported)
        #expect(error?.reason.contains("first interface") == true)
    }

    @Test func pcapngAssembledByHand() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("hand.pcapng")
        let testCase = LinkTypeCase.all.first { $0.linkType == .ethernet }!
        // pcapng timestamps are 64-bit: one record lies beyond the pcap format's 2106 limit.
        let records =
            testCase.records()
            + [CaptureRecord(timestampSeconds: 5_000_000_000, timestampNanoseconds: 42, data: [1, 2, 3])]
        let bytes = Self.pcapng(linkType: .ethernet, records: records)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try CaptureReader(path: path)
        #expect(reader.format == .pcapng)
        #expect(reader.linkType == .ethernet)
        #expect(reader.snapshotLength == 262_144)
        var read: [CaptureRecord] = []
        while let record = try reader.next() { read.append(record) }
        #expect(read == records)

        // tshark agrees that this is a valid pcapng with those frames.
        let lines = try Tshark.fields(path, ["frame.len", "frame.cap_len"])
        #expect(lines == records.map { "\($0.originalLength)\t\($0.data.count)" })

        // Cut inside the last block: the records before it, then `.truncated`.
        let cut = dir.path("cut.pcapng")
        try Data(bytes.dropLast(6)).write(to: URL(fileURLWithPath: cut))
        let cutReader = try CaptureReader(path: cut)
        var cutRead: [CaptureRecord] = []
        let error = captureError { while let record = try cutReader.next() { cutRead.append(record) } }
        #expect(error?.code == .truncated)
        #expect(cutRead == Array(records.dropLast()))
    }
}
