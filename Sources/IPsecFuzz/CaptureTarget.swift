import IPsecCapture
import IPsecWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The capture reader: bytes → a pcap or pcapng file → libpcap → link layer → dissector → printers.
///
/// libpcap reads from a `FILE`, and `CaptureReader` opens a path, so each input is written to an anonymous file: a
/// temporary file unlinked as soon as it is made, reached again through `/proc/self/fd/N`. Nothing is left on disk
/// even when the process dies, and no API had to be added to IPsecCapture.
enum CaptureTarget {
    static let target = FuzzTarget(
        name: "capture", summary: "pcap and pcapng through libpcap, link layers, dissection, printers (CaptureInspector)",
        maximumInputLength: 16384, dictionary: dictionary, harness: { CaptureHarness() },
        mutator: { CaptureMutator() }, seeds: { seeds() })

    static let dictionary: [[UInt8]] = [
        [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a], [0x1a, 0x2b, 0x3c, 0x4d], [0x4d, 0x3c, 0x2b, 0x1a], [0x02, 0x00, 0x04, 0x00],
        [0x01, 0x00, 0x00, 0x00], [0x06, 0x00, 0x00, 0x00], [0x03, 0x00, 0x00, 0x00], [0x65, 0x00, 0x00, 0x00],
        [0x71, 0x00, 0x00, 0x00], [0x14, 0x01, 0x00, 0x00], [0x08, 0x00], [0x86, 0xdd], [0x81, 0x00], [0x88, 0xa8],
        [0x00, 0x00, 0x04, 0x00], [0xff, 0xff, 0xff, 0xff], [0x02, 0x00, 0x00, 0x00], [0x18, 0x00, 0x00, 0x00],
    ] + ParserTargets.packetDictionary

    /// Link types and the header each puts in front of an IP packet.
    static func linkHeader(_ linkType: UInt32, version: IPVersion) -> [UInt8] {
        let ethertype: [UInt8] = version == .v4 ? [0x08, 0x00] : [0x86, 0xdd]
        switch linkType {
        case 1: return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + ethertype
        case 0: return version == .v4 ? [2, 0, 0, 0] : [24, 0, 0, 0]
        case 108: return version == .v4 ? [0, 0, 0, 2] : [0, 0, 0, 24]
        case 113: return [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + ethertype
        case 276: return ethertype + [0, 0, 0, 0, 0, 1, 0, 1, 0, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]
        default: return []
        }
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }

    /// A classic pcap file (microsecond or nanosecond magic, little-endian) of `frames`.
    static func pcap(_ frames: [[UInt8]], linkType: UInt32, nanoseconds: Bool = false, snapLength: UInt32 = 65535)
        -> [UInt8] {
        var out = le32(nanoseconds ? 0xa1b2_3c4d : 0xa1b2_c3d4) + le16(2) + le16(4) + le32(0) + le32(0)
        out += le32(snapLength) + le32(linkType)
        for (i, f) in frames.enumerated() {
            out += le32(1_700_000_000 + UInt32(i)) + le32(UInt32(i) * 1000) + le32(UInt32(f.count)) + le32(UInt32(f.count))
            out += f
        }
        return out
    }

    /// A pcapng file: a section header, one interface, enhanced packet blocks.
    static func pcapng(_ frames: [[UInt8]], linkType: UInt16) -> [UInt8] {
        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            let length = UInt32(12 + padded.count)
            return le32(type) + le32(length) + padded + le32(length)
        }
        var out = block(0x0a0d_0d0a, le32(0x1a2b_3c4d) + le16(1) + le16(0) + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        out += block(1, le16(linkType) + le16(0) + le32(65535))
        for (i, f) in frames.enumerated() {
            out += block(6, le32(0) + le32(0) + le32(UInt32(i)) + le32(UInt32(f.count)) + le32(UInt32(f.count)) + f)
        }
        return out
    }

    static func seeds() -> [[UInt8]] {
        let packets = PacketFactory.sampler(count: 12, seed: 0xcab)
        var out: [[UInt8]] = []
        for (i, linkType) in ([1, 101, 0, 108, 113, 276, 228, 229] as [UInt32]).enumerated() {
            let frames = packets.enumerated().filter { (j, p) in
                (j + i) % 3 == 0 && (linkType != 228 || p[0] >> 4 == 4) && (linkType != 229 || p[0] >> 4 == 6)
            }.map { (_, p) in linkHeader(linkType, version: p[0] >> 4 == 4 ? .v4 : .v6) + p }
            out.append(pcap(frames, linkType: linkType, nanoseconds: i % 2 == 1))
        }
        out.append(pcapng(packets.prefix(4).map { linkHeader(1, version: $0[0] >> 4 == 4 ? .v4 : .v6) + $0 }, linkType: 1))
        out.append(pcapng(packets.suffix(3), linkType: 101))
        // A frame with an 802.1Q tag, one with two, and a truncated record.
        let p = packets[0]
        let v = p[0] >> 4 == 4 ? [UInt8](arrayLiteral: 0x08, 0x00) : [0x86, 0xdd]
        let tagged = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x05] + v + p
        let double = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xa8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x05] + v + p
        out.append(pcap([tagged, double], linkType: 1))
        out.append(Array(pcap([tagged], linkType: 1).dropLast(5)))
        return out
    }
}

final class CaptureHarness: FuzzHarness {
    /// The anonymous file the input is written to, or -1 if none could be made (then every input is skipped).
    private let fd: Int32
    private let path: String

    init() {
        var template = Array((FuzzIO.isDirectory("/dev/shm") ? "/dev/shm" : "/tmp").utf8CString.dropLast())
            + Array("/ipsec-lab-fuzz-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 {
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        self.fd = fd
        self.path = "/proc/self/fd/\(fd)"
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    func execute(_ input: ArraySlice<UInt8>, feedback: inout FuzzFeedback) {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        let written = input.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == input.count else { return }
        let inspector: CaptureInspector
        do {
            inspector = try CaptureInspector(path: path)
        } catch {
            feedback.add("capture open " + error.code.rawValue)
            return
        }
        feedback.add("capture link", Int(inspector.linkType.rawValue))
        var records = 0
        // A capture of N bytes holds at most N/16 records; the bound only guards against a reader gone wrong.
        while records <= input.count / 16 + 1 {
            let packet: InspectedPacket?
            do {
                packet = try inspector.next()
            } catch {
                feedback.add("capture record " + error.code.rawValue, min(records, 4))
                return
            }
            guard let packet else { break }
            records += 1
            FuzzOracle.check(packet.record.data.count <= CaptureWriter.maximumSnapshotLength, "capture",
                             "a record longer than libpcap's maximum snapshot length")
            _ = packet.summary
            _ = packet.treeLines
            _ = packet.json.text
            if let error = packet.error { feedback.add(error: error, in: "capture packet") }
            if let link = packet.link {
                feedback.add("capture frame " + link.header.key)
                checkLinkRoundTrip(link, linkType: inspector.linkType)
                for l in packet.dissection?.layers.prefix(6) ?? [] { feedback.add("capture layer " + l.layer.key) }
            }
        }
        FuzzOracle.check(records <= input.count / 16 + 1, "capture", "more records than the bytes can hold")
        feedback.add("capture records", min(records, 8))
    }

    /// Re-framing a decoded frame and decoding it again gives the same header and payload (the first decoding may
    /// normalise fields that carry no information; after that the pair is a fixed point).
    private func checkLinkRoundTrip(_ link: LinkFrame, linkType: LinkType) {
        let frame = LinkLayer.frame(link.header, payload: link.payload)
        guard let again = try? LinkLayer.decapsulate(frame[...], linkType: linkType) else {
            FuzzOracle.fail("capture", "a re-framed link header does not decode", details: "\(link.header)")
        }
        FuzzOracle.check(again.header == link.header && again.payload.elementsEqual(link.payload), "capture",
                         "a re-framed link header decodes to another frame",
                         details: "\(link.header) vs \(again.header)")
    }
}

/// Capture files: the file header's magic, version, snapshot length and link type; each record's lengths (pcap) or
/// each block's type and lengths (pcapng); and the packet inside a record, mutated as a packet.
final class CaptureMutator: StructureMutator {
    func mutate(_ b: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        guard b.count >= 24 else { return false }
        var fields: [PacketMap.Field] = []
        var records: [(start: Int, linkHeader: Int)] = []
        let magic = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        func le(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
        func field(_ offset: Int, _ width: Int, _ kind: PacketMap.FieldKind) {
            if offset + width <= b.count { fields.append(.init(offset: offset, width: width, kind: kind, littleEndian: true)) }
        }
        if magic == 0x0a0d_0d0a {
            var p = 0
            var link = 0
            while p + 12 <= b.count, fields.count < 64 {
                let type = le(p), length = le(p + 4)
                field(p, 4, .other)
                field(p + 4, 4, .length(covering: length))
                if type == 1, p + 10 <= b.count { link = Int(b[p + 8]) | Int(b[p + 9]) << 8; field(p + 8, 2, .other) }
                if type == 6, p + 28 <= b.count {
                    field(p + 20, 4, .length(covering: max(0, length - 32)))
                    field(p + 24, 4, .length(covering: max(0, length - 32)))
                    records.append((p + 28, CaptureTarget.linkHeader(UInt32(link), version: .v4).count))
                }
                guard length >= 12, length % 4 == 0 else { break }
                p += length
            }
        } else {
            field(0, 4, .other)
            field(4, 2, .other)
            field(16, 4, .length(covering: 65535))
            field(20, 4, .other)
            let link = le(20)
            var p = 24
            while p + 16 <= b.count, fields.count < 64 {
                let caplen = le(p + 8)
                field(p + 8, 4, .length(covering: min(caplen, b.count - p - 16)))
                field(p + 12, 4, .length(covering: caplen))
                records.append((p + 16, CaptureTarget.linkHeader(UInt32(link), version: .v4).count))
                guard caplen >= 0, p + 16 + caplen <= b.count else { break }
                p += 16 + caplen
            }
        }
        if !records.isEmpty, r.chance(1, in: 2) {
            // Mutate the IP packet of one record as a packet, and keep the record's lengths right.
            let (start, header) = r.element(of: records)
            let end = recordEnd(b, start: start, magic: magic)
            guard start + header < end else { return false }
            var packet = Array(b[(start + header)..<end])
            guard PacketMutator.mutate(&packet, random: &r, bytes: bytes, maximumLength: 4096) else { return false }
            let caplen = header + packet.count
            if magic == 0x0a0d_0d0a {
                // pcapng: the data is padded to a multiple of 4, and the block's length is at both of its ends.
                let oldPad = (4 - (end - start) % 4) % 4
                let pad = (4 - caplen % 4) % 4
                b.replaceSubrange((start + header)..<min(b.count, end + oldPad),
                                  with: packet + [UInt8](repeating: 0, count: pad))
                writeLE(&b, start - 8, caplen)
                writeLE(&b, start - 4, caplen)
                let blockStart = start - 28, blockLength = 28 + caplen + pad + 4
                writeLE(&b, blockStart + 4, blockLength)
                writeLE(&b, blockStart + blockLength - 4, blockLength)
            } else {
                b.replaceSubrange((start + header)..<end, with: packet)
                writeLE(&b, start - 8, caplen)
                writeLE(&b, start - 4, caplen)
            }
            return true
        }
        guard !fields.isEmpty else { return false }
        FieldMutation.apply(r.element(of: fields), to: &b, map: PacketMap([]), knownSPIs: [], random: &r)
        return true
    }

    private func recordEnd(_ b: [UInt8], start: Int, magic: UInt32) -> Int {
        let caplen = Int(b[start - 8]) | Int(b[start - 7]) << 8 | Int(b[start - 6]) << 16 | Int(b[start - 5]) << 24
        return min(b.count, start + max(0, caplen))
    }

    private func writeLE(_ b: inout [UInt8], _ at: Int, _ value: Int) {
        guard at >= 0, at + 4 <= b.count else { return }
        for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
    }
}
