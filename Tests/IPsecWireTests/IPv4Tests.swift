import Testing
@testable import IPsecWire

/// IPv4 header and options. Captured bytes made with scapy 2.8.0 (`/work/main/.venv/bin/python`):
///
/// - `echo`: `IP(src="192.168.123.3", dst="192.168.123.100", id=0x08f2, ttl=64)/ICMP(id=0x1234, seq=1)
///   /Raw(bytes(range(56)))` — its header is the well-known `45000054 08f20000 4001f9fe c0a87b03 c0a87b64`.
/// - `withOptions`: `IP(src="192.0.2.1", dst="198.51.100.7", id=0x4242, ttl=17, tos=0xb9, flags="DF", proto=17,
///   options=[IPOption_LSRR(routers=["10.0.0.1","10.0.0.2"]), IPOption_RR(routers=["0.0.0.0"]),
///   IPOption_Timestamp(flg=1, pointer=13, internet_address="10.0.0.9", timestamp=0x01020304),
///   IPOption_Router_Alert(), IPOption_NOP(), IPOption(b'\x88\x04\x12\x34'), IPOption_EOL()])
///   /UDP(sport=1234, dport=5678)/Raw(b"hi")` — a full 40-byte option area; 0x88 (Stream ID) is one IPsecLab has
///   no case for. (scapy's default timestamp pointer, 9, points into the middle of an entry; see `badOptions`.)
/// - `routerAlert`: `IP(src="192.0.2.1", dst="198.51.100.7", id=7, ttl=1, proto=2, options=[IPOption_Router_Alert(),
///   IPOption_NOP(), IPOption_EOL()])/Raw(...)` — an IGMP-style header whose EOL is followed by two padding bytes.
@Suite struct IPv4Tests {
    static let echo: [UInt8] = hex("""
        4500005408f200004001f9fec0a87b03c0a87b64 0800eeb712340001
        000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
        202122232425262728292a2b2c2d2e2f3031323334353637
        """)
    static let echoHeader = IPv4Header(
        totalLength: 84, identification: 0x08f2, ttl: 64, protocol: .icmp, headerChecksum: 0xf9fe,
        source: IPv4Address(192, 168, 123, 3), destination: IPv4Address(192, 168, 123, 100))

    static let withOptions: [UInt8] = hex("""
        4fb90046424240001111728ac0000201c6336407
        830b040a0000010a000002 07070400000000 440c0d010a00000901020304 94040000 01 88041234 00
        04d2162e000ab06d6869
        """)
    static let withOptionsHeader = IPv4Header(
        dscp: 46, ecn: 1, totalLength: 70, identification: 0x4242, dontFragment: true, ttl: 17, protocol: .udp,
        headerChecksum: 0x728a, source: IPv4Address(192, 0, 2, 1), destination: IPv4Address(198, 51, 100, 7),
        options: [
            .looseSourceRoute(pointer: 4, route: [IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2)]),
            .recordRoute(pointer: 4, route: [IPv4Address(0, 0, 0, 0)]),
            .timestamp(pointer: 13, overflow: 0, flag: 1, data: hex("0a000009 01020304")),
            .routerAlert(value: 0),
            .noOperation,
            .unknown(type: 0x88, data: [0x12, 0x34]),
            .endOfOptionList(),
        ])

    static let routerAlert: [UInt8] = hex("""
        470000240007000001023691c0000201c6336407 94040000 01 00 0000
        1164ee9b00000000
        """)
    static let routerAlertHeader = IPv4Header(
        totalLength: 36, identification: 7, ttl: 1, protocol: IPProtocol(2), headerChecksum: 0x3691,
        source: IPv4Address(192, 0, 2, 1), destination: IPv4Address(198, 51, 100, 7),
        options: [.routerAlert(value: 0), .noOperation, .endOfOptionList(padding: [0, 0])])

    static let all: [(packet: [UInt8], header: IPv4Header, headerLength: Int)] = [
        (echo, echoHeader, 20), (withOptions, withOptionsHeader, 60), (routerAlert, routerAlertHeader, 28),
    ]

    // MARK: The six

    @Test func deconstruct() throws {
        let view = try IPv4Packet(Self.echo[...])
        #expect(view.version == 4)
        #expect(view.headerLength == 20)
        #expect(view.dscp == 0)
        #expect(view.ecn == 0)
        #expect(view.totalLength == 84)
        #expect(view.identification == 0x08f2)
        #expect(!view.reservedFlag && !view.dontFragment && !view.moreFragments)
        #expect(view.fragmentOffset == 0)
        #expect(!view.isFragment)
        #expect(view.ttl == 64)
        #expect(view.protocol == .icmp)
        #expect(view.headerChecksum == 0xf9fe)
        #expect(view.source == IPv4Address(192, 168, 123, 3))
        #expect(view.destination == IPv4Address(192, 168, 123, 100))
        #expect(view.optionBytes.isEmpty)
        #expect(Array(view.packet) == Self.echo)
        #expect(Array(view.payload) == Array(Self.echo[20...]))

        let opts = try IPv4Packet(Self.withOptions[...])
        #expect(opts.headerLength == 60)
        #expect(opts.dscp == 46)
        #expect(opts.ecn == 1)
        #expect(opts.dontFragment && !opts.moreFragments && !opts.reservedFlag)
        #expect(opts.ttl == 17)
        #expect(opts.protocol == .udp)
        #expect(Array(opts.optionBytes) == Array(Self.withOptions[20..<60]))
        #expect(Array(opts.payload) == Array(Self.withOptions[60...]))
    }

    @Test func construct() throws {
        for (packet, header, headerLength) in Self.all {
            var buffer = [UInt8](repeating: 0xa5, count: headerLength)
            try header.emit(into: &buffer[...])
            #expect(buffer == Array(packet[0..<headerLength]))
        }
    }

    @Test func truncated() {
        #expect(throws: WireError.truncated("IPv4", need: 20, have: 19)) { try IPv4Packet(Self.echo[0..<19]) }
        // IHL says 60 bytes of header.
        #expect(throws: WireError.truncated("IPv4", need: 60, have: 30)) { try IPv4Packet(Self.withOptions[0..<30]) }
        // Total length says 84.
        #expect(throws: WireError.truncated("IPv4", need: 84, have: 83)) { try IPv4Packet(Self.echo[0..<83]) }
    }

    @Test func parse() throws {
        for (packet, header, _) in Self.all {
            #expect(try IPv4Header.parse(packet) == header)
        }
    }

    @Test func emit() throws {
        for (packet, header, headerLength) in Self.all {
            #expect(try header.serialized() == Array(packet[0..<headerLength]))
        }
        var short = [UInt8](repeating: 0, count: 59)
        #expect(throws: WireError.bufferTooShort("IPv4", need: 60, have: 59)) {
            try Self.withOptionsHeader.emit(into: &short[...])
        }
    }

    @Test func bufferLength() {
        #expect(Self.echoHeader.bufferLength == 20)
        #expect(Self.withOptionsHeader.bufferLength == 60)
        #expect(Self.routerAlertHeader.bufferLength == 28)
    }

    // MARK: Strictness

    @Test func everyProperPrefixFails() {
        for (packet, _, _) in Self.all {
            for n in 0..<packet.count {
                #expect(throws: WireError.self) { try IPv4Packet(packet[0..<n]) }
                #expect(throws: WireError.self) { try IPv4Header.parse(packet[0..<n]) }
            }
        }
    }

    @Test func roundTrip() throws {
        for (packet, _, headerLength) in Self.all {
            let header = try IPv4Header.parse(packet)
            let rebuilt = try header.serialized() + packet[headerLength...]
            #expect(rebuilt == packet)
            #expect(try IPv4Header.parse(rebuilt) == header)
        }
    }

    @Test func linkPaddingIsNotPartOfThePacket() throws {
        let padded = Self.echo + [0, 0, 0, 0, 0, 0]
        let view = try IPv4Packet(padded[...])
        #expect(Array(view.packet) == Self.echo)
        #expect(view.payload.count == 64)
        #expect(try IPv4Header.parse(padded) == Self.echoHeader)
    }

    @Test func badFixedHeaderRejected() throws {
        var v6 = Self.echo
        v6[0] = 0x65
        #expect(throws: WireError.badValue("IPv4", "")) { try IPv4Packet(v6[...]) }
        var ihl4 = Self.echo
        ihl4[0] = 0x44
        #expect(throws: WireError.badLength("IPv4", "")) { try IPv4Packet(ihl4[...]) }
        var shortTotal = Self.withOptions
        shortTotal[2] = 0
        shortTotal[3] = 59  // header is 60
        #expect(throws: WireError.badLength("IPv4", "")) { try IPv4Packet(shortTotal[...]) }
        var exactlyHeader = Self.withOptions
        exactlyHeader[3] = 60  // empty payload is fine
        #expect(try IPv4Packet(exactlyHeader[...]).payload.isEmpty)
    }

    @Test func headerChecksum() throws {
        #expect(try IPv4Packet(Self.echo[...]).verifyHeaderChecksum())
        #expect(try IPv4Packet(Self.withOptions[...]).verifyHeaderChecksum())
        #expect(try IPv4Packet(Self.routerAlert[...]).verifyHeaderChecksum())
        for (_, header, _) in Self.all {
            var h = header
            h.headerChecksum = 0x1234
            h.updateChecksum()
            #expect(h.headerChecksum == header.headerChecksum)
        }
        var corrupted = Self.echo
        corrupted[8] = 63  // TTL decremented without updating the checksum
        #expect(!(try IPv4Packet(corrupted[...])).verifyHeaderChecksum())
        // RFC 1624 §4: after TTL 64 → 63 the checksum grows by 0x0100.
        var h = Self.echoHeader
        h.ttl = 63
        h.updateChecksum()
        #expect(h.headerChecksum == 0xfafe)
    }

    @Test func emitRejectsValuesTheWireCannotCarry() {
        func emit(_ h: IPv4Header) throws {
            var buffer = [UInt8](repeating: 0, count: 64)
            try h.emit(into: &buffer[...])
        }
        var h = Self.echoHeader
        h.dscp = 64
        #expect(throws: WireError.badValue("IPv4", "")) { try emit(h) }
        h = Self.echoHeader
        h.ecn = 4
        #expect(throws: WireError.badValue("IPv4", "")) { try emit(h) }
        h = Self.echoHeader
        h.fragmentOffset = 0x2000
        #expect(throws: WireError.badValue("IPv4", "")) { try emit(h) }
        h = Self.echoHeader
        h.options = [.noOperation, .noOperation, .noOperation]
        #expect(throws: WireError.badLength("IPv4", "")) { try emit(h) }
        h.options = [IPv4Option](repeating: .noOperation, count: 44)
        #expect(throws: WireError.badLength("IPv4 option", "")) { try emit(h) }
    }

    @Test func fragmentFields() throws {
        var p = Self.echo
        p[6] = 0xa0  // reserved + MF
        p[7] = 0x00
        p[6] |= 0x05  // offset 0x500
        let view = try IPv4Packet(p[...])
        #expect(view.reservedFlag && view.moreFragments && !view.dontFragment)
        #expect(view.fragmentOffset == 0x500)
        #expect(view.isFragment)
        let header = try IPv4Header.parse(p)
        #expect(try header.serialized() == Array(p[0..<20]))
    }
}

// MARK: - Options

extension IPv4Tests {
    /// A packet with exactly `options` as its option area (a multiple of 4 bytes) and no payload.
    static func packet(options: [UInt8]) -> [UInt8] {
        precondition(options.count % 4 == 0 && options.count <= 40)
        let length = 20 + options.count
        return [0x40 | UInt8(length / 4), 0, 0, UInt8(length), 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]
            + options
    }

    @Suite struct Options {
        @Test func properties() {
            let lsrr = IPv4Option.looseSourceRoute(pointer: 4, route: [IPv4Address(10, 0, 0, 1)])
            #expect(lsrr.type == 131 && lsrr.copiedOnFragmentation && lsrr.encodedLength == 7)
            let ssrr = IPv4Option.strictSourceRoute(pointer: 4, route: [])
            #expect(ssrr.type == 137 && ssrr.copiedOnFragmentation && ssrr.encodedLength == 3)
            let rr = IPv4Option.recordRoute(pointer: 4, route: [IPv4Address(0, 0, 0, 0)])
            #expect(rr.type == 7 && !rr.copiedOnFragmentation && rr.encodedLength == 7)
            let ts = IPv4Option.timestamp(pointer: 5, overflow: 0, flag: 0, data: [0, 0, 0, 0])
            #expect(ts.type == 68 && !ts.copiedOnFragmentation && ts.encodedLength == 8)
            let ra = IPv4Option.routerAlert(value: 0)
            #expect(ra.type == 148 && ra.copiedOnFragmentation && ra.encodedLength == 4)
            #expect(IPv4Option.noOperation.type == 1 && IPv4Option.noOperation.encodedLength == 1)
            let eol = IPv4Option.endOfOptionList(padding: [0, 0, 0])
            #expect(eol.type == 0 && !eol.copiedOnFragmentation && eol.encodedLength == 4)
            let stream = IPv4Option.unknown(type: 0x88, data: [0x12, 0x34])
            #expect(stream.type == 0x88 && stream.copiedOnFragmentation && stream.encodedLength == 4)
        }

        @Test func parsesEveryKind() throws {
            // SSRR with one hop done (pointer 8), a NOP.
            let ssrr = hex("890b08c0000201c0000202 01")
            #expect(try IPv4Option.parseOptions(ssrr[...]) == [
                .strictSourceRoute(pointer: 8, route: [IPv4Address(192, 0, 2, 1), IPv4Address(192, 0, 2, 2)]),
                .noOperation,
            ])
            // Timestamps only (flag 0), two slots, none used.
            let ts0 = hex("440c0500 00000000 00000000")
            #expect(try IPv4Option.parseOptions(ts0[...]) == [.timestamp(pointer: 5, overflow: 0, flag: 0,
                                                                             data: [UInt8](repeating: 0, count: 8))])
            // Prespecified addresses (flag 3), full (pointer past the length) with overflow 2.
            let ts3 = hex("440c0d23 c0000201 00000001")
            #expect(try IPv4Option.parseOptions(ts3[...]) == [.timestamp(pointer: 13, overflow: 2, flag: 3,
                                                                             data: hex("c0000201 00000001"))])
            // A record route that is full, then EOL with non-zero padding, which is kept byte for byte.
            let full = hex("07070800000000 00 abcd")
            let parsed = try IPv4Option.parseOptions(full[...])
            #expect(parsed == [.recordRoute(pointer: 8, route: [IPv4Address(0, 0, 0, 0)]),
                               .endOfOptionList(padding: [0xab, 0xcd])])
            var out = [UInt8](repeating: 0xa5, count: full.count)
            try IPv4Option.emitOptions(parsed, into: &out[...])
            #expect(out == full)
            #expect(try IPv4Option.parseOptions([][...]) == [])
        }

        @Test func unknownOptionRoundTrips() throws {
            let area = hex("8206 01020304 9e02") // type 130 (security) with 4 data bytes, type 158 with none
            let parsed = try IPv4Option.parseOptions(area[...])
            #expect(parsed == [.unknown(type: 130, data: [1, 2, 3, 4]), .unknown(type: 158, data: [])])
            var out = [UInt8](repeating: 0xa5, count: 8)
            try IPv4Option.emitOptions(parsed, into: &out[...])
            #expect(out == area)
        }

        @Test func badOptions() {
            let cases: [(area: String, error: WireError)] = [
                ("07000000", .badLength("IPv4 option", "")),                   // length 0
                ("07010000", .badLength("IPv4 option", "")),                   // length 1
                ("070b0400 00000000", .badLength("IPv4 option", "")),          // runs past the area
                ("01010107", .badLength("IPv4 option", "")),                   // no length byte
                ("070a0400 00000000 0000", .badLength("IPv4 option", "")),     // not 3 + 4n (needs area of 12)
                ("07070300 00000001", .badValue("IPv4 option", "")),           // pointer below 4
                ("07070600 00000001", .badValue("IPv4 option", "")),           // pointer inside an address
                ("440c0901 0a000009 01020304", .badValue("IPv4 option", "")),  // scapy's default pointer 9
                ("44080502 00000000", .badValue("IPv4 option", "")),           // flag 2 is undefined
                ("44100501 00000000 00000000 00000000", .badLength("IPv4 option", "")), // 12 bytes, 8-byte entries
                ("440305 00", .badLength("IPv4 option", "")),                  // timestamp length below 4
                ("44080400 00000000", .badValue("IPv4 option", "")),           // timestamp pointer below 5
                ("94050000 00010101", .badLength("IPv4 option", "")),          // router alert length 5
                ("07070400 00000007 07040000 00000100", .badValue("IPv4 option", "")), // two record routes
                ("83070400 00000089 07040000 00000100", .badValue("IPv4 option", "")), // LSRR and SSRR
                ("44080500 00000000 44080500 00000000", .badValue("IPv4 option", "")), // two timestamps
            ]
            for (area, error) in cases {
                let bytes = hex(area)
                #expect(throws: error, "\(area)") { try IPv4Option.parseOptions(bytes[...]) }
                if bytes.count % 4 == 0 {
                    #expect(throws: error, "\(area)") { try IPv4Header.parse(IPv4Tests.packet(options: bytes)) }
                }
            }
            #expect(throws: WireError.badLength("IPv4 option", "")) {
                try IPv4Option.parseOptions([UInt8](repeating: 1, count: 41)[...])
            }
        }

        @Test func emitRejectsWhatParseWouldNot() {
            let cases: [[IPv4Option]] = [
                [.endOfOptionList(), .noOperation],                       // EOL not last
                [.unknown(type: 7, data: [4])],                           // would come back as record route
                [.unknown(type: 0, data: [])],
                [.timestamp(pointer: 5, overflow: 16, flag: 0, data: [])], // overflow over 4 bits
                [.timestamp(pointer: 5, overflow: 0, flag: 4, data: [])],
                [.recordRoute(pointer: 2, route: [])],
                [.recordRoute(pointer: 4, route: []), .recordRoute(pointer: 4, route: [])],
            ]
            for options in cases {
                var buffer = [UInt8](repeating: 0, count: 40)
                #expect(throws: WireError.self, "\(options)") {
                    try IPv4Option.emitOptions(options, into: &buffer[...])
                }
            }
            var buffer = [UInt8](repeating: 0, count: 40)
            #expect(throws: WireError.badLength("IPv4 option", "")) {
                try IPv4Option.emitOptions([.recordRoute(pointer: 4, route: .init(repeating: .init(rawValue: 0),
                                                                                    count: 10))],
                                           into: &buffer[...])
            }
            var short = [UInt8](repeating: 0, count: 3)
            #expect(throws: WireError.bufferTooShort("IPv4 option", need: 4, have: 3)) {
                try IPv4Option.emitOptions([.routerAlert(value: 0)], into: &short[...])
            }
        }
    }
}

// MARK: - Robustness

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so a failing input can be reproduced.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Random bytes, or a seed with a few bytes changed, cut short or extended.
    mutating func input(from seeds: [[UInt8]]) -> [UInt8] {
        if Int.random(in: 0..<8, using: &self) == 0 {
            return (0..<Int.random(in: 0...80, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
        }
        var bytes = seeds[Int.random(in: 0..<seeds.count, using: &self)]
        let interesting: [UInt8] = [0, 1, 2, 3, 4, 5, 7, 8, 0x0f, 0x44, 0x45, 0x4f, 0x7f, 0x80, 0x83, 0x89, 0x94, 0xff]
        for _ in 0..<Int.random(in: 1...4, using: &self) where !bytes.isEmpty {
            let i = Int.random(in: 0..<bytes.count, using: &self)
            bytes[i] = Bool.random(using: &self) ? UInt8.random(in: 0...255, using: &self)
                : interesting[Int.random(in: 0..<interesting.count, using: &self)]
        }
        switch Int.random(in: 0..<4, using: &self) {
        case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &self)))
        case 1: bytes += (0..<Int.random(in: 1...8, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
        default: break
        }
        return bytes
    }
}

extension IPv4Tests {
    /// Every parse entry point on 10 000 hostile inputs: throwing is fine, trapping is not; and whatever parses must
    /// re-serialise to the same bytes (the fuzzing oracle).
    @Test func hostileInputsNeverTrap() {
        var rng = SplitMix64(state: 0x1957_0c4e_2024_0004)
        let seeds = Self.all.map(\.packet) + [Self.packet(options: hex("890b08c0000201c0000202 01")),
                                              Self.packet(options: hex("440c0d23 c0000201 00000001"))]
        var parsedHeaders = 0, parsedOptionAreas = 0
        for _ in 0..<10_000 {
            let input = rng.input(from: seeds)
            if let view = try? IPv4Packet(input[...]) {
                _ = (view.version, view.headerLength, view.dscp, view.ecn, view.totalLength, view.identification)
                _ = (view.reservedFlag, view.dontFragment, view.moreFragments, view.fragmentOffset, view.isFragment)
                _ = (view.ttl, view.protocol, view.headerChecksum, view.source, view.destination)
                _ = (view.optionBytes, view.packet, view.payload, view.verifyHeaderChecksum())
                if let header = try? IPv4Header(view) {
                    parsedHeaders += 1
                    var out = [UInt8](repeating: 0xa5, count: header.bufferLength)
                    do {
                        try header.emit(into: &out[...])
                        #expect(out[...] == view.headerBytes)
                    } catch {
                        Issue.record("a parsed header failed to emit: \(error)")
                    }
                    var copy = header
                    copy.updateChecksum()
                }
            }
            let viaView = (try? IPv4Packet(input[...])).flatMap { try? IPv4Header($0) }
            #expect((try? IPv4Header.parse(input[...])) == viaView)
            // The option parser alone, on the bytes after a fixed header's worth.
            let area = input.dropFirst(20).prefix(40)
            if let options = try? IPv4Option.parseOptions(area) {
                parsedOptionAreas += 1
                var out = [UInt8](repeating: 0xa5, count: IPv4Option.encodedLength(of: options))
                do {
                    try IPv4Option.emitOptions(options, into: &out[...])
                    #expect(out[...] == area)
                } catch {
                    Issue.record("parsed options failed to emit: \(error)")
                }
                _ = options.map { ($0.type, $0.copiedOnFragmentation, $0.encodedLength) }
            }
        }
        // Not vacuous: a fair share of the mutants still parse.
        #expect(parsedHeaders > 500)
        #expect(parsedOptionAreas > 500)
    }
}

extension SplitMix64 {
    mutating func bytes(_ count: ClosedRange<Int>) -> [UInt8] {
        (0..<Int.random(in: count, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// An option with fields drawn near the edges of what is valid.
    mutating func ipv4Option() -> IPv4Option {
        let pointer = UInt8.random(in: 0...16, using: &self)
        let route = (0..<Int.random(in: 0...3, using: &self)).map { _ in
            IPv4Address(rawValue: UInt32(truncatingIfNeeded: next()))
        }
        switch Int.random(in: 0..<9, using: &self) {
        case 0: return .endOfOptionList(padding: Bool.random(using: &self) ? [] : bytes(0...3))
        case 1: return .noOperation
        case 2: return .recordRoute(pointer: pointer, route: route)
        case 3: return .looseSourceRoute(pointer: pointer, route: route)
        case 4: return .strictSourceRoute(pointer: pointer, route: route)
        case 5, 6:
            return .timestamp(pointer: UInt8.random(in: 0...24, using: &self),
                              overflow: UInt8.random(in: 0...16, using: &self),
                              flag: UInt8.random(in: 0...4, using: &self),
                              data: [UInt8](repeating: 0, count: 4 * Int.random(in: 0...4, using: &self)))
        case 7: return .routerAlert(value: UInt16.random(in: 0...2, using: &self))
        default: return .unknown(type: UInt8.random(in: 0...255, using: &self), data: bytes(0...4))
        }
    }
}

extension IPv4Tests {
    /// The converse of the fuzzing oracle: whatever `emit` accepts, `parse` gives back unchanged.
    @Test func whateverEmitAcceptsParsesBack() throws {
        var rng = SplitMix64(state: 0x1957_0c4e_2024_0044)
        var acceptedLists = 0, acceptedHeaders = 0
        for _ in 0..<5_000 {
            let options = (0..<Int.random(in: 0...4, using: &rng)).map { _ in rng.ipv4Option() }
            var area = [UInt8](repeating: 0xa5, count: IPv4Option.encodedLength(of: options))
            guard (try? IPv4Option.emitOptions(options, into: &area[...])) != nil else { continue }
            acceptedLists += 1
            #expect(try IPv4Option.parseOptions(area[...]) == options)

            var header = IPv4Header(
                dscp: UInt8.random(in: 0...64, using: &rng), ecn: UInt8.random(in: 0...4, using: &rng),
                totalLength: 0, identification: UInt16.random(in: 0...0xffff, using: &rng),
                reservedFlag: Bool.random(using: &rng), dontFragment: Bool.random(using: &rng),
                moreFragments: Bool.random(using: &rng), fragmentOffset: UInt16.random(in: 0...0x2000, using: &rng),
                ttl: UInt8.random(in: 0...255, using: &rng),
                protocol: IPProtocol(UInt8.random(in: 0...255, using: &rng)),
                headerChecksum: UInt16.random(in: 0...0xffff, using: &rng),
                source: IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next())),
                destination: IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next())), options: options)
            header.totalLength = UInt16(header.bufferLength)
            var bytes = [UInt8](repeating: 0xa5, count: header.bufferLength)
            guard (try? header.emit(into: &bytes[...])) != nil else { continue }
            acceptedHeaders += 1
            #expect(try IPv4Header.parse(bytes) == header)
        }
        #expect(acceptedLists > 500)
        #expect(acceptedHeaders > 50)
    }
}
