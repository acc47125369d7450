import Testing
@testable import IPsecWire

/// The IPv6 fixed header, each extension header and the chain walk. Captured bytes made with scapy 2.8.0
/// (`/work/main/.venv/bin/python`; src 2001:db8::1 unless said):
///
/// - `udp`: `IPv6(dst="2001:db8::2", tc=0xb9, fl=0x12345, hlim=64)/UDP(sport=1234, dport=5678)/Raw(b"hello")`
/// - `hopByHop`: `IPv6(src="fe80::1", dst="ff02::16", hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
///   /ICMPv6MLReport2()` — scapy pads the router alert with a 2-byte PadN.
/// - `destinationOptions`: `IPv6(dst="2001:db8::2")/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e,
///   optdata=b"\x01\x02\x03")])/UDP(sport=1, dport=2)` — type 0x3e has the may-change bit; scapy adds a Pad1.
/// - `routing0`: `IPv6(dst="2001:db8::a")/IPv6ExtHdrRouting(type=0, segleft=2,
///   addresses=["2001:db8::b", "2001:db8::2"])/UDP(sport=1, dport=2)`
/// - `routing2`: `IPv6(dst="2001:db8::c0a")/IPv6ExtHdrRouting(type=2, segleft=1, addresses=["2001:db8::4"])
///   /UDP(sport=1, dport=2)`
/// - `routing3`: scapy has no RPL layer, so `IPv6(dst="2001:db8::a", nh=43)/Raw(rpl)/Raw(bytes(UDP(sport=1,
///   dport=2)))` with `rpl` = `11 01 03 02 ec 20 0000 000b 00020002 0000` written by hand from RFC 6554 §3: CmprI 14,
///   CmprE 12, Pad 2, Address[1] = 2001:db8::b, Address[2] = 2001:db8::2:2. (The UDP checksum is 0 there.)
/// - `routing4`: `IPv6(dst="2001:db8::a")/IPv6ExtHdrSegmentRouting(addresses=["2001:db8::2", "2001:db8::b",
///   "2001:db8::a"], segleft=2, tag=0x1234, tlv_objects=[IPv6ExtHdrSegmentRoutingTLV(type=0x7c, len=3,
///   value=b"\x01\x02\x03"), IPv6ExtHdrSegmentRoutingTLVPad1(), IPv6ExtHdrSegmentRoutingTLVPadN(padding=b"\x00")])
///   /UDP(sport=1, dport=2)` — scapy pads the TLVs with a further PadN.
/// - `fragment`: `IPv6(dst="2001:db8::2")/IPv6ExtHdrFragment(id=0xdeadbeef, offset=0, m=1)/UDP(sport=1, dport=2)
///   /Raw(b"x"*8)`; `laterFragment`: the same with `offset=2, m=0, nh=17` over `Raw(b"y"*8)`.
/// - `chain`: `IPv6(dst="2001:db8::a")/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
///   /IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00"*4)])/IPv6ExtHdrRouting(type=0, segleft=1,
///   addresses=["2001:db8::2"])/IPv6ExtHdrFragment(id=7)/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e,
///   optdata=b"\x01\x02\x03")])/UDP(sport=1, dport=2)`
@Suite struct IPv6Tests {
    static let a1 = IPv6Address("2001:db8::1")!
    static let a2 = IPv6Address("2001:db8::2")!
    static let a4 = IPv6Address("2001:db8::4")!
    static let aA = IPv6Address("2001:db8::a")!
    static let aB = IPv6Address("2001:db8::b")!
    static let aC0A = IPv6Address("2001:db8::c0a")!

    static let udp: [UInt8] = hex("""
        6b912345000d1140 20010db8000000000000000000000001 20010db8000000000000000000000002
        04d2162e000d458d68656c6c6f
        """)
    static let hopByHop: [UInt8] = hex("""
        6000000000100001 fe800000000000000000000000000001 ff020000000000000000000000000016
        3a00050200000100 8f00732200000000
        """)
    static let destinationOptions: [UInt8] = hex("""
        6000000000103c40 20010db8000000000000000000000001 20010db8000000000000000000000002
        11003e0301020300 00010002 0008a466
        """)
    static let routing0: [UInt8] = hex("""
        6000000000302b40 20010db8000000000000000000000001 20010db800000000000000000000000a
        1104000200000000 20010db800000000000000000000000b 20010db8000000000000000000000002
        00010002 0008a466
        """)
    static let routing2: [UInt8] = hex("""
        6000000000202b40 20010db8000000000000000000000001 20010db8000000000000000000000c0a
        1102020100000000 20010db8000000000000000000000004
        00010002 0008a464
        """)
    static let routing3: [UInt8] = hex("""
        6000000000182b40 20010db8000000000000000000000001 20010db800000000000000000000000a
        11010302ec200000 000b000200020000
        00010002 00080000
        """)
    static let routing4: [UInt8] = hex("""
        6000000000502b40 20010db8000000000000000000000001 20010db800000000000000000000000a
        1108040202001234 20010db8000000000000000000000002 20010db800000000000000000000000b
        20010db800000000000000000000000a 7c03010203000401 0004050000000000
        00010002 0008a466
        """)
    static let fragment: [UInt8] = hex("""
        6000000000182c40 20010db8000000000000000000000001 20010db8000000000000000000000002
        11000001deadbeef 00010002 0010c274 7878787878787878
        """)
    static let laterFragment: [UInt8] = hex("""
        6000000000102c40 20010db8000000000000000000000001 20010db8000000000000000000000002
        11000010deadbeef 7979797979797979
        """)
    static let chain: [UInt8] = hex("""
        6000000000400040 20010db8000000000000000000000001 20010db800000000000000000000000a
        3c00050200000100 2b00010400000000
        2c02000100000000 20010db8000000000000000000000002
        3c00000000000007 11003e0301020300
        00010002 0008a466
        """)

    /// Every captured packet, for the prefix, round-trip and robustness tests.
    static let packets = [udp, hopByHop, destinationOptions, routing0, routing2, routing3, routing4, fragment,
                          laterFragment, chain]

    /// The extension header bytes of a packet with one extension header of `length` bytes.
    static func extensionBytes(_ packet: [UInt8], length: Int) -> [UInt8] { Array(packet[40..<(40 + length)]) }
}

// MARK: - Fixed header

extension IPv6Tests {
    @Suite struct FixedHeader {
        static let header = IPv6Header(trafficClass: 0xb9, flowLabel: 0x12345, payloadLength: 13, nextHeader: .udp,
                                       hopLimit: 64, source: a1, destination: a2)

        @Test func deconstruct() throws {
            let view = try IPv6Packet(udp[...])
            #expect(view.version == 6)
            #expect(view.trafficClass == 0xb9)
            #expect(view.dscp == 46)
            #expect(view.ecn == 1)
            #expect(view.flowLabel == 0x12345)
            #expect(view.payloadLength == 13)
            #expect(view.nextHeader == .udp)
            #expect(view.hopLimit == 64)
            #expect(view.source == a1)
            #expect(view.destination == a2)
            #expect(Array(view.packet) == udp)
            #expect(Array(view.payload) == Array(udp[40...]))
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 40)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Array(udp[0..<40]))
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6", need: 40, have: 39)) { try IPv6Packet(udp[0..<39]) }
            #expect(throws: WireError.truncated("IPv6", need: 53, have: 52)) { try IPv6Packet(udp[0..<52]) }
        }

        @Test func parse() throws {
            #expect(try IPv6Header.parse(udp) == Self.header)
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Array(udp[0..<40]))
            var short = [UInt8](repeating: 0, count: 39)
            #expect(throws: WireError.bufferTooShort("IPv6", need: 40, have: 39)) {
                try Self.header.emit(into: &short[...])
            }
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 40)
        }

        @Test func badValues() throws {
            var v4 = udp
            v4[0] = 0x4b
            #expect(throws: WireError.badValue("IPv6", "")) { try IPv6Packet(v4[...]) }
            var wide = Self.header
            wide.flowLabel = 0x100000
            var buffer = [UInt8](repeating: 0, count: 40)
            #expect(throws: WireError.badValue("IPv6", "")) { try wide.emit(into: &buffer[...]) }
        }

        @Test func jumbogramsRejectedButPaddingAccepted() throws {
            // Payload length 0 with a Hop-by-Hop header and bytes after the header: a jumbogram (RFC 2675 §3).
            var jumbo = hopByHop
            jumbo[4] = 0
            jumbo[5] = 0
            #expect(throws: WireError.badValue("IPv6", "")) { try IPv6Packet(jumbo[...]) }
            // An empty payload (No Next Header) in a minimum-size Ethernet frame: 6 bytes of link padding.
            var empty = Array(udp[0..<40]) + [0, 0, 0, 0, 0, 0]
            empty[4] = 0
            empty[5] = 0
            empty[6] = IPProtocol.noNextHeader.rawValue
            let view = try IPv6Packet(empty[...])
            #expect(view.payload.isEmpty)
            #expect(view.packet.count == 40)
            // Padding after a non-empty packet is not part of it either.
            let padded = udp + [0, 0, 0]
            #expect(Array(try IPv6Packet(padded[...]).packet) == udp)
        }
    }
}

// MARK: - Hop-by-Hop

extension IPv6Tests {
    @Suite struct HopByHop {
        static let bytes = extensionBytes(hopByHop, length: 8)
        static let header = IPv6OptionsHeader(nextHeader: .icmpv6,
                                              options: [.routerAlert(value: 0), .padN(totalLength: 2)])

        @Test func deconstruct() throws {
            let packet = try IPv6Packet(hopByHop[...])
            #expect(packet.nextHeader == .hopByHop)
            #expect(packet.hopLimit == 1)
            let chain = try packet.extensionChain()
            #expect(chain.headers == [.hopByHop(Self.header)])
            #expect(chain.upperLayerProtocol == .icmpv6)
            #expect(chain.upperLayerOffset == 8)
            let alert = IPv6Option.routerAlert(value: 0)
            #expect(alert.type == 5 && !alert.isMutableInTransit && alert.actionIfUnrecognized == .skip)
            #expect(alert.encodedLength == 4)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 8)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Self.bytes)
            // `padded` adds the same PadN scapy did.
            #expect(IPv6OptionsHeader.padded(nextHeader: .icmpv6, options: [.routerAlert(value: 0)]) == Self.header)
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6 Options", need: 8, have: 7)) {
                try IPv6OptionsHeader.parse(Self.bytes[0..<7])
            }
            #expect(throws: WireError.truncated("IPv6 Hop-by-Hop", need: 8, have: 1)) {
                try IPv6ExtensionHeader.parse(.hopByHop, bytes: Self.bytes[0..<1])
            }
        }

        @Test func parse() throws {
            #expect(try IPv6OptionsHeader.parse(Self.bytes) == Self.header)
            #expect(try IPv6ExtensionHeader.parse(.hopByHop, bytes: Self.bytes[...]) == .hopByHop(Self.header))
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Self.bytes)
            var short = [UInt8](repeating: 0, count: 7)
            #expect(throws: WireError.bufferTooShort("IPv6 Hop-by-Hop", need: 8, have: 7)) {
                try IPv6ExtensionHeader.hopByHop(Self.header).emit(into: &short[...])
            }
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 8)
            #expect(IPv6ExtensionHeader.hopByHop(Self.header).bufferLength == 8)
        }
    }
}

// MARK: - Destination Options

extension IPv6Tests {
    @Suite struct DestinationOptions {
        static let bytes = extensionBytes(destinationOptions, length: 8)
        static let header = IPv6OptionsHeader(nextHeader: .udp,
                                              options: [.unknown(type: 0x3e, data: [1, 2, 3]), .pad1])

        @Test func deconstruct() throws {
            let chain = try IPv6Packet(destinationOptions[...]).extensionChain()
            #expect(chain.headers == [.destinationOptions(Self.header)])
            #expect(chain.upperLayerProtocol == .udp)
            #expect(chain.upperLayerOffset == 8)
            let option = Self.header.options[0]
            #expect(option.type == 0x3e && option.isMutableInTransit && option.actionIfUnrecognized == .skip)
            #expect(IPv6Option.unknown(type: 0x8a, data: []).actionIfUnrecognized == .discardAndSendICMP)
            #expect(IPv6Option.unknown(type: 0xc2, data: []).actionIfUnrecognized == .discardAndSendICMPUnlessMulticast)
            #expect(IPv6Option.unknown(type: 0x7f, data: []).actionIfUnrecognized == .discard)
            #expect(IPv6Option.unknown(type: 0xff, data: []).actionIfUnrecognized == .discardAndSendICMPUnlessMulticast)
            #expect(!IPv6Option.pad1.isMutableInTransit && !IPv6Option.padN(totalLength: 3).isMutableInTransit)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 8)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Self.bytes)
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6 Destination Options", need: 8, have: 5)) {
                try IPv6ExtensionHeader.parse(.destinationOptions, bytes: Self.bytes[0..<5])
            }
            // Hdr Ext Len 1 announces 16 bytes.
            var longer = Self.bytes
            longer[1] = 1
            #expect(throws: WireError.truncated("IPv6 Options", need: 16, have: 8)) {
                try IPv6OptionsHeader.parse(longer)
            }
        }

        @Test func parse() throws {
            #expect(try IPv6OptionsHeader.parse(Self.bytes) == Self.header)
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Self.bytes)
            var short = [UInt8](repeating: 0, count: 4)
            #expect(throws: WireError.bufferTooShort("IPv6 Options", need: 8, have: 4)) {
                try Self.header.emit(into: &short[...])
            }
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 8)
        }

        @Test func badOptions() throws {
            let layer = "IPv6 Options"
            let cases: [(String, WireError)] = [
                ("1100 01020001 0000", .badValue(layer, "")),          // PadN with non-zero data
                ("1101 0000000000000000 000000000000", .badValue(layer, "")), // 14 bytes of Pad1, over 7
                ("1100 0106000000000000", .badLength(layer, "")),      // PadN of 8 runs past the header
                ("1100 01020000 00 3e", .badLength(layer, "")),        // last option has no length byte
                ("1100 0503000000 00", .badLength(layer, "")),         // router alert with 3 data bytes
                ("1100 3e05 01020304", .badLength(layer, "")),         // unknown option overruns by one
            ]
            for (text, error) in cases {
                let bytes = hex(text)
                #expect(throws: error, "\(text)") { try IPv6OptionsHeader.parse(bytes) }
            }
            // A run of exactly seven padding bytes is accepted.
            let seven = hex("1101 01050000000000 3e050000000000")
            #expect(try IPv6OptionsHeader.parse(seven).options == [.padN(totalLength: 7),
                                                                   .unknown(type: 0x3e, data: [0, 0, 0, 0, 0])])
        }

        @Test func emitRejectsWhatParseWouldNot() {
            let cases: [(IPv6OptionsHeader, WireError)] = [
                (IPv6OptionsHeader(nextHeader: .udp, options: [.pad1]), .badLength("IPv6 Options", "")),
                (IPv6OptionsHeader(nextHeader: .udp, options: [.unknown(type: 5, data: [0, 0]), .padN(totalLength: 2)]),
                 .badValue("IPv6 Options", "")),
                (IPv6OptionsHeader(nextHeader: .udp, options: [.padN(totalLength: 1)] + IPv6Option.padding(5)),
                 .badLength("IPv6 Options", "")),
                (IPv6OptionsHeader(nextHeader: .udp, options: IPv6Option.padding(6) + IPv6Option.padding(8)),
                 .badValue("IPv6 Options", "")),
                (IPv6OptionsHeader(nextHeader: .udp,
                                   options: [.unknown(type: 0x3e, data: .init(repeating: 0, count: 256))]),
                 .badLength("IPv6 Options", "")),
            ]
            for (header, error) in cases {
                var buffer = [UInt8](repeating: 0, count: 4096)
                #expect(throws: error, "\(header)") { try header.emit(into: &buffer[...]) }
            }
        }
    }
}

// MARK: - Routing

extension IPv6Tests {
    @Suite struct Routing0 {
        static let bytes = extensionBytes(routing0, length: 40)
        static let header = IPv6RoutingHeader.makeSourceRoute(nextHeader: .udp, segmentsLeft: 2, addresses: [aB, a2])

        @Test func deconstruct() throws {
            let packet = try IPv6Packet(routing0[...])
            let chain = try packet.extensionChain()
            #expect(chain.headers == [.routing(Self.header)])
            #expect(chain.upperLayerOffset == 40)
            guard case .routing(let rh) = chain.headers[0] else { Issue.record("not routing"); return }
            #expect(rh.routingType == 0 && rh.segmentsLeft == 2)
            #expect(rh.addresses == [aB, a2])
            #expect(rh.finalDestination() == a2)
            #expect(rh.rpl == nil && rh.segmentRouting == nil)
            // At the final destination: DA 2001:db8::2, the list holds the hops visited, Segments Left 0.
            let final = try #require(rh.atFinalDestination(currentDestination: packet.destination))
            #expect(final.destination == a2)
            #expect(final.header.segmentsLeft == 0)
            #expect(final.header.addresses == [aA, aB])
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 40)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Self.bytes)
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6 Routing", need: 40, have: 39)) {
                try IPv6RoutingHeader.parse(Self.bytes[0..<39])
            }
        }

        @Test func parse() throws {
            #expect(try IPv6RoutingHeader.parse(Self.bytes) == Self.header)
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Self.bytes)
            var short = [UInt8](repeating: 0, count: 39)
            #expect(throws: WireError.bufferTooShort("IPv6 Routing", need: 40, have: 39)) {
                try Self.header.emit(into: &short[...])
            }
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 40)
        }

        @Test func badValues() throws {
            var tooManyLeft = Self.bytes
            tooManyLeft[3] = 3
            #expect(throws: WireError.badValue("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(tooManyLeft) }
            // Hdr Ext Len 3: 24 bytes of addresses, not whole addresses.
            var odd = Array(Self.bytes[0..<32])
            odd[1] = 3
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(odd) }
            // Emit checks the same: data not filling 8-byte units.
            var ragged = Self.header
            ragged.data.removeLast()
            var buffer = [UInt8](repeating: 0, count: 64)
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try ragged.emit(into: &buffer[...]) }
        }
    }

    @Suite struct Routing2 {
        static let bytes = extensionBytes(routing2, length: 24)
        static let header = IPv6RoutingHeader.makeHomeAddress(nextHeader: .udp, homeAddress: a4)

        @Test func deconstruct() throws {
            let packet = try IPv6Packet(routing2[...])
            #expect(packet.destination == aC0A)
            let chain = try packet.extensionChain()
            guard case .routing(let rh) = chain.headers.first else { Issue.record("not routing"); return }
            #expect(rh.routingType == 2 && rh.segmentsLeft == 1)
            #expect(rh.addresses == [a4])
            #expect(rh.finalDestination() == a4)
            let final = try #require(rh.atFinalDestination(currentDestination: packet.destination))
            #expect(final.destination == a4)
            #expect(final.header.addresses == [aC0A])
            #expect(final.header.segmentsLeft == 0)
            // The final form serialises (AH covers it).
            #expect(try IPv6RoutingHeader.parse(final.header.serialized()) == final.header)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 24)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Self.bytes)
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6 Routing", need: 24, have: 23)) {
                try IPv6RoutingHeader.parse(Self.bytes[0..<23])
            }
        }

        @Test func parse() throws {
            #expect(try IPv6RoutingHeader.parse(Self.bytes) == Self.header)
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Self.bytes)
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 24)
        }

        @Test func badValues() throws {
            // Two addresses (Hdr Ext Len 4) in a type 2 header.
            let twoAddresses = hex("11040201 00000000") + a4.bytes + a2.bytes
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(twoAddresses) }
            let twoBuilt = IPv6RoutingHeader(nextHeader: .udp, routingType: 2, segmentsLeft: 1,
                                             data: Array(twoAddresses[4...]))
            var buffer = [UInt8](repeating: 0, count: 64)
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try twoBuilt.emit(into: &buffer[...]) }
            var leftTwo = Self.bytes
            leftTwo[3] = 2
            #expect(throws: WireError.badValue("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(leftTwo) }
        }
    }

    @Suite struct Routing3 {
        static let bytes = extensionBytes(routing3, length: 16)
        static let header = IPv6RoutingHeader(nextHeader: .udp, routingType: 3, segmentsLeft: 2,
                                              data: hex("ec200000 000b 00020002 0000"))

        @Test func deconstruct() throws {
            let packet = try IPv6Packet(routing3[...])
            let chain = try packet.extensionChain()
            #expect(chain.upperLayerProtocol == .udp && chain.upperLayerOffset == 16)
            guard case .routing(let rh) = chain.headers.first else { Issue.record("not routing"); return }
            let rpl = try #require(rh.rpl)
            #expect(rpl.cmprI == 14 && rpl.cmprE == 12 && rpl.pad == 2)
            #expect(rpl.compressedAddresses == [[0x00, 0x0b], [0x00, 0x02, 0x00, 0x02]])
            #expect(rpl.addresses(prefixFrom: packet.destination) == [aB, IPv6Address("2001:db8::2:2")!])
            #expect(rh.addresses == nil && rh.finalDestination() == nil && rh.segmentRouting == nil)
            #expect(rh.atFinalDestination(currentDestination: packet.destination) == nil)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 16)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Self.bytes)
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6 Routing", need: 16, have: 15)) {
                try IPv6RoutingHeader.parse(Self.bytes[0..<15])
            }
        }

        @Test func parse() throws {
            #expect(try IPv6RoutingHeader.parse(Self.bytes) == Self.header)
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Self.bytes)
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 16)
        }

        @Test func badValues() throws {
            // Pad 3 leaves 5 bytes for the addresses, which CmprI 14 / CmprE 12 cannot divide up.
            var pad3 = Self.bytes
            pad3[5] = 0x30
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(pad3) }
            // No addresses at all: Hdr Ext Len 0 has no room for Address[n].
            let empty = hex("11000302 00000000")
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(empty) }
            // Full addresses (CmprI = CmprE = 0): n = 1 here, so Segments Left 2 is too many.
            let full = hex("11020301 00000000") + aB.bytes
            #expect(try IPv6RoutingHeader.parse(full).rpl?.addresses(prefixFrom: aA) == [aB])
            var fullLeft2 = full
            fullLeft2[3] = 2
            #expect(throws: WireError.badValue("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(fullLeft2) }
        }
    }

    @Suite struct Routing4 {
        static let bytes = extensionBytes(routing4, length: 72)
        static let tlvBytes = hex("7c03010203 00 040100 04050000000000")
        static let header = IPv6RoutingHeader.makeSegmentRouting(nextHeader: .udp, segmentsLeft: 2, tag: 0x1234,
                                                                 segments: [a2, aB, aA], tlvBytes: tlvBytes)

        @Test func deconstruct() throws {
            let packet = try IPv6Packet(routing4[...])
            let chain = try packet.extensionChain()
            #expect(chain.upperLayerProtocol == .udp && chain.upperLayerOffset == 72)
            guard case .routing(let rh) = chain.headers.first else { Issue.record("not routing"); return }
            let srh = try #require(rh.segmentRouting)
            #expect(srh.lastEntry == 2 && srh.flags == 0 && srh.tag == 0x1234)
            #expect(srh.segments == [a2, aB, aA])
            typealias TLV = IPv6RoutingHeader.SegmentRoutingTLV
            #expect(srh.tlvs == [TLV(type: 0x7c, value: [1, 2, 3]), TLV(type: 0, value: []), TLV(type: 4, value: [0]),
                                 TLV(type: 4, value: [0, 0, 0, 0, 0])])
            #expect(rh.addresses == [a2, aB, aA])
            #expect(rh.finalDestination() == a2)
            let final = try #require(rh.atFinalDestination(currentDestination: packet.destination))
            #expect(final.destination == a2)
            #expect(final.header.segmentsLeft == 0)
            #expect(final.header.data == rh.data)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 72)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Self.bytes)
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6 Routing", need: 72, have: 71)) {
                try IPv6RoutingHeader.parse(Self.bytes[0..<71])
            }
        }

        @Test func parse() throws {
            #expect(try IPv6RoutingHeader.parse(Self.bytes) == Self.header)
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Self.bytes)
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 72)
        }

        @Test func badValues() throws {
            var lastEntry4 = Self.bytes
            lastEntry4[4] = 4  // 5 segments need 80 bytes; the header has 64 after the first 8
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(lastEntry4) }
            var left4 = Self.bytes
            left4[3] = 4  // over Last Entry + 1
            #expect(throws: WireError.badValue("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(left4) }
            var left3 = Self.bytes
            left3[3] = 3  // Last Entry + 1 is allowed (RFC 8754 §4.3.1.1)
            #expect(try IPv6RoutingHeader.parse(left3).segmentsLeft == 3)
            var tlvOverrun = Self.bytes
            tlvOverrun[66] = 6  // the last PadN claims 6 bytes, 5 remain
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try IPv6RoutingHeader.parse(tlvOverrun) }
            // Too many segments for a header: emit refuses.
            let huge = IPv6RoutingHeader.makeSegmentRouting(nextHeader: .udp, segmentsLeft: 0,
                                                            segments: .init(repeating: aA, count: 128))
            var buffer = [UInt8](repeating: 0, count: 4096)
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try huge.emit(into: &buffer[...]) }
            let none = IPv6RoutingHeader.makeSegmentRouting(nextHeader: .udp, segmentsLeft: 0, segments: [],
                                                            tlvBytes: [0, 0, 0, 0, 0, 0, 0, 0])
            #expect(throws: WireError.badLength("IPv6 Routing", "")) { try none.emit(into: &buffer[...]) }
        }

        @Test func unknownTypeIsOpaque() throws {
            let bytes = hex("3b01fe07 0102030405060708090a0b0c")
            let rh = try IPv6RoutingHeader.parse(bytes)
            #expect(rh.routingType == 0xfe && rh.segmentsLeft == 7 && rh.nextHeader == .noNextHeader)
            #expect(rh.data == Array(bytes[4...]))
            #expect(rh.addresses == nil && rh.finalDestination() == nil)
            #expect(try rh.serialized() == bytes)
        }
    }
}

// MARK: - Fragment

extension IPv6Tests {
    @Suite struct Fragment {
        static let bytes = extensionBytes(fragment, length: 8)
        static let header = IPv6FragmentHeader(nextHeader: .udp, fragmentOffset: 0, moreFragments: true,
                                               identification: 0xdead_beef)
        static let later = IPv6FragmentHeader(nextHeader: .udp, fragmentOffset: 2, moreFragments: false,
                                              identification: 0xdead_beef)

        @Test func deconstruct() throws {
            let first = try IPv6Packet(fragment[...]).extensionChain()
            #expect(first.headers == [.fragment(Self.header)])
            #expect(first.upperLayerProtocol == .udp && first.upperLayerOffset == 8)
            #expect(!first.isNonFirstFragment && first.fragmentHeader == Self.header)
            // A later fragment: the walk stops after the Fragment header; what follows is fragment data.
            let next = try IPv6Packet(laterFragment[...]).extensionChain()
            #expect(next.headers == [.fragment(Self.later)])
            #expect(next.isNonFirstFragment)
            #expect(next.upperLayerProtocol == .udp && next.upperLayerOffset == 8)
        }

        @Test func construct() throws {
            var buffer = [UInt8](repeating: 0xa5, count: 8)
            try Self.header.emit(into: &buffer[...])
            #expect(buffer == Self.bytes)
            try Self.later.emit(into: &buffer[...])
            #expect(buffer == extensionBytes(laterFragment, length: 8))
        }

        @Test func truncated() {
            #expect(throws: WireError.truncated("IPv6 Fragment", need: 8, have: 7)) {
                try IPv6FragmentHeader.parse(Self.bytes[0..<7])
            }
        }

        @Test func parse() throws {
            #expect(try IPv6FragmentHeader.parse(Self.bytes) == Self.header)
            // Reserved fields are kept, not rejected (RFC 8200 §4.5: ignored on reception), and round-trip.
            let reserved = hex("11ff fff9 00000001")
            let h = try IPv6FragmentHeader.parse(reserved)
            #expect(h.reserved == 0xff && h.reserved2 == 0 && h.fragmentOffset == 0x1fff && h.moreFragments)
            let allBits = hex("11ff ffff 00000001")
            let h2 = try IPv6FragmentHeader.parse(allBits)
            #expect(h2.reserved2 == 3)
            #expect(try h2.serialized() == allBits)
        }

        @Test func emit() throws {
            #expect(try Self.header.serialized() == Self.bytes)
            var wide = Self.header
            wide.fragmentOffset = 0x2000
            var buffer = [UInt8](repeating: 0, count: 8)
            #expect(throws: WireError.badValue("IPv6 Fragment", "")) { try wide.emit(into: &buffer[...]) }
            wide = Self.header
            wide.reserved2 = 4
            #expect(throws: WireError.badValue("IPv6 Fragment", "")) { try wide.emit(into: &buffer[...]) }
            var short = [UInt8](repeating: 0, count: 7)
            #expect(throws: WireError.bufferTooShort("IPv6 Fragment", need: 8, have: 7)) {
                try Self.header.emit(into: &short[...])
            }
        }

        @Test func bufferLength() {
            #expect(Self.header.bufferLength == 8)
        }
    }
}

// MARK: - The chain

extension IPv6Tests {
    @Suite struct Chain {
        static let expected = IPv6ExtensionChain(
            headers: [
                .hopByHop(IPv6OptionsHeader(nextHeader: .destinationOptions,
                                            options: [.routerAlert(value: 0), .padN(totalLength: 2)])),
                .destinationOptions(IPv6OptionsHeader(nextHeader: .routing, options: [.padN(totalLength: 6)])),
                .routing(IPv6RoutingHeader.makeSourceRoute(nextHeader: .fragment, segmentsLeft: 1, addresses: [a2])),
                .fragment(IPv6FragmentHeader(nextHeader: .destinationOptions, fragmentOffset: 0, moreFragments: false,
                                             identification: 7)),
                .destinationOptions(IPv6OptionsHeader(nextHeader: .udp,
                                                      options: [.unknown(type: 0x3e, data: [1, 2, 3]), .pad1])),
            ],
            upperLayerProtocol: .udp, upperLayerOffset: 56)

        @Test func walk() throws {
            let chain = try IPv6Packet(IPv6Tests.chain[...]).extensionChain()
            #expect(chain == Self.expected)
            #expect(chain.headers.map(\.protocolNumber) == [.hopByHop, .destinationOptions, .routing, .fragment,
                                                             .destinationOptions])
            #expect(chain.headers.map(\.nextHeader) == [.destinationOptions, .routing, .fragment, .destinationOptions,
                                                         .udp])
            #expect(!chain.isNonFirstFragment)
        }

        @Test func emitRebuildsThePayload() throws {
            var out: [UInt8] = []
            for header in Self.expected.headers {
                var buffer = [UInt8](repeating: 0xa5, count: header.bufferLength)
                try header.emit(into: &buffer[...])
                out += buffer
            }
            #expect(out == Array(IPv6Tests.chain[40..<96]))
        }

        @Test func everyProperPrefixOfTheHeadersFails() throws {
            let payload = IPv6Tests.chain[40...]
            for n in 0..<Self.expected.upperLayerOffset {
                #expect(throws: WireError.self, "prefix \(n)") {
                    try IPv6ExtensionChain.walk(firstHeader: .hopByHop, bytes: payload.prefix(n))
                }
            }
            // With the headers whole, the walk does not look at the upper layer.
            #expect(try IPv6ExtensionChain.walk(firstHeader: .hopByHop, bytes: payload.prefix(56)) == Self.expected)
        }

        @Test func hopByHopOnlyFirst() {
            // Destination Options, then a Hop-by-Hop header.
            let bytes = hex("0000010400000000 3b00010400000000")
            #expect(throws: WireError.badValue("IPv6 Hop-by-Hop", "")) {
                try IPv6ExtensionChain.walk(firstHeader: .destinationOptions, bytes: bytes[...])
            }
        }

        @Test func lengthIsBounded() throws {
            // n Destination Options headers of 8 bytes each, the last saying No Next Header.
            func chain(_ n: Int) -> [UInt8] {
                (0..<n).flatMap { i in [i == n - 1 ? 59 : 60, 0, 1, 4, 0, 0, 0, 0] as [UInt8] }
            }
            let limit = IPv6ExtensionChain.maximumHeaders
            let atLimit = try IPv6ExtensionChain.walk(firstHeader: .destinationOptions, bytes: chain(limit)[...])
            #expect(atLimit.headers.count == limit)
            #expect(atLimit.upperLayerProtocol == .noNextHeader && atLimit.upperLayerOffset == 8 * limit)
            #expect(throws: WireError.limitExceeded("IPv6 extension headers", "")) {
                try IPv6ExtensionChain.walk(firstHeader: .destinationOptions, bytes: chain(limit + 1)[...])
            }
        }

        @Test func stopsAtTheUpperLayer() throws {
            for proto: IPProtocol in [.esp, .ah, .tcp, .udp, .icmpv6, .noNextHeader, .ipv4, .ipv6, IPProtocol(253)] {
                let chain = try IPv6ExtensionChain.walk(firstHeader: proto, bytes: [1, 2, 3][...])
                #expect(chain.headers.isEmpty && chain.upperLayerProtocol == proto && chain.upperLayerOffset == 0)
            }
            #expect(throws: WireError.badValue("IPv6 extension header", "")) {
                try IPv6ExtensionHeader.parse(.udp, bytes: [0, 0, 0, 0, 0, 0, 0, 0][...])
            }
        }
    }
}

// MARK: - Every packet: prefixes and round trips

extension IPv6Tests {
    @Test func everyProperPrefixFails() {
        for packet in Self.packets {
            for n in 0..<packet.count {
                #expect(throws: WireError.self) { try IPv6Packet(packet[0..<n]) }
                #expect(throws: WireError.self) { try IPv6Header.parse(packet[0..<n]) }
            }
        }
        // Each extension header alone.
        let headers: [(IPProtocol, [UInt8])] = [
            (.hopByHop, HopByHop.bytes), (.destinationOptions, DestinationOptions.bytes), (.routing, Routing0.bytes),
            (.routing, Routing2.bytes), (.routing, Routing3.bytes), (.routing, Routing4.bytes),
            (.fragment, Fragment.bytes),
        ]
        for (proto, bytes) in headers {
            for n in 0..<bytes.count {
                #expect(throws: WireError.self) { try IPv6ExtensionHeader.parse(proto, bytes: bytes[0..<n]) }
            }
        }
    }

    @Test func roundTrip() throws {
        for packet in Self.packets {
            let view = try IPv6Packet(packet[...])
            let header = IPv6Header(view)
            #expect(try header.serialized() == Array(packet[0..<40]))
            let chain = try view.extensionChain()
            var rebuilt = try header.serialized()
            for h in chain.headers {
                var buffer = [UInt8](repeating: 0, count: h.bufferLength)
                try h.emit(into: &buffer[...])
                rebuilt += buffer
                #expect(try IPv6ExtensionHeader.parse(h.protocolNumber, bytes: buffer[...]) == h)
            }
            rebuilt += view.payload.dropFirst(chain.upperLayerOffset)
            #expect(rebuilt == packet)
            let again = try IPv6Packet(rebuilt[...])
            #expect(IPv6Header(again) == header)
            #expect(try again.extensionChain() == chain)
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
            return (0..<Int.random(in: 0...120, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
        }
        var bytes = seeds[Int.random(in: 0..<seeds.count, using: &self)]
        let interesting: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x2b, 0x2c, 0x3b, 0x3c, 0x60, 0x80, 0xc2, 0xff]
        for _ in 0..<Int.random(in: 1...4, using: &self) where !bytes.isEmpty {
            // Mostly after the fixed header, where the extension headers are.
            let low = bytes.count > 40 && Int.random(in: 0..<4, using: &self) != 0 ? 40 : 0
            let i = Int.random(in: low..<bytes.count, using: &self)
            bytes[i] = Bool.random(using: &self) ? UInt8.random(in: 0...255, using: &self)
                : interesting[Int.random(in: 0..<interesting.count, using: &self)]
        }
        switch Int.random(in: 0..<4, using: &self) {
        case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &self)))
        case 1: bytes += (0..<Int.random(in: 1...16, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
        default: break
        }
        return bytes
    }
}

extension IPv6Tests {
    /// Re-emits `header` and checks it gives back `source`'s first `bufferLength` bytes (the fuzzing oracle).
    private static func checkReemits(_ header: IPv6ExtensionHeader, from source: ArraySlice<UInt8>) {
        var out = [UInt8](repeating: 0xa5, count: header.bufferLength)
        do {
            try header.emit(into: &out[...])
            #expect(out[...] == source.prefix(header.bufferLength))
        } catch {
            Issue.record("a parsed \(header.protocolNumber) header failed to emit: \(error)")
        }
    }

    /// Every parse entry point on 10 000 hostile inputs: throwing is fine, trapping is not; and whatever parses must
    /// re-serialise to the same bytes.
    @Test func hostileInputsNeverTrap() {
        var rng = SplitMix64(state: 0x1957_0c4e_2024_0006)
        let extensionProtocols: [IPProtocol] = [.hopByHop, .routing, .fragment, .destinationOptions]
        var parsedPackets = 0, parsedHeaders = 0, walkedChains = 0
        for _ in 0..<10_000 {
            let input = rng.input(from: Self.packets)
            if let view = try? IPv6Packet(input[...]) {
                parsedPackets += 1
                _ = (view.version, view.trafficClass, view.dscp, view.ecn, view.flowLabel, view.payloadLength)
                _ = (view.nextHeader, view.hopLimit, view.source, view.destination, view.packet, view.payload)
                #expect((try? IPv6Header(view).serialized())?[...] == input.prefix(40))
                _ = try? view.extensionChain()
            }
            // The extension headers, as if the fixed header's Next Header were any of the four (or anything).
            let payload = input.dropFirst(40)
            let first = Int.random(in: 0..<5, using: &rng) == 0 ? IPProtocol(UInt8.random(in: 0...255, using: &rng))
                : extensionProtocols[Int.random(in: 0..<4, using: &rng)]
            if let chain = try? IPv6ExtensionChain.walk(firstHeader: first, bytes: payload) {
                walkedChains += 1
                var offset = 0
                for header in chain.headers {
                    Self.checkReemits(header, from: payload.dropFirst(offset))
                    offset += header.bufferLength
                }
                #expect(offset == chain.upperLayerOffset)
                #expect(chain.headers.count <= IPv6ExtensionChain.maximumHeaders)
                _ = (chain.fragmentHeader, chain.isNonFirstFragment)
            }
            for proto in extensionProtocols {
                if let header = try? IPv6ExtensionHeader.parse(proto, bytes: payload) {
                    parsedHeaders += 1
                    Self.checkReemits(header, from: payload)
                    if case .routing(let rh) = header {
                        _ = (rh.addresses, rh.rpl, rh.segmentRouting, rh.finalDestination())
                        _ = rh.rpl?.addresses(prefixFrom: Self.aA)
                        if let final = rh.atFinalDestination(currentDestination: Self.aA) {
                            #expect(final.header.segmentsLeft == 0)
                            // The final-destination form is itself a valid header.
                            var out = [UInt8](repeating: 0, count: final.header.bufferLength)
                            do {
                                try final.header.emit(into: &out[...])
                                #expect(try IPv6RoutingHeader.parse(out) == final.header)
                            } catch {
                                Issue.record("a final-destination form failed: \(error)")
                            }
                        }
                    }
                    if case .hopByHop(let h) = header {
                        _ = h.options.map { ($0.type, $0.isMutableInTransit, $0.actionIfUnrecognized) }
                    }
                }
            }
            _ = try? IPv6OptionsHeader.parse(input[...])
            _ = try? IPv6RoutingHeader.parse(input[...])
            _ = try? IPv6FragmentHeader.parse(input[...])
        }
        // Not vacuous: a fair share of the mutants still parse.
        #expect(parsedPackets > 500)
        #expect(walkedChains > 500)
        #expect(parsedHeaders > 500)
    }
}

extension SplitMix64 {
    mutating func bytes(_ count: ClosedRange<Int>) -> [UInt8] {
        (0..<Int.random(in: count, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    mutating func address() -> IPv6Address { IPv6Address(high: next(), low: next()) }

    mutating func ipv6Option() -> IPv6Option {
        switch Int.random(in: 0..<4, using: &self) {
        case 0: .pad1
        case 1: .padN(totalLength: Int.random(in: 0...9, using: &self))
        case 2: .routerAlert(value: UInt16.random(in: 0...2, using: &self))
        default: .unknown(type: UInt8.random(in: 0...255, using: &self), data: bytes(0...6))
        }
    }

    /// A routing header of any of the typed layouts, built near the edges of what is valid.
    mutating func routingHeader() -> IPv6RoutingHeader {
        let next = IPProtocol(UInt8.random(in: 0...255, using: &self))
        let left = UInt8.random(in: 0...4, using: &self)
        let addresses = (0..<Int.random(in: 0...3, using: &self)).map { _ in address() }
        switch Int.random(in: 0..<5, using: &self) {
        case 0: return .makeSourceRoute(nextHeader: next, segmentsLeft: left, addresses: addresses)
        case 1: return .makeHomeAddress(nextHeader: next, homeAddress: address(),
                                        segmentsLeft: UInt8.random(in: 0...2, using: &self))
        case 2:
            let tlvs: [[UInt8]] = [[], [0, 0, 0, 0, 0, 0, 0, 0], [4, 6, 0, 0, 0, 0, 0, 0], [0x7c, 2, 1, 2, 0, 4, 0, 0],
                                   [4, 7, 0, 0, 0, 0, 0, 0], [5]]
            return .makeSegmentRouting(nextHeader: next, segmentsLeft: left,
                                       flags: UInt8.random(in: 0...255, using: &self),
                                       tag: UInt16.random(in: 0...0xffff, using: &self), segments: addresses,
                                       tlvBytes: tlvs[Int.random(in: 0..<tlvs.count, using: &self)])
        case 3:
            // RPL: compression nibbles and pad drawn small, the addresses as random bytes of a plausible size.
            let fixed: [UInt8] = [UInt8.random(in: 0...255, using: &self), UInt8.random(in: 0...3, using: &self) << 4,
                                  0, 0]
            let addressBytes = [UInt8](repeating: 0x20, count: 8 * Int.random(in: 0...4, using: &self))
            return IPv6RoutingHeader(nextHeader: next, routingType: 3, segmentsLeft: left, data: fixed + addressBytes)
        default:
            let data = [UInt8](repeating: 7, count: 4 + 8 * Int.random(in: 0...2, using: &self))
            return IPv6RoutingHeader(nextHeader: next, routingType: UInt8.random(in: 0...255, using: &self),
                                     segmentsLeft: left, data: data)
        }
    }
}

extension IPv6Tests {
    /// The converse of the fuzzing oracle: whatever `emit` accepts, `parse` gives back unchanged.
    @Test func whateverEmitAcceptsParsesBack() throws {
        var rng = SplitMix64(state: 0x1957_0c4e_2024_0066)
        var accepted = (options: 0, routing: 0, fragment: 0, fixed: 0)
        for _ in 0..<5_000 {
            let options = IPv6OptionsHeader(nextHeader: IPProtocol(UInt8.random(in: 0...255, using: &rng)),
                                            options: (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                                                rng.ipv6Option()
                                            })
            let candidates: [IPv6OptionsHeader] = [
                options, .padded(nextHeader: options.nextHeader, options: options.options),
            ]
            for header in candidates {
                var bytes = [UInt8](repeating: 0xa5, count: header.bufferLength)
                guard (try? header.emit(into: &bytes[...])) != nil else { continue }
                accepted.options += 1
                #expect(try IPv6OptionsHeader.parse(bytes) == header)
            }

            let routing = rng.routingHeader()
            var bytes = [UInt8](repeating: 0xa5, count: routing.bufferLength)
            if (try? routing.emit(into: &bytes[...])) != nil {
                accepted.routing += 1
                #expect(try IPv6RoutingHeader.parse(bytes) == routing)
            }

            let fragment = IPv6FragmentHeader(
                nextHeader: IPProtocol(UInt8.random(in: 0...255, using: &rng)),
                reserved: UInt8.random(in: 0...255, using: &rng),
                fragmentOffset: UInt16.random(in: 0...0x2000, using: &rng),
                reserved2: UInt8.random(in: 0...4, using: &rng), moreFragments: Bool.random(using: &rng),
                identification: UInt32(truncatingIfNeeded: rng.next()))
            var fragmentBytes = [UInt8](repeating: 0xa5, count: 8)
            if (try? fragment.emit(into: &fragmentBytes[...])) != nil {
                accepted.fragment += 1
                #expect(try IPv6FragmentHeader.parse(fragmentBytes) == fragment)
            }

            let fixed = IPv6Header(trafficClass: UInt8.random(in: 0...255, using: &rng),
                                   flowLabel: UInt32.random(in: 0...0x10_0000, using: &rng), payloadLength: 0,
                                   nextHeader: IPProtocol(UInt8.random(in: 1...255, using: &rng)),
                                   hopLimit: UInt8.random(in: 0...255, using: &rng), source: rng.address(),
                                   destination: rng.address())
            var fixedBytes = [UInt8](repeating: 0xa5, count: 40)
            if (try? fixed.emit(into: &fixedBytes[...])) != nil {
                accepted.fixed += 1
                #expect(try IPv6Header.parse(fixedBytes) == fixed)
            }
        }
        #expect(accepted.options > 500 && accepted.routing > 500 && accepted.fragment > 500 && accepted.fixed > 500)
    }
}
