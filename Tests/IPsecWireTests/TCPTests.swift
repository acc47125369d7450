import Testing
@testable import IPsecWire

/// The six header tests and the strictness checks for TCP, on packets built with scapy 2.8.0 and one published
/// capture:
///
/// - `packet`: `IP(src="192.0.2.1", dst="198.51.100.2", id=1)/TCP(sport=49152, dport=443, seq=0x01020304,
///   ack=0x0a0b0c0d, flags="PA", window=502, options=[('MSS',1460), ('SAckOK',b''), ('Timestamp',(0x11223344,
///   0x55667788)), ('NOP',None), ('WScale',7), ('SAck',(1000,2000,3000,4000)), ('EOL',None)])/Raw(b"hello")`:
///   every option kind IPsecLab names, and End of Option List followed by one byte of padding.
/// - `packet6`: `IPv6(src="2001:db8::1", dst="2001:db8::2")/TCP(sport=22, dport=50000, seq=7, ack=9,
///   flags="SA", window=65535, options=[('MSS',1440), ('NOP',None), ('NOP',None), ('SAckOK',b'')])`.
/// - `windowsSYN`: the inner packet of draft-mcgrew-gcm-test-01 case 3 (a Windows SYN to port 139), without its ESP
///   trailer; its checksum is right.
@Suite struct TCPTests {
    static let packet: [UInt8] = hex("""
        450000550001000040068e6bc0000201c6336402c00001bb010203040a0b0c0d
        f01801f6ac800000020405b40402080a11223344556677880103030705120000
        03e8000007d000000bb800000fa0000068656c6c6f
        """)
    static let segment = Array(packet[20...])
    static let header = try! TCPHeader(
        sourcePort: 49152, destinationPort: 443, sequenceNumber: 0x0102_0304, acknowledgmentNumber: 0x0a0b_0c0d,
        flags: [.psh, .ack], window: 502, checksum: 0xac80,
        options: [
            .maximumSegmentSize(1460), .sackPermitted, .timestamps(value: 0x1122_3344, echoReply: 0x5566_7788),
            .noOperation, .windowScale(7),
            .sack([TCPSACKBlock(leftEdge: 1000, rightEdge: 2000), TCPSACKBlock(leftEdge: 3000, rightEdge: 4000)]),
            .endOfOptionList(padding: [0]),
        ])
    static let pseudoHeader = PseudoHeader.ipv4(
        source: IPv4Address(192, 0, 2, 1), destination: IPv4Address(198, 51, 100, 2), protocol: .tcp, length: 65)

    static let packet6: [UInt8] = hex("""
        60000000001c064020010db800000000000000000000000120010db800000000
        00000000000000020016c35000000007000000097012ffff64380000020405a0
        01010402
        """)
    static let windowsSYN: [UInt8] = hex("""
        4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000
        7002400020bf0000020405b401010402
        """)

    @Test func deconstruct() throws {
        let view = try TCPSegment(Self.packet[20...])
        #expect(view.sourcePort == 49152)
        #expect(view.destinationPort == 443)
        #expect(view.sequenceNumber == 0x0102_0304)
        #expect(view.acknowledgmentNumber == 0x0a0b_0c0d)
        #expect(view.dataOffset == 15)
        #expect(view.headerLength == 60)
        #expect(view.reserved == 0)
        #expect(view.flags == [.psh, .ack])
        #expect(view.flags.rawValue == 0x18)
        #expect(view.flags.description == "AP")
        #expect(view.window == 502)
        #expect(view.checksum == 0xac80)
        #expect(view.urgentPointer == 0)
        #expect(view.optionBytes.count == 40)
        #expect(try view.options() == Self.header.options)
        #expect(Array(view.payload) == Array("hello".utf8))
    }

    @Test func construct() throws {
        var buffer = [UInt8](repeating: 0xa5, count: 60)
        try Self.header.emit(into: &buffer[...])
        #expect(buffer == Array(Self.segment[0..<60]))
    }

    @Test func truncated() {
        #expect(throws: WireError.truncated("TCP", need: 20, have: 19)) { try TCPSegment(Self.segment[0..<19]) }
        // The data offset says 15 words: 59 bytes do not hold the options.
        #expect(throws: WireError.truncated("TCP", need: 60, have: 59)) { try TCPSegment(Self.segment[0..<59]) }
    }

    @Test func parse() throws {
        #expect(try TCPHeader.parse(Self.segment) == Self.header)
        #expect(Self.header.dataOffset == 15)
    }

    @Test func emit() throws {
        #expect(try Self.header.serialized() == Array(Self.segment[0..<60]))
        var short = [UInt8](repeating: 0, count: 59)
        #expect(throws: WireError.bufferTooShort("TCP", need: 60, have: 59)) { try Self.header.emit(into: &short[...]) }
    }

    @Test func bufferLength() throws {
        #expect(Self.header.bufferLength == 60)
        let bare = try TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4,
                                 flags: .syn, window: 5)
        #expect(bare.bufferLength == 20)
        #expect(bare.dataOffset == 5)
    }

    /// TCP has no length field, so bytes past the header are payload: what must fail is every proper prefix of the
    /// header itself (options included).
    @Test func everyProperPrefixOfTheHeaderFails() {
        for n in 0..<60 {
            #expect(throws: WireError.self) { try TCPHeader.parse(Self.segment[0..<n]) }
        }
        #expect(throws: Never.self) { try TCPHeader.parse(Self.segment[0..<60]) }
    }

    @Test func roundTrip() throws {
        for (packet, ipHeader) in [(Self.packet, 20), (Self.packet6, 40), (Self.windowsSYN, 20)] {
            let segment = packet[ipHeader...]
            let view = try TCPSegment(segment)
            let parsed = try TCPHeader.parse(segment)
            #expect(try parsed.serialized() == Array(segment.prefix(view.headerLength)))
            #expect(try TCPHeader.parse(parsed.serialized()) == parsed)
        }
    }

    @Test func secondVectors() throws {
        let v6 = try TCPHeader.parse(Self.packet6[40...])
        #expect(v6.sourcePort == 22 && v6.destinationPort == 50000)
        #expect(v6.flags == [.syn, .ack])
        #expect(v6.options == [.maximumSegmentSize(1440), .noOperation, .noOperation, .sackPermitted])
        let syn = try TCPHeader.parse(Self.windowsSYN[20...])
        #expect(syn.flags == .syn)
        #expect(syn.dataOffset == 7)
        #expect(syn.options == [.maximumSegmentSize(1460), .noOperation, .noOperation, .sackPermitted])
    }

    /// A 20-byte fixed header (from `packet6`) with `options` after it and the data offset set to match. `options`
    /// must be a whole number of 32-bit words.
    static func segment(options: [UInt8]) -> [UInt8] {
        var s = Array(packet6[40..<60])
        s[12] = UInt8((20 + options.count) / 4) << 4
        return s + options
    }

    @Test func dataOffsetBelowFiveRejected() {
        for offset: UInt8 in 0...4 {
            var bad = Self.segment
            bad[12] = offset << 4
            #expect(throws: WireError.badLength("TCP", "")) { try TCPSegment(bad[...]) }
        }
    }

    @Test func malformedOptionsRejected() {
        let bad: [[UInt8]] = [
            [0x02, 0x00, 0x00, 0x00],  // length 0
            [0x02, 0x01, 0x00, 0x00],  // length 1
            [0x01, 0x01, 0x01, 0x02],  // kind 2 with no length byte
            [0x02, 0x06, 0x05, 0xb4],  // MSS overrunning the option area
            [0x02, 0x05, 0x05, 0xb4, 0x00, 0x00, 0x00, 0x00],  // MSS of length 5
            [0x03, 0x04, 0x07, 0x00],  // window scale of length 4
            [0x04, 0x03, 0x00, 0x00],  // SACK permitted of length 3
            [0x05, 0x02, 0x00, 0x00],  // SACK with no blocks
            [0x05, 0x0b] + [UInt8](repeating: 0, count: 10),  // SACK of length 11
            [0x08, 0x08] + [UInt8](repeating: 0, count: 6) + [0, 0, 0, 0],  // timestamps of length 8
            [0x1e, 0x2a] + [UInt8](repeating: 0, count: 38),  // unknown kind of length 42 in a 40-byte area
            [0x1e, 0xff, 0x00, 0x00],  // length 255
        ]
        for options in bad {
            let s = Self.segment(options: options)
            // The view checks lengths only; the options are what is wrong.
            #expect(throws: Never.self) { try TCPSegment(s[...]) }
            #expect(throws: WireError.badLength("TCP option", "")) { try TCPHeader.parse(s) }
        }
    }

    @Test func unknownOptionsAndPaddingRoundTripExactly() throws {
        // MPTCP (kind 30) as an unknown option, then End of Option List with non-zero bytes after it.
        let s = Self.segment(options: [0x1e, 0x04, 0xab, 0xcd, 0x00, 0x11, 0x22, 0x33])
        let parsed = try TCPHeader.parse(s)
        #expect(parsed.options == [.unknown(kind: 30, data: [0xab, 0xcd]),
                                   .endOfOptionList(padding: [0x11, 0x22, 0x33])])
        #expect(try parsed.serialized() == s)
        // Four SACK blocks fill 34 bytes, the most the option area allows.
        let blocks = (0..<4).map { TCPSACKBlock(leftEdge: UInt32($0), rightEdge: UInt32($0) + 100) }
        let options = TCPOption.aligned([.noOperation, .noOperation, .sack(blocks)])
        let h = try TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4,
                              flags: .ack, window: 5, options: options)
        #expect(h.dataOffset == 14)
        #expect(try TCPHeader.parse(h.serialized()) == h)
    }

    @Test func reservedBitsKept() throws {
        var s = Self.segment
        s[12] |= 0x01  // AccECN's AE bit
        let parsed = try TCPHeader.parse(s)
        #expect(parsed.reserved == 1)
        #expect(try parsed.serialized() == Array(s[0..<60]))
    }

    @Test func unemittableValuesRejected() throws {
        func make(_ options: [TCPOption], reserved: UInt8 = 0) throws -> TCPHeader {
            try TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4,
                          reserved: reserved, flags: .syn, window: 5, options: options)
        }
        #expect(throws: WireError.badLength("TCP option", "")) { try make([.maximumSegmentSize(1460), .noOperation]) }
        #expect(throws: Never.self) { try make(TCPOption.aligned([.maximumSegmentSize(1460), .noOperation])) }
        #expect(throws: WireError.badValue("TCP option", "")) {
            try make([.endOfOptionList(padding: []), .noOperation, .noOperation, .noOperation])
        }
        #expect(throws: WireError.badLength("TCP option", "")) { try make([.sack([]), .noOperation, .noOperation]) }
        let five = [TCPSACKBlock](repeating: TCPSACKBlock(leftEdge: 1, rightEdge: 2), count: 5)
        #expect(throws: WireError.badLength("TCP option", "")) { try make([.sack(five)]) }
        #expect(throws: WireError.badValue("TCP option", "")) { try make([.unknown(kind: 2, data: [5, 0xb4])]) }
        #expect(throws: WireError.badLength("TCP option", "")) {
            try make([.unknown(kind: 99, data: [UInt8](repeating: 0, count: 40))])
        }
        #expect(throws: WireError.badLength("TCP option", "")) {
            let timestamps = [TCPOption](repeating: .timestamps(value: 1, echoReply: 2), count: 4)
            return try make(timestamps + [.sackPermitted, .noOperation, .noOperation])
        }
        #expect(throws: WireError.badValue("TCP", "")) { try make([], reserved: 16) }
        var h = try make([])
        #expect(throws: WireError.badLength("TCP option", "")) { try h.setOptions([.noOperation]) }
        try h.setOptions([.windowScale(14), .noOperation])
        #expect(h.dataOffset == 6)
    }

    @Test func checksumVerifies() throws {
        let view = try TCPSegment(Self.packet[20...])
        #expect(view.verifyChecksum(Self.pseudoHeader))
        #expect(try Self.header.computeChecksum(payload: Array("hello".utf8), pseudoHeader: Self.pseudoHeader) == 0xac80)
        var corrupted = Self.segment
        corrupted[62] ^= 0x20
        #expect(!(try TCPSegment(corrupted[...])).verifyChecksum(Self.pseudoHeader))

        let v6 = try TCPSegment(Self.packet6[40...])
        let ph6 = PseudoHeader.ipv6(source: IPv6Address("2001:db8::1")!, destination: IPv6Address("2001:db8::2")!,
                                    nextHeader: .tcp, length: 28)
        #expect(v6.verifyChecksum(ph6))
        #expect(try TCPHeader(v6).computeChecksum(payload: [UInt8](), pseudoHeader: ph6) == 0x6438)

        let syn = try TCPSegment(Self.windowsSYN[20...])
        let phSYN = PseudoHeader.ipv4(source: IPv4Address(192, 168, 1, 2), destination: IPv4Address(147, 137, 21, 94),
                                      protocol: .tcp, length: 28)
        #expect(syn.verifyChecksum(phSYN))
    }

    /// Random and mutated buffers through every TCP entry point: nothing may trap, and whatever parses re-emits the
    /// header bytes exactly and parses back to itself.
    @Test func randomInputNeverTraps() {
        var rng = TransportTestRNG(seed: 0x7c9)
        let seeds = [Self.segment, Array(Self.packet6[40...]), Array(Self.windowsSYN[20...]),
                     Self.segment(options: [0x1e, 0x04, 0xab, 0xcd, 0x00, 0x11, 0x22, 0x33])]
        var parsed = 0, mismatches = 0
        for _ in 0..<10_000 {
            let (buffer, slice) = rng.mutantSlice(of: seeds)
            if let view = try? TCPSegment(buffer[slice]) {
                _ = (view.sourcePort, view.destinationPort, view.sequenceNumber, view.acknowledgmentNumber,
                     view.dataOffset, view.reserved, view.flags, view.window, view.checksum, view.urgentPointer,
                     view.optionBytes, view.payload, view.flags.description)
                _ = view.verifyChecksum(Self.pseudoHeader)
                _ = try? view.options()
            }
            if let header = try? TCPHeader.parse(buffer[slice]) {
                parsed += 1
                let bytes = (try? header.serialized()) ?? []
                if bytes.isEmpty || bytes != Array(buffer[slice].prefix(bytes.count)) || (try? TCPHeader.parse(bytes)) != header {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0)
        #expect(parsed > 100)
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator, so the robustness tests of the transport and
/// IPsec headers (TCP, ICMP, ESP, AH, IPComp, ESP-in-UDP) replay the same inputs every run.
struct TransportTestRNG: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Bytes that parsers find interesting: boundaries of length and flag fields.
    private static let interesting: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x0a, 0x0f, 0x10,
                                               0x1f, 0x7f, 0x80, 0xf0, 0xfe, 0xff]

    /// A mutant of one of `seeds` (one to four bit flips, byte sets, truncations, extensions, insertions or
    /// deletions), or, one time in eight, fresh random bytes.
    mutating func mutant(of seeds: [[UInt8]], maxRandomLength: Int = 96) -> [UInt8] {
        if Int.random(in: 0..<8, using: &self) == 0 {
            let n = Int.random(in: 0...maxRandomLength, using: &self)
            return (0..<n).map { _ in UInt8.random(in: .min ... .max, using: &self) }
        }
        var b = seeds[Int.random(in: 0..<seeds.count, using: &self)]
        for _ in 0..<Int.random(in: 1...4, using: &self) {
            switch Int.random(in: 0..<7, using: &self) {
            case 0 where !b.isEmpty:
                b[Int.random(in: 0..<b.count, using: &self)] ^= 1 << UInt8.random(in: 0...7, using: &self)
            case 1 where !b.isEmpty:
                b[Int.random(in: 0..<b.count, using: &self)] = Self.interesting.randomElement(using: &self)!
            case 2 where !b.isEmpty:
                b[Int.random(in: 0..<b.count, using: &self)] = UInt8.random(in: .min ... .max, using: &self)
            case 3:
                b.removeLast(Int.random(in: 0...b.count, using: &self))
            case 4:
                let n = Int.random(in: 1...16, using: &self)
                b += (0..<n).map { _ in UInt8.random(in: .min ... .max, using: &self) }
            case 5:
                b.insert(Self.interesting.randomElement(using: &self)!, at: Int.random(in: 0...b.count, using: &self))
            case 6 where !b.isEmpty:
                b.remove(at: Int.random(in: 0..<b.count, using: &self))
            default:
                break
            }
        }
        return b
    }

    /// A mutant embedded in a larger array, with the range that holds it, so that parsers also see slices that do
    /// not start at index 0.
    mutating func mutantSlice(of seeds: [[UInt8]]) -> (buffer: [UInt8], range: Range<Int>) {
        let m = mutant(of: seeds)
        let before = Int.random(in: 0...3, using: &self)
        let after = Int.random(in: 0...3, using: &self)
        let buffer = [UInt8](repeating: 0xee, count: before) + m + [UInt8](repeating: 0xee, count: after)
        return (buffer, before..<(before + m.count))
    }
}
