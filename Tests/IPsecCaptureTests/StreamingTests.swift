import Foundation
import Testing

@testable import IPsecCapture

/// A large capture is written and read one record at a time. The reader hands out records as they are read, so the
/// test checks each one on the spot and keeps none: correctness and completion, no timing.
@Suite struct StreamingTests {
    static let count = 200_000

    /// Record `i`, different in every field from its neighbours.
    static func record(_ i: Int) -> CaptureRecord {
        let n = UInt32(truncatingIfNeeded: i)
        var data: [UInt8] = [0x45, UInt8(i % 251)]
        for shift in stride(from: 24, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: n >> UInt32(shift))) }
        data += [UInt8](repeating: UInt8(i % 7), count: i % 13)
        return CaptureRecord(
            timestampSeconds: 1_600_000_000 + Int64(i / 1000), timestampNanoseconds: UInt32(i % 1000) * 1_000_003,
            originalLength: data.count + i % 3, data: data)
    }

    @Test func twoHundredThousandRecords() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("big.pcap")
        let writer = try CaptureWriter(path: path, linkType: .raw)
        for i in 0..<Self.count { try writer.write(Self.record(i)) }
        #expect(writer.recordsWritten == Self.count)
        try writer.close()

        let reader = try CaptureReader(path: path)
        var i = 0
        var mismatches = 0
        while let record = try reader.next() {
            if record != Self.record(i) {
                mismatches += 1
                if mismatches <= 3 { Issue.record("record \(i) differs: \(record)") }
            }
            i += 1
        }
        #expect(i == Self.count)
        #expect(mismatches == 0)
        #expect(reader.recordsRead == Self.count)
    }
}
