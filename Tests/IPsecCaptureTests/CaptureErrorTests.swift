import Foundation
import Testing

@testable import IPsecCapture

/// Unusable input gives one clear error with the right code, and a failing or abandoned writer leaves nothing behind.
@Suite struct CaptureErrorTests {
    /// A capture of three raw-IP records: its bytes, and the records.
    private func threeRecordCapture(_ dir: TemporaryDirectory) throws -> (bytes: Data, records: [CaptureRecord]) {
        let path = dir.path("three.pcap")
        let records = (0..<3).map { i in
            CaptureRecord(
                timestampSeconds: 1_700_000_000 + Int64(i), timestampNanoseconds: UInt32(i),
                data: samplePacket(i == 1 ? .v6 : .v4, payloadLength: 10 + i))
        }
        try writeCapture(path, linkType: .raw, records: records)
        return (try Data(contentsOf: URL(fileURLWithPath: path)), records)
    }

    @Test func nonexistentPath() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("missing.pcap")
        let error = captureError { _ = try CaptureReader(path: path) }
        #expect(error?.code == .notFound)
        #expect(error?.path == path)
        #expect(error?.description.hasPrefix(path + ": ") == true)
    }

    @Test func textFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("notes.txt")
        try "these are not packets\n".write(toFile: path, atomically: false, encoding: .utf8)
        let error = captureError { _ = try CaptureReader(path: path) }
        #expect(error?.code == .notACapture)
        #expect(error?.description == "\(path): not a pcap or pcapng file (unknown file format)")
    }

    @Test func emptyFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("empty.pcap")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let error = captureError { _ = try CaptureReader(path: path) }
        #expect(error?.code == .notACapture)
        #expect(error?.reason.contains("empty") == true)
    }

    @Test func directory() throws {
        let dir = try TemporaryDirectory()
        let error = captureError { _ = try CaptureReader(path: dir.url.path) }
        #expect(error?.code == .io)
    }

    /// Every cut inside the 24-byte pcap file header (after the magic number) is a truncated capture; a cut inside
    /// the magic number leaves nothing recognisable.
    @Test func truncatedFileHeader() throws {
        let dir = try TemporaryDirectory()
        let (bytes, _) = try threeRecordCapture(dir)
        for cut in 1..<24 {
            let path = dir.path("header-\(cut).pcap")
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            let error = captureError { _ = try CaptureReader(path: path) }
            #expect(error?.code == (cut < 4 ? .notACapture : .truncated), "cut at \(cut): \(String(describing: error))")
        }
    }

    /// Cut anywhere inside a record (its header or its data), the records before the cut come back, then
    /// `.truncated`, again on every later call.
    @Test func truncatedRecord() throws {
        let dir = try TemporaryDirectory()
        let (bytes, records) = try threeRecordCapture(dir)
        let starts = [24, 24 + 16 + records[0].data.count, 24 + 32 + records[0].data.count + records[1].data.count]
        #expect(starts[2] + 16 + records[2].data.count == bytes.count)
        for cut in [starts[1] + 1, starts[1] + 15, starts[1] + 16, starts[2] + 20, bytes.count - 1] {
            let path = dir.path("cut-\(cut).pcap")
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            let reader = try CaptureReader(path: path)
            var read: [CaptureRecord] = []
            let error = captureError { while let record = try reader.next() { read.append(record) } }
            #expect(error?.code == .truncated, "cut at \(cut)")
            let ends = [starts[1], starts[2], bytes.count]
            let whole = ends.filter { $0 <= cut }.count
            #expect(read == Array(records.prefix(whole)), "cut at \(cut)")
            // "PATH: record 2: truncated capture (truncated dump file; tried to read 16 header bytes, only got 1)"
            #expect(error?.description.hasPrefix("\(path): record \(whole + 1): truncated capture (") == true)
            #expect(captureError { _ = try reader.next() }?.code == .truncated)
        }
    }

    /// A cut exactly between records is not an error: the file simply holds fewer records.
    @Test func cutBetweenRecords() throws {
        let dir = try TemporaryDirectory()
        let (bytes, records) = try threeRecordCapture(dir)
        let path = dir.path("two.pcap")
        try bytes.prefix(24 + 32 + records[0].data.count + records[1].data.count).write(to: URL(fileURLWithPath: path))
        #expect(try readCapture(path).1 == Array(records.prefix(2)))
    }

    @Test func writerDiscardLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("out.pcap")
        let writer = try CaptureWriter(path: path, linkType: .ethernet)
        let header = LinkLayer.header(for: .ethernet, ipVersion: .v4)!
        try writer.write(CaptureRecord(data: LinkLayer.frame(header, payload: samplePacket(.v4))))
        // While writing, nothing is at `path`; only the temporary file exists.
        #expect(!FileManager.default.fileExists(atPath: path))
        let during = try dir.contents()
        #expect(during.count == 1)
        #expect(during.first?.hasPrefix("out.pcap.partial-\(ProcessInfo.processInfo.processIdentifier)-") == true)
        writer.discard()
        writer.discard()
        #expect(try dir.contents() == [])
        #expect(captureError { try writer.write(CaptureRecord(data: [0x45])) }?.code == .io)
        #expect(captureError { try writer.close() }?.code == .io)
        #expect(try dir.contents() == [])
    }

    @Test func writerDroppedWithoutCloseLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("out.pcap")
        // The previous capture at `path` must survive an abandoned rewrite.
        try writeCapture(path, linkType: .raw, records: [CaptureRecord(data: samplePacket(.v4))])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            let writer = try CaptureWriter(path: path, linkType: .raw)
            for _ in 0..<1000 { try writer.write(CaptureRecord(data: samplePacket(.v6))) }
            #expect(try dir.contents().count == 2)
        }
        #expect(try dir.contents() == ["out.pcap"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func invalidRecordsAreRefusedWithoutHarm() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("out.pcap")
        let writer = try CaptureWriter(path: path, linkType: .raw, snapshotLength: 100)
        let good = CaptureRecord(timestampSeconds: 10, timestampNanoseconds: 20, data: samplePacket(.v4))
        let bad = [
            CaptureRecord(timestampSeconds: -1, data: [0x45]),
            CaptureRecord(timestampSeconds: Int64(UInt32.max) + 1, data: [0x45]),
            CaptureRecord(timestampNanoseconds: 1_000_000_000, data: [0x45]),
            CaptureRecord(data: [UInt8](repeating: 0x45, count: 101)),
            CaptureRecord(originalLength: 0, data: [0x45]),
            CaptureRecord(originalLength: Int(UInt32.max) + 1, data: [0x45]),
        ]
        try writer.write(good)
        for record in bad {
            #expect(captureError { try writer.write(record) }?.code == .invalidRecord, "\(record)")
        }
        try writer.write(good)
        try writer.close()
        #expect(try readCapture(path).1 == [good, good])
        #expect(captureError { try writer.write(good) }?.code == .io)
    }

    @Test func writerRefusesWhatItCannotWrite() throws {
        let dir = try TemporaryDirectory()
        func code(_ name: String, _ linkType: LinkType, snapshotLength: Int = 262_144) -> CaptureError.Code? {
            captureError {
                _ = try CaptureWriter(path: dir.path(name), linkType: linkType, snapshotLength: snapshotLength)
            }?.code
        }
        #expect(code("a.pcap", .raw, snapshotLength: 0) == .unsupported)
        #expect(code("b.pcap", .raw, snapshotLength: 262_145) == .unsupported)
        #expect(code("c.pcap", LinkType(0xFFFF_FFFF)) == .unsupported)
        #expect(code("d.pcap", LinkType(70_000)) == .unsupported)
        #expect(code("no/such/dir.pcap", .raw) == .notFound)
        #expect(try dir.contents() == [])
    }

    /// A failed rename (the destination is a directory) removes the temporary file and reports `.io`.
    @Test func failedRenameLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("taken")
        try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
        let writer = try CaptureWriter(path: path, linkType: .raw)
        try writer.write(CaptureRecord(data: samplePacket(.v4)))
        #expect(captureError { try writer.close() }?.code == .io)
        #expect(try dir.contents() == ["taken"])
    }

    @Test func errorEqualityComparesCodeAndPath() {
        let a = CaptureError(.truncated, path: "x.pcap", reason: "one")
        #expect(a == CaptureError(.truncated, path: "x.pcap", reason: "two"))
        #expect(a != CaptureError(.io, path: "x.pcap", reason: "one"))
        #expect(a != CaptureError(.truncated, path: "y.pcap", reason: "one"))
        #expect(a.description == "x.pcap: one")
    }
}
