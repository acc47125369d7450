import Foundation
import IPsecWire
import Testing

@testable import IPsecCapture

/// Writing a capture and reading it back gives the same link type and the same records, byte for byte, with
/// nanosecond timestamps and original lengths longer than what was kept.
@Suite struct CaptureRoundTripTests {
    @Test(arguments: LinkTypeCase.all)
    func roundTrip(_ testCase: LinkTypeCase) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("\(testCase.name).pcap")
        let records = testCase.records()
        try writeCapture(path, linkType: testCase.linkType, records: records)

        let reader = try CaptureReader(path: path)
        #expect(reader.linkType == testCase.linkType)
        #expect(reader.format == .pcap)
        #expect(reader.snapshotLength == 262_144)
        var read: [CaptureRecord] = []
        while let record = try reader.next() { read.append(record) }
        #expect(read == records)
        #expect(reader.recordsRead == records.count)
        #expect(read.contains { $0.isTruncated })
        // The end is sticky.
        #expect(try reader.next() == nil)

        // And every frame splits back into the header it was written with.
        let headers = testCase.headers.map(\.1) + testCase.headers.map(\.1)
        let versions = testCase.headers.map(\.0) + testCase.headers.map(\.0)
        for (i, record) in read.enumerated() {
            let frame = try LinkLayer.decapsulate(record.data[...], linkType: reader.linkType)
            #expect(frame.header == headers[i])
            #expect(frame.ipVersion == versions[i])
        }
    }

    @Test func snapshotLengthIsKept() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("snap.pcap")
        let packet = samplePacket(.v4)
        try writeCapture(
            path, linkType: .raw, records: [CaptureRecord(originalLength: 1500, data: Array(packet[..<28]))],
            snapshotLength: 28)
        let reader = try CaptureReader(path: path)
        #expect(reader.snapshotLength == 28)
        #expect(try reader.next()?.data == Array(packet[..<28]))
    }

    /// The pcap record header stores seconds as an unsigned 32-bit value; times after January 2038 must survive
    /// libpcap's signed reading of it.
    @Test func timestampsAcrossTheWholeRange() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("time.pcap")
        let packet = samplePacket(.v6)
        let records = [
            CaptureRecord(timestampSeconds: 0, timestampNanoseconds: 0, data: packet),
            CaptureRecord(timestampSeconds: Int64(Int32.max), timestampNanoseconds: 1, data: packet),
            CaptureRecord(timestampSeconds: Int64(Int32.max) + 1, timestampNanoseconds: 999_999_999, data: packet),
            CaptureRecord(timestampSeconds: Int64(UInt32.max), timestampNanoseconds: 500_000_000, data: packet),
        ]
        try writeCapture(path, linkType: .raw, records: records)
        #expect(try readCapture(path).1 == records)
    }

    @Test func emptyRecordsAndEmptyCaptures() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("zero.pcap")
        let records = [CaptureRecord(timestampSeconds: 5, originalLength: 60, data: []), CaptureRecord(data: [])]
        try writeCapture(path, linkType: .ethernet, records: records)
        #expect(try readCapture(path).1 == records)

        let empty = dir.path("none.pcap")
        try writeCapture(empty, linkType: .linuxSLL2, records: [])
        let (linkType, read) = try readCapture(empty)
        #expect(linkType == .linuxSLL2)
        #expect(read.isEmpty)
    }

    /// Reading works for every link type, also the ones `LinkLayer` cannot take apart; only decapsulation refuses.
    @Test func unknownLinkTypesReadButDoNotDecapsulate() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("user0.pcap")
        let records = [CaptureRecord(timestampSeconds: 1, data: [1, 2, 3, 4])]
        try writeCapture(path, linkType: LinkType(147), records: records)
        let (linkType, read) = try readCapture(path)
        #expect(linkType == LinkType(147))
        #expect(linkType.name == "147")
        #expect(LinkType(105).name == "IEEE802_11")
        #expect(!linkType.isSupportedByLinkLayer)
        #expect(read == records)
        #expect(throws: WireError.badValue("Link layer", "")) {
            try LinkLayer.decapsulate(read[0].data[...], linkType: linkType)
        }
    }

    @Test func writerOverwritesOnlyOnClose() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("out.pcap")
        try writeCapture(path, linkType: .raw, records: [CaptureRecord(data: samplePacket(.v4))])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let writer = try CaptureWriter(path: path, linkType: .ipv6)
        try writer.write(CaptureRecord(data: samplePacket(.v6)))
        // Until close, the old capture is still the one at `path`.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        try writer.close()
        try writer.close()  // a second close does nothing
        let (linkType, records) = try readCapture(path)
        #expect(linkType == .ipv6)
        #expect(records == [CaptureRecord(data: samplePacket(.v6))])
        #expect(try dir.contents() == ["out.pcap"])
    }

    @Test func linkTypeValues() {
        #expect(LinkType.ethernet.rawValue == 1)
        #expect(LinkType.raw.rawValue == 101)
        #expect(LinkType.ipv4.rawValue == 228)
        #expect(LinkType.ipv6.rawValue == 229)
        #expect(LinkType.linuxSLL.rawValue == 113)
        #expect(LinkType.linuxSLL2.rawValue == 276)
        #expect(LinkType.null.rawValue == 0)
        #expect(LinkType.loop.rawValue == 108)
        #expect(LinkType.raw.name == "RAW")
        #expect(LinkType.linuxSLL2.description == "LINUX_SLL2")
        #expect(LinkType(rawValue: 0xFFFF_FFFF).name == "4294967295")
        // The DLT_ values some systems put into files for raw IP read as LINKTYPE_RAW.
        #expect(LinkType(dlt: 12) == .raw)
        #expect(LinkType(dlt: 14) == .raw)
        #expect(LinkType(dlt: 108) == .loop)
        #expect(LinkType(dlt: 1) == .ethernet)
        #expect(LinkType(dlt: 276) == .linuxSLL2)
        #expect(LinkType.raw.dlt == 12)
        #expect(LinkType.linuxSLL.dlt == 113)
    }

    @Test func libpcapVersion() {
        #expect(Capture.libpcapVersion.hasPrefix("libpcap version"))
        #expect(Capture.libraryVersion == Capture.libpcapVersion)
    }
}
